"""WeChat Android: `MicroMsg/<32 hex>/EnMicroMsg.db` (SQLCipher), read with the examiner's key.

Sources (facts only, read for this module; no sample in the corpus):
- Forensic Focus, "How To Decrypt WeChat EnMicroMsg.db Database?" (2014,
  https://articles.forensicfocus.com/2014/10/01/decrypt-wechat-enmicromsgdb-database/), repeated by
  Acquire Forensics (2015, https://acquireforensics.com/blog/wechat-forensics-analysis.html): the
  store is SQLCipher with `cipher_use_hmac = off`, `cipher_page_size = 1024`, `kdf_iter = 4000`
  (SQLCipher 1.x compatible, so PBKDF2-HMAC-SHA1); the key is the first 7 characters of the
  lowercase hex MD5 of the device IMEI followed by the account's uin.
- ppwwyyxx/wechat-dump (`decrypt-db.py`, `lib/parser.py`, `lib/msg.py`; README last verified with
  the WeChat of 2025-01-01): the same key rule; decryption with SQLCipher 4 `cipher_compatibility = 1`;
  the user folder is MD5("mm" + uin); `message` columns `msgSvrId`, `type`, `isSend`, `createTime`
  (Unix milliseconds), `talker`, `content`, `imgPath`; group conversations have a `talker` ending
  in `@chatroom`, and their incoming `content` starts with the sender's id and ":\n"; names from
  `rcontact` (`username`, `conRemark` before `nickname`); the own account id is `userinfo` id 2;
  type codes 1 text, 3 image, 34 voice, 42 contact card, 43 video, 47 emoji, 48 location,
  49 link/file (app message), 50 VoIP call, 62 short video, 10000 system, 1048625 custom emoji.
- BlueMatthew/WechatExporter (`MessageParser.cpp`): 10002 is a recalled message (system).

The key comes from `--app-key wechat=<7 hex>`; or, with `--app-key wechat_imei=...` and
`--app-key wechat_uin=...`, it is derived here by the rule above (`supplied_key`). Not confirmed from any public
source: `isSend` values other than 0 (received) and 1 (sent); whether `createTime` is the send or
the receive time of an incoming message; the `status` codes; what `imgPath` names for each type
(kept as stored in `details`). iOS WeChat is `wechat_ios.py`.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from typing import Iterator, Mapping

from manifests.records import Message, Participant
from parsers.artefact import Artefact
from parsers.chat._rows import side_first, side_read, text_value
from parsers.chat._sqlcipher import read_decrypted
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

KEY = re.compile(r"^[0-9A-Fa-f]{7}$")
IMEI_OR_UIN = re.compile(r"^[0-9A-Za-z+-]{1,64}$")
GROUP_SUFFIX = "@chatroom"
GROUP_SENDER = re.compile(r"^(?P<sender>[^\s:]{1,128}):\n")

# Type code -> (kind, label): wechat-dump lib/msg.py and WechatExporter MessageParser.cpp.
TYPES: dict[int, tuple[str, str]] = {
    1: ("text", "text"), 3: ("media", "image"), 34: ("media", "voice"), 42: ("contact", "contact card"),
    43: ("media", "video"), 47: ("sticker", "emoji"), 48: ("location", "location"),
    49: ("unknown", "app message: link, file or mini program"), 50: ("call", "voip call"), 62: ("media", "short video"),
    10000: ("system", "system"), 10002: ("system", "recalled"), 1048625: ("sticker", "custom emoji"),
}

# The v1-compatible settings, first as SQLCipher 4's compatibility switch, then spelled out.
ATTEMPTS_PRAGMAS = (
    ("sqlcipher 1 compatibility", ("PRAGMA cipher_compatibility = 1",)),
    ("page 1024, kdf_iter 4000, no hmac", ("PRAGMA cipher_page_size = 1024", "PRAGMA kdf_iter = 4000",
                                           "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA1", "PRAGMA cipher_use_hmac = OFF")),
)

ANDROID = Variant(
    "android_enmicromsg",
    {"message": ("msgId", "isSend", "createTime", "talker", "content")},
    {"message": ("type", "msgSvrId", "status", "imgPath")},
)
CONTACTS_SQL = "SELECT username, alias, nickname, conRemark FROM rcontact"
OWNER_SQL = "SELECT value FROM userinfo WHERE id = 2"


class WeChat(SqliteChatParser):
    name = "wechat"
    version = "1"
    app = "WeChat"
    platform = "Android"
    key_name = "wechat"
    paths = ("*/com.tencent.mm/MicroMsg/*/EnMicroMsg.db",)
    variants = (ANDROID,)

    def supplied_key(self, keys: Mapping[str, str]) -> str | None:
        return key_from(keys)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        people = _contacts(database, context)
        owner = _owner(database, people, context)
        sql = variant.select(database, "message", "msgId")
        yield from context.each(database.query(sql), "message", lambda row: self._message(row, people, owner, context), "msgId")

    def parse_encrypted(self, artefact: Artefact, key: str, context: ParseContext) -> Iterator[Message]:
        key = key.strip()
        if not KEY.match(key):
            context.warn("bad_key", f"{artefact.path}: the WeChat key must be 7 hex digits (the first 7 of MD5(IMEI + uin))",
                         severity="error")
            return
        attempts = [(label, (f"PRAGMA key = '{key.lower()}'", *pragmas)) for label, pragmas in ATTEMPTS_PRAGMAS]
        yield from read_decrypted(self, artefact, context, attempts, "EnMicroMsg.db")

    def _message(self, row: sqlite3.Row, people: dict[str, Participant], owner: Participant | None,
                 context: ParseContext) -> Message:
        msg_id = row["msgId"]
        row_id = msg_id if isinstance(msg_id, int) and not isinstance(msg_id, bool) else None  # a hostile copy may type it otherwise
        talker = row["talker"]
        direction = {0: "incoming", 1: "outgoing"}.get(row["isSend"], "unknown")
        body = text_value(row["content"])
        group = isinstance(talker, str) and talker.endswith(GROUP_SUFFIX)
        conversation = _person(people, talker)
        sender, recipients = None, ()
        if direction == "outgoing":
            sender = owner
            recipients = () if group or conversation is None else (conversation,)
        elif group:
            sender, body = split_group_sender(body, people)
        elif direction == "incoming":
            sender = conversation
        kind, details = type_kind(row["type"])
        if row_id is None and msg_id is not None:
            details["msgId"] = str(text_value(msg_id))
        for column in ("msgSvrId", "status", "imgPath"):
            if row[column] is not None and row[column] != "":
                details[column] = str(row[column])
        return Message(
            source_table="message", source_row_id=row_id, conversation_id=talker if isinstance(talker, str) else _text(talker),
            conversation_title=conversation.name if conversation is not None else None, sender=sender, recipients=recipients,
            direction=direction, sent=context.time(row["createTime"], unix_ms, table="message", row_id=row_id, field="createTime"),
            sent_raw=_text(row["createTime"]), body=body, kind=kind, details=details,
        )


def derive_key(imei: str, uin: str) -> str:
    """The documented key: the first 7 hex digits of MD5(IMEI + uin), lowercase."""
    return hashlib.md5((imei + uin).encode("ascii")).hexdigest()[:7]


def key_from(keys: Mapping[str, str]) -> str | None:
    """`wechat` as given, else derived from `wechat_imei` and `wechat_uin` when both look like ids."""
    if "wechat" in keys:
        return keys["wechat"]
    imei, uin = keys.get("wechat_imei", "").strip(), keys.get("wechat_uin", "").strip()
    if IMEI_OR_UIN.match(imei) and IMEI_OR_UIN.match(uin):
        return derive_key(imei, uin)
    return None


def type_kind(code: object) -> tuple[str, dict[str, str]]:
    """The kind of a WeChat type code and the `details` naming it; unlisted or absent codes are `unknown`."""
    if code is None:
        return "unknown", {}
    kind, label = TYPES.get(code, ("unknown", "unlisted")) if isinstance(code, int) else ("unknown", "unlisted")
    return kind, {"type": f"{code} ({label})"}


def split_group_sender(body: str | None, people: dict[str, Participant]) -> tuple[Participant | None, str | None]:
    """An incoming group message's sender from its "<id>:\\n" prefix, and the text after it; else (None, body)."""
    if not isinstance(body, str):
        return None, body
    match = GROUP_SENDER.match(body)
    if match is None:
        return None, body
    return _person(people, match["sender"]), body[match.end():]


def _contacts(database: Database, context: ParseContext) -> dict[str, Participant]:
    if not database.has("rcontact", "username", "alias", "nickname", "conRemark"):
        return {}
    people: dict[str, Participant] = {}
    for row in side_read(database.query(CONTACTS_SQL), "rcontact", context):
        if not isinstance(row["username"], str):
            continue
        name = next((v for v in (row["conRemark"], row["nickname"], row["alias"]) if isinstance(v, str) and v), None)
        people[row["username"]] = Participant(row["username"], name)
    return people


def _owner(database: Database, people: dict[str, Participant], context: ParseContext) -> Participant | None:
    if not database.has("userinfo", "id", "value"):
        return None
    row = side_first(database.query(OWNER_SQL), "userinfo", context)
    if row is None or not isinstance(row["value"], str) or not row["value"]:
        return None
    return people.get(row["value"], Participant(row["value"]))


def _person(people: dict[str, Participant], username: object) -> Participant | None:
    if not isinstance(username, str) or not username:
        return None
    return people.get(username, Participant(username))


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = WeChat()

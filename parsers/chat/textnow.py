"""TextNow: Android `textnow_data.db` (messages and calls in one `messages` table); iOS Core Data account store.

Facts (read for facts only, in these public sources):
- Autopsy `InternalPythonModules/android/textnow.py` (written against TextNow 6.41.0.2,
  https://github.com/sleuthkit/autopsy): the store is `textnow_data.db` of package
  `com.enflick.android.TextNow`; `messages` holds texts and calls, told apart by `message_type`
  (100 and 102 are calls, the module's comment says "audio, video"); `message_direction` 1 is
  incoming, 2 outgoing; `date` is Unix milliseconds; for a call `message_text` is read as its
  duration in seconds; `attach` names an attachment; `read` is the read flag. `contacts`
  (`contact_value`, `contact_name`) names the numbers; `groups` (`contact_value`) and
  `group_members` (`contact_value`, `member_contact_value`) list group conversations, whose
  messages carry the group's `contact_value`.
- ALEAPP `scripts/artifacts/textnow.py` (https://github.com/abrignoni/ALEAPP): the same path,
  tables and direction values (1 incoming, 2 outgoing, any other value reported as stored);
  its notes say the direction mapping was "established through testing" and that `message_text`
  of a call "is not established to hold a duration".
- A public C# test loader quoting the `CREATE TABLE messages` of TextNow 20.21.0.1 on Android 7.0:
  `_id` (integer primary key), `message_id`, `contact_value`, `contact_type`, `contact_name`,
  `message_direction`, `message_type`, `message_text`, `read`, `date`, `state`, `attach`,
  `message_source`, `all_emoji`.

Read here: `_id`, `contact_value`, `message_direction`, `message_text` and `date` are required
(time, body, direction, conversation); every other column is optional (NULL when absent), and
`contacts`/`groups`/`group_members` are used when present. Not confirmed by any source, so kept
raw in details and not interpreted: the other `message_type` values, `state`, `contact_type`,
`message_source`, which of 100/102 is audio or video, and a call's `message_text` (kept as
`details.call_message_text`, not as a duration). The writer of an incoming group message is not
recorded in the columns above, so its sender is left empty. The owner's own number is not in this
database.

TextNow iOS facts (iLEAPP TextNow module `textnow_ios_messages`/`textnow_ios_calls`, by
@AlexisBrignoni, created 2026-09-07, https://github.com/abrignoni/iLEAPP; tested there on
TextNow 20.10.0 / iOS 13.3.1 and TextNow 21.3.0 / iOS 14.3):
- the store is a Core Data database at `Documents/<account id><username>` in the app's data
  container (its name starts with ten digits; the rows live mostly in the `-wal`), told apart
  from other files by its `ZTMOACCOUNTINFO` table;
- `ZTMOINTERACTION` holds messages and calls: `ZLOCALTIMESTAMP` (the message time) and
  `ZREMOTETIMESTAMP` (Core Data seconds, the two can differ by months), `ZDIRECTION` (1 incoming,
  2 outgoing, checked there against author names and the calling library's own history),
  `ZAUTHORNAME` (the writer; none on the owner's rows), `ZCONVERSATION` -> `ZTMOCONVERSATION.Z_PK`,
  `ZCONTENT` (the text; a picture message stores the picture's URL), `ZREAD`, `ZDELETEDSTATE`,
  `ZSTATUS1`, `ZIMAGETYPE`, `ZTHUMBNAILWIDTH`/`ZTHUMBNAILHEIGHT` (set only on picture rows),
  `ZMESSAGEID`, `ZORDERINGID`; a call has `ZCALLID` ("<number>-<Core Data time>"), `ZLENGTH`
  (seconds) and `ZSTATUS`;
- `ZTMOCONVERSATION.ZCONTACTVALUE` -> `ZTMOCONTACTVALUE.Z_PK`; `ZTMOCONTACTVALUE` (`ZCONTACTVALUE` the
  address, `ZCONTACTNAME`, `ZCONTACTISSELF` 1 on the account's own address);
- a picture is cached by SDWebImage in `com.hackemist.SDWebImageCache.default/` under the MD5 hex
  of its URL (SDDiskCacheFileNameForKey), which iLEAPP confirmed on every picture row.
Read here: `Z_PK`, `ZLOCALTIMESTAMP`, `ZDIRECTION`, `ZCONTENT`, `ZCONVERSATION` are required, the
rest optional. No path is declared for iOS (the file is named for the account, and iLEAPP saw
another app's file match the same name pattern): the store is recognised by its schema. Not
confirmed, kept raw: `ZREAD`, `ZDELETEDSTATE` (rows with 2 still held their text), `ZSTATUS1`,
`ZSTATUS`, `ZIMAGETYPE`; the author of an incoming row is a name (sometimes a numeric id), not an
address, so it is the sender's name with no id.
"""

from __future__ import annotations

import hashlib
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import select_by_rowid, side_read, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_ms
from parsers.sqlite_store import Database

DIRECTIONS = {1: "incoming", 2: "outgoing"}
CALL_TYPES = (100, 102)
CONTACTS_SQL = "SELECT contact_value, contact_name FROM contacts"
GROUPS_SQL = 'SELECT contact_value FROM "groups"'  # GROUPS is an SQL keyword (window frames)
MEMBERS_SQL = "SELECT contact_value, member_contact_value FROM group_members ORDER BY rowid"
OPTIONAL_DETAILS = ("message_id", "contact_type", "state", "message_source", "all_emoji")
IOS_DETAILS = ("ZREMOTETIMESTAMP", "ZREAD", "ZDELETEDSTATE", "ZSTATUS1", "ZSTATUS", "ZIMAGETYPE", "ZTHUMBNAILWIDTH",
               "ZTHUMBNAILHEIGHT", "ZMESSAGEID", "ZORDERINGID", "ZCALLID", "ZLENGTH")
IOS_ADDRESSES_SQL = "SELECT Z_PK, ZCONTACTVALUE, ZCONTACTNAME, ZCONTACTISSELF FROM ZTMOCONTACTVALUE ORDER BY Z_PK"
IOS_CONVERSATIONS_SQL = "SELECT Z_PK, ZCONTACTVALUE FROM ZTMOCONVERSATION"
IMAGE_CACHE = "com.hackemist.SDWebImageCache.default"


class TextNow(SqliteChatParser):
    name = "textnow"
    version = "1"
    app = "TextNow"
    platform = "Android/iOS"
    paths = ("*/com.enflick.android.TextNow/databases/textnow_data.db",)
    variants = (
        Variant("android", {"messages": ("_id", "contact_value", "message_direction", "message_text", "date")},
                optional={"messages": ("message_type", "contact_name", "read AS read_flag", "attach", *OPTIONAL_DETAILS)}),
        Variant("ios_core_data", {"ZTMOINTERACTION": ("Z_PK", "ZLOCALTIMESTAMP", "ZDIRECTION", "ZCONTENT", "ZCONVERSATION")},
                optional={"ZTMOINTERACTION": ("ZAUTHORNAME", *IOS_DETAILS)}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "ios_core_data":
            yield from self._ios(database, variant, context)
            return
        names: dict[str, str] = {}
        if database.has("contacts", "contact_value", "contact_name"):
            for row in side_read(database.query(CONTACTS_SQL), "contacts", context):
                if row["contact_value"] is not None and row["contact_name"]:
                    names[text_value(row["contact_value"]) or ""] = text_value(row["contact_name"]) or ""
        groups: set[str] = set()
        if database.has("groups", "contact_value"):
            groups = {text_value(row["contact_value"]) or "" for row in side_read(database.query(GROUPS_SQL), "groups", context)}
        members: dict[str, list[Participant]] = {}
        if database.has("group_members", "contact_value", "member_contact_value"):
            for row in side_read(database.query(MEMBERS_SQL), "group_members", context):
                member = text_value(row["member_contact_value"])
                if member:
                    members.setdefault(text_value(row["contact_value"]) or "", []).append(Participant(member, names.get(member)))
        yield from context.each(database.query(select_by_rowid(variant, database, "messages")), "messages",
                                lambda row: self._message(row, names, groups, members, context), "row_key")

    def _message(self, row: sqlite3.Row, names: dict[str, str], groups: set[str], members: dict[str, list[Participant]],
                 context: ParseContext) -> Message:
        row_id = row["row_key"]
        conversation = text_value(row["contact_value"])
        direction = DIRECTIONS.get(row["message_direction"], "unknown")  # type: ignore[arg-type]
        in_group = conversation in groups
        stored_name = text_value(row["contact_name"]) or None
        title = names.get(conversation or "") or (None if in_group else stored_name)
        partner = Participant(conversation, title) if conversation and not in_group else None
        is_call = row["message_type"] in CALL_TYPES
        details = {"message_direction": str(row["message_direction"])}
        if row["message_type"] is not None:
            details["message_type"] = str(row["message_type"])
        if row["read_flag"] is not None:
            details["read_flag"] = str(row["read_flag"])
        for column in OPTIONAL_DETAILS:
            if row[column] not in (None, ""):
                details[column] = text_value(row[column]) or ""
        if in_group and stored_name:
            details["contact_name"] = stored_name
        body = text_value(row["message_text"])
        if is_call and body is not None:
            details["call_message_text"] = body
        attach = text_value(row["attach"])
        recipients = tuple(members.get(conversation or "", ())) if in_group else ((partner,) if partner else ())
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=conversation,
            conversation_title=title,
            sender=partner if direction == "incoming" else None,
            recipients=recipients if direction == "outgoing" else (),
            direction=direction,
            sent=context.time(row["date"], unix_ms, table="messages", row_id=row_id, field="date"), sent_raw=text_value(row["date"]),
            body=None if is_call else body,
            kind="call" if is_call else ("media" if attach else ("text" if body else "unknown")),
            attachments=(Attachment(local_path=attach),) if attach and not is_call else (),
            details=details,
        )

    def _ios(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        addresses: dict[object, Participant] = {}
        owner: Participant | None = None
        if database.has("ZTMOCONTACTVALUE", "Z_PK", "ZCONTACTVALUE", "ZCONTACTNAME", "ZCONTACTISSELF"):
            for row in side_read(database.query(IOS_ADDRESSES_SQL), "ZTMOCONTACTVALUE", context):
                person = Participant(text_value(row["ZCONTACTVALUE"]), text_value(row["ZCONTACTNAME"]) or None)
                addresses[row["Z_PK"]] = person
                if row["ZCONTACTISSELF"] == 1 and owner is None:
                    owner = person
        conversations: dict[object, Participant] = {}
        if database.has("ZTMOCONVERSATION", "Z_PK", "ZCONTACTVALUE"):
            for row in side_read(database.query(IOS_CONVERSATIONS_SQL), "ZTMOCONVERSATION", context):
                if row["ZCONTACTVALUE"] in addresses:
                    conversations[row["Z_PK"]] = addresses[row["ZCONTACTVALUE"]]
        yield from context.each(database.query(select_by_rowid(variant, database, "ZTMOINTERACTION")), "ZTMOINTERACTION",
                                lambda row: self._ios_row(row, conversations, owner, context), "row_key")

    def _ios_row(self, row: sqlite3.Row, conversations: dict[object, Participant], owner: Participant | None,
                 context: ParseContext) -> Message:
        row_id = row["row_key"]
        direction = DIRECTIONS.get(row["ZDIRECTION"], "unknown")  # type: ignore[arg-type]
        partner = conversations.get(row["ZCONVERSATION"])
        author = text_value(row["ZAUTHORNAME"]) or None
        details = {"ZDIRECTION": text_value(row["ZDIRECTION"]) or ""}
        for column in IOS_DETAILS:
            if row[column] not in (None, ""):
                details[column] = text_value(row[column]) or ""
        if partner is None and row["ZCONVERSATION"] is not None:
            details["conversation_pk"] = text_value(row["ZCONVERSATION"]) or ""
        is_call = row["ZCALLID"] is not None
        body = text_value(row["ZCONTENT"])
        if is_call and body:
            details["call_content"] = body
        picture = not is_call and row["ZTHUMBNAILWIDTH"] not in (None, 0) and bool(body)
        if picture:
            details["image_cache_name"] = hashlib.md5((body or "").encode("utf-8")).hexdigest()
        incoming = direction == "incoming"
        sender = (Participant(None, author) if author else None) if incoming else (owner if direction == "outgoing" else None)
        return Message(
            source_table="ZTMOINTERACTION", source_row_id=row_id, conversation_id=partner.id if partner else None,
            conversation_title=partner.name if partner else None, sender=sender,
            recipients=((owner,) if incoming and owner else ((partner,) if direction == "outgoing" and partner else ())),
            direction=direction,
            sent=context.time(row["ZLOCALTIMESTAMP"], cocoa_seconds, table="ZTMOINTERACTION", row_id=row_id, field="ZLOCALTIMESTAMP"),
            sent_raw=text_value(row["ZLOCALTIMESTAMP"]), body=None if is_call else body,
            kind="call" if is_call else ("media" if picture else ("text" if body else "unknown")),
            attachments=(Attachment(file_name=details["image_cache_name"],
                                    local_path=f"{IMAGE_CACHE}/{details['image_cache_name']}"),) if picture else (),
            account_id=owner.id if owner else None, details=details,
        )


PARSER = TextNow()

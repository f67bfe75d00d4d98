"""WhatsApp for iOS call history: CallHistory.sqlite (Core Data), names from ContactsV2.sqlite.

Schema facts (from the corpus database's DDL and Z_PRIMARYKEY, josh_ios15_ffs; meanings from iLEAPP
scripts/artifacts/whatsApp.py "whatsAppCallHistory", read for facts only):
- `ZWACDCALLEVENT` (entity WACDCallEvent): one row per call. `Z_PK`, `ZDATE` (call start, Cocoa
  seconds since 2001-01-01 UTC, a float), `ZDURATION` (seconds, float), `ZOUTCOME` (0 ended, 1 missed,
  4 rejected: iLEAPP's labels, which it notes have no vendor source), `ZBYTESSENT`/`ZBYTESRECEIVED`,
  `ZGROUPCALLCREATORUSERJIDSTRING` (the jid that placed the call; absent on older releases such as
  iOS 14.3), `ZGROUPJIDSTRING` (the group chat of a group call), `ZCALLIDSTRING` (some releases),
  `Z1CALLEVENTS` -> `ZWAAGGREGATECALLEVENT.Z_PK`.
- `ZWAAGGREGATECALLEVENT`: the call-log line that groups one or more calls: `ZINCOMING`, `ZVIDEO`,
  `ZMISSED`, `ZMISSEDREASON` (0/1 flags, reported per group), `ZFIRSTDATE`.
- `ZWACDCALLEVENTPARTICIPANT`: `Z1PARTICIPANTS` -> `ZWACDCALLEVENT.Z_PK`, `ZJIDSTRING` (the other
  party), `ZOUTCOME`.
- ContactsV2.sqlite `ZWAADDRESSBOOKCONTACT`: `ZWHATSAPPID` (jid), `ZFULLNAME`.

History (docs/chat-schema-hist4.md): the creator column is absent on older releases (iLEAPP: iOS
14.3); no public source gives the store of other WhatsApp builds, so which other columns come and
go is **not confirmed**. Only `ZWACDCALLEVENT` `Z_PK`, `ZDATE` and `ZWACDCALLEVENTPARTICIPANT`
`Z_PK`, `ZJIDSTRING` are required; duration, outcome, creator, group, bytes and the aggregate line
are read when present. The link columns carry Core Data entity numbers (`Z1PARTICIPANTS`,
`Z1CALLEVENTS` in the builds seen): the one `Z<n>PARTICIPANTS`/`Z<n>CALLEVENTS` column is used
whatever its digit, and without a participant link one `participants_unlinked` warning says why
the calls have no other party. (One public tool joins participants to the aggregate line instead
of the call; the corpus, checked against iLEAPP row for row, links them to the call.)

Decisions:
- One message per ZWACDCALLEVENT row, kind "call", body None; duration, outcome, byte counts and the
  aggregate's flags are in details.
- Direction: with a creator column, a call whose creator is one of its participants is incoming and
  any other creator is the owner (outgoing) -- the rule iLEAPP also uses. Without it (old variant),
  the aggregate's ZINCOMING decides; with neither, unknown.
- The owner's jid is the creator of the outgoing calls when exactly one such jid exists; it is the
  sender of outgoing calls and account_id.
- conversation_id is the group jid for a group call, else the single other party's jid (the id of
  the WhatsApp chat with that person).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterable, Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read, side_table, side_whole, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.sqlite_store import Database

# The minimum a call is read with: its time, and (in the participant table) the other party. Direction
# comes from the creator column or the aggregate line, both optional, as are duration, outcome and bytes.
EVENT_REQUIRED = ("Z_PK", "ZDATE")
EVENT_OPTIONAL = ("ZDURATION", "ZOUTCOME", "ZGROUPCALLCREATORUSERJIDSTRING", "ZGROUPJIDSTRING", "ZCALLIDSTRING", "ZBYTESSENT",
                  "ZBYTESRECEIVED")
PARTICIPANT_REQUIRED = ("Z_PK", "ZJIDSTRING")
AGGREGATES = Variant("aggregates", {"ZWAAGGREGATECALLEVENT": ("Z_PK",)},
                     {"ZWAAGGREGATECALLEVENT": ("ZINCOMING", "ZVIDEO", "ZMISSED", "ZMISSEDREASON")})
OUTCOMES = {0: "ended", 1: "missed", 4: "rejected"}
CREATOR = "ZGROUPCALLCREATORUSERJIDSTRING"
# Core Data names a to-one link column after the target entity's number (Z1PARTICIPANTS, Z1CALLEVENTS in the
# builds seen); another model numbering gives another digit, so the column is found by this pattern.
_LINK = re.compile(r"^z([1-9][0-9]{0,5})(participants|callevents)$")
CONTACTS_SQL = "SELECT ZWHATSAPPID, ZFULLNAME FROM ZWAADDRESSBOOKCONTACT WHERE ZWHATSAPPID IS NOT NULL ORDER BY Z_PK"


class WhatsAppIosCalls(SqliteChatParser):
    name = "whatsapp_ios_calls"
    version = "2"
    app = "WhatsApp"
    platform = "iOS"
    paths = ("*/Containers/Shared/AppGroup/*/CallHistory.sqlite",)
    variants = (
        Variant("call_event", {"ZWACDCALLEVENT": EVENT_REQUIRED, "ZWACDCALLEVENTPARTICIPANT": PARTICIPANT_REQUIRED},
                {"ZWACDCALLEVENT": EVENT_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        participants: dict[int, list[str]] = {}
        link = _link(database, "ZWACDCALLEVENTPARTICIPANT", "participants")
        if link is None:
            context.warn("participants_unlinked", "ZWACDCALLEVENTPARTICIPANT has no single Z<n>PARTICIPANTS column: calls are read "
                                                  "without their other parties", table="ZWACDCALLEVENTPARTICIPANT")
        else:
            sql = f"SELECT Z_PK, {link} AS call_pk, ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT ORDER BY {link}, Z_PK"
            for row in side_read(database.query(sql), "ZWACDCALLEVENTPARTICIPANT", context):
                if row["ZJIDSTRING"]:
                    participants.setdefault(row["call_pk"], []).append(text_value(row["ZJIDSTRING"]))
        aggregates = {row["Z_PK"]: row for row in side_table(database, AGGREGATES, "ZWAAGGREGATECALLEVENT", context)}
        aggregate = _link(database, "ZWACDCALLEVENT", "callevents")
        aggregate_column = f", {aggregate} AS Z1CALLEVENTS" if aggregate else ", NULL AS Z1CALLEVENTS"
        sql = f"SELECT {variant.columns(database, 'ZWACDCALLEVENT')}{aggregate_column} FROM ZWACDCALLEVENT ORDER BY Z_PK"
        owner = _owner(*side_whole(database.query(sql), "ZWACDCALLEVENT", context), participants)
        names = _names(context)
        convert = lambda row: self._call(row, participants.get(row["Z_PK"], []), aggregates, owner, names, context)  # noqa: E731
        yield from context.each(database.query(sql), "ZWACDCALLEVENT", convert, "Z_PK")

    def _call(self, row: sqlite3.Row, others: list[str], aggregates: dict[int, sqlite3.Row], owner: str | None,
              names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        aggregate = aggregates.get(row["Z1CALLEVENTS"])
        direction = _direction(row[CREATOR], others, aggregate)
        creator = row[CREATOR]
        if direction == "incoming":
            caller = creator or (others[0] if len(others) == 1 else None)
            sender = Participant(caller, names.get(caller)) if caller else None
        elif direction == "outgoing":
            caller = creator or owner
            sender = Participant(caller, names.get(caller)) if caller else None
        else:
            sender = None
        sender_id = sender.id if sender else None
        recipients = tuple(Participant(jid, names.get(jid)) for jid in others if jid != sender_id)
        group = row["ZGROUPJIDSTRING"] or None
        outcome = row["ZOUTCOME"]
        details = {}
        if row["ZDURATION"] is not None:
            details["duration_seconds"] = str(row["ZDURATION"])
        if outcome is not None:
            details["outcome"] = f"{outcome} ({OUTCOMES.get(outcome, 'unknown')})"
        for column, key in (("ZBYTESSENT", "bytes_sent"), ("ZBYTESRECEIVED", "bytes_received"), ("ZCALLIDSTRING", "call_id"),
                            ("Z1CALLEVENTS", "aggregate_event"), (CREATOR, "creator")):
            if row[column] is not None:
                details[key] = str(row[column])
        if aggregate is not None:
            for column in ("ZINCOMING", "ZVIDEO", "ZMISSED", "ZMISSEDREASON"):
                if aggregate[column] is not None:
                    details["aggregate_" + column[1:].lower()] = str(aggregate[column])
        return Message(
            source_table="ZWACDCALLEVENT", source_row_id=row_id,
            conversation_id=group or (others[0] if len(others) == 1 else None),
            sender=sender, recipients=recipients, direction=direction,
            sent=context.time(row["ZDATE"], cocoa_seconds, table="ZWACDCALLEVENT", row_id=row_id, field="ZDATE"),
            sent_raw=None if row["ZDATE"] is None else str(row["ZDATE"]), kind="call", account_id=owner, details=details,
        )


def _direction(creator: str | None, others: list[str], aggregate: sqlite3.Row | None) -> str:
    if creator:
        return "incoming" if creator in others else "outgoing"
    if aggregate is not None and aggregate["ZINCOMING"] is not None:
        return "incoming" if aggregate["ZINCOMING"] else "outgoing"
    return "unknown"


def _owner(rows: Iterable[sqlite3.Row], whole: bool, participants: dict[int, list[str]]) -> str | None:
    """The one jid that created calls it does not take part in (the owner's outgoing calls); None unless every call was read."""
    if not whole:
        return None
    creators = {r[CREATOR] for r in rows if r[CREATOR] and r[CREATOR] not in participants.get(r["Z_PK"], [])}
    return creators.pop() if len(creators) == 1 else None


def _names(context: ParseContext) -> dict[str, str]:
    contacts = context.companion("*/ContactsV2.sqlite")
    names: dict[str, str] = {}
    if contacts is not None and contacts.has("ZWAADDRESSBOOKCONTACT", "Z_PK", "ZWHATSAPPID", "ZFULLNAME"):
        for row in side_read(contacts.query(CONTACTS_SQL), "ZWAADDRESSBOOKCONTACT", context):
            if row["ZFULLNAME"] and row["ZWHATSAPPID"] not in names:
                names[row["ZWHATSAPPID"]] = row["ZFULLNAME"]
    return names


def _link(database: Database, table: str, role: str) -> str | None:
    """The one Z<n><ROLE> column of `table` (rebuilt from its digits), or None when there is none or more than one."""
    found = [m for c in database.tables.get(table.lower(), ()) if (m := _LINK.match(c)) and m[2] == role]
    return f"Z{int(found[0][1])}{role.upper()}" if len(found) == 1 else None


PARSER = WhatsAppIosCalls()

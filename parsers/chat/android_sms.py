"""Android SMS and MMS from the telephony provider's mmssms.db (AOSP and Samsung builds).

Schema facts (AOSP `TelephonyProvider` / `MmsSmsDatabaseHelper`, read for facts only):
- `sms`: `_id`, `thread_id`, `address` (the other party), `date` (received, Unix ms),
  `date_sent` (Unix ms, 0 when unknown), `type` (1 inbox, 2 sent, 3 draft, 4 outbox, 5 failed,
  6 queued), `read` (0/1), `body`, `subject`, `service_center`.
- `pdu` (MMS): `_id`, `thread_id`, `date` and `date_sent` in Unix seconds, `msg_box` (1 inbox,
  2 sent, 3 draft, 4 outbox), `sub` (subject), `m_type` (the PDU's X-Mms-Message-Type, OMA
  MMS encapsulation: 128 send-req, 129 send-conf, 130 notification-ind, 131 notifyresp-ind,
  132 retrieve-conf, 133 acknowledge-ind, 134 delivery-ind, 135 read-rec-ind, 136 read-orig-ind),
  `m_id` (Message-ID), `st` (X-Mms-Status of a delivery report: 128 expired, 129 retrieved,
  130 rejected, 131 deferred, 132 unrecognised, 133 indeterminate, 134 forwarded, 135
  unreachable), `read_status` (X-Mms-Read-Status of a read report: 128 read, 129 deleted without
  being read), `m_size`, `exp` (expiry), `ct_l` (content location: where the MMS waits for download).
  `part`: `mid` -> pdu._id, `seq`, `ct` (MIME), `name`/`fn`/`cl` (file
  name), `_data` (local file path), `text` (text parts). `addr`: `msg_id` -> pdu._id, `address`,
  `type` (137 from, 151 to, 130 cc, 129 bcc).
Samsung builds add columns; the minimum below is what both share.

MMS decisions (documented, tested):
- 128 send-req (a sent MMS) and 132 retrieve-conf (a downloaded one) are messages.
- 130 notification-ind is an MMS announced to the phone and not downloaded (AOSP replaces the row
  once the MMS is retrieved): someone did send a message, so it is a message row, kind "unknown"
  (its content is not on the phone), with its size, expiry and content location in details.
- 134 delivery-ind and 136 read-orig-ind are reports about an MMS sent from this phone, not
  messages: kind "system", direction "unknown", no body, `sent` = the report's date (when the
  MMS was delivered or read), details report_type, the named status and the reported Message-ID.
- Any other m_type is not written to the provider by AOSP: kept as kind "unknown" with an
  `unexpected_m_type` warning, never dropped.

Versions (AOSP MmsSmsDatabaseHelper upgrade steps): database version 54 added `date_sent` to `sms` and
`pdu` (issue 10 places this at Android 4; the release is not verified), 51 `seen`, 48 `error_code`, 46 `part.text`; `creator`, `sub_id` and
others come later. So every column but the few a message needs is optional: absent, it reads as
NULL (an old SMS has no sent time, only `date`).
"""

from __future__ import annotations

import sqlite3
from typing import Iterable, Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms, unix_seconds
from parsers.sqlite_store import Database

SMS_TYPES = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
OUTGOING_SMS = {2, 4, 5, 6}
MMS_BOXES = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox"}
ADDR_FROM, ADDR_TO, ADDR_CC, ADDR_BCC = 137, 151, 130, 129
MMS_TYPES = {128: "send-req", 129: "send-conf", 130: "notification-ind", 131: "notifyresp-ind", 132: "retrieve-conf",
             133: "acknowledge-ind", 134: "delivery-ind", 135: "read-rec-ind", 136: "read-orig-ind"}
MMS_MESSAGES = (128, 132)
MMS_NOT_DOWNLOADED = 130
MMS_REPORTS = {134: ("delivery report", "st", "delivery_status"), 136: ("read report", "read_status", "read_status")}
DELIVERY_STATUSES = {128: "expired", 129: "retrieved", 130: "rejected", 131: "deferred", 132: "unrecognised",
                     133: "indeterminate", 134: "forwarded", 135: "unreachable"}
READ_STATUSES = {128: "read", 129: "deleted without being read"}
REPORT_STATUSES = {"st": DELIVERY_STATUSES, "read_status": READ_STATUSES}
PDU_OPTIONAL = ("m_id", "st", "read_status", "m_size", "exp", "ct_l")  # AOSP columns, read when present


class AndroidSms(SqliteChatParser):
    name = "android_sms"
    version = "1"
    app = "Android SMS/MMS"
    platform = "Android"
    paths = ("*/com.android.providers.telephony/databases/mmssms.db", "*/mmssms.db")
    variants = (
        Variant("sms_mms", {"sms": ("_id", "thread_id", "address", "date", "type", "body"),
                            "pdu": ("_id", "thread_id", "date", "msg_box", "m_type"),
                            "part": ("mid", "ct"),
                            "addr": ("msg_id", "address", "type")},
                optional={"sms": ("date_sent", "read", "subject", "service_center"),
                          "pdu": ("date_sent", "read", "sub") + PDU_OPTIONAL,
                          "part": ("_id", "seq", "name", "fn", "cl", "_data", "text"),
                          "addr": ("_id",)}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        sms = database.query(variant.select(database, "sms", "_id"))
        yield from context.each(sms, "sms", lambda row: self._sms(row, context), "_id")
        parts = _group(side_read(database.query(variant.select(database, "part", "mid, seq, _id")), "part", context), "mid")
        addresses = _group(side_read(database.query(variant.select(database, "addr", "msg_id, _id")), "addr", context), "msg_id")
        rows = database.query(variant.select(database, "pdu", "_id"))
        yield from context.each(rows, "pdu", lambda r: self._mms(r, parts.get(r["_id"], []), addresses.get(r["_id"], []), context), "_id")

    def _sms(self, row: sqlite3.Row, context: ParseContext) -> Message:
        row_id = row["_id"]
        kind = row["type"]
        outgoing = kind in OUTGOING_SMS
        other = Participant(row["address"]) if row["address"] is not None else None
        received = context.time(row["date"], unix_ms, table="sms", row_id=row_id, field="date")
        sent = context.time(row["date_sent"], unix_ms, table="sms", row_id=row_id, field="date_sent")
        if outgoing:
            # For a sent SMS `date` is when it was sent; date_sent is left 0.
            sent, received = sent or received, None
        details = {"sms_type": f"{kind} ({SMS_TYPES.get(kind, 'unknown')})"}
        if row["read"] is not None:
            details["read_flag"] = str(row["read"])
        if outgoing and row["date_sent"] and row["date"]:
            details["date"] = str(row["date"])  # sent is date_sent; keep the stored `date` too
        if row["subject"] is not None:
            details["subject"] = row["subject"]
        if row["service_center"] is not None:
            details["service_center"] = row["service_center"]
        return Message(
            source_table="sms", source_row_id=row_id, conversation_id=_text_id(row["thread_id"]),
            sender=None if outgoing else other, recipients=(other,) if outgoing and other else (),
            direction="outgoing" if outgoing else ("incoming" if kind == 1 else "unknown"),
            sent=sent, sent_raw=_text_id(row["date_sent"] if not outgoing or row["date_sent"] else row["date"]),
            received=received, body=row["body"], kind="text", details=details,
        )

    def _mms(self, row: sqlite3.Row, parts: list[sqlite3.Row], addresses: list[sqlite3.Row], context: ParseContext) -> Message:
        row_id = row["_id"]
        box = row["msg_box"]
        outgoing = box in (2, 4)
        sender = next((Participant(a["address"]) for a in addresses if a["type"] == ADDR_FROM), None)
        recipients = tuple(Participant(a["address"]) for a in addresses if a["type"] in (ADDR_TO, ADDR_CC, ADDR_BCC))
        texts = [p["text"] for p in parts if p["ct"] == "text/plain" and p["text"] is not None]
        attachments = tuple(
            Attachment(file_name=p["name"] or p["fn"] or p["cl"], mime_type=p["ct"], local_path=p["_data"])
            # Before DB v46 a text part's text was in the file `_data` names: that file is the evidence then.
            for p in parts if p["ct"] not in ("text/plain", "application/smil") or p["text"] is None and p["_data"]
        )
        date = context.time(row["date"], unix_seconds, table="pdu", row_id=row_id, field="date")
        m_type = row["m_type"]
        details = {"msg_box": f"{box} ({MMS_BOXES.get(box, 'unknown')})", "m_type": f"{m_type} ({MMS_TYPES.get(m_type, 'unknown')})"}
        if row["sub"] is not None:
            details["subject"] = row["sub"]
        if m_type in MMS_REPORTS:
            return _mms_report(row, sender, recipients, date, details)
        for column, key in (("m_size", "message_size"), ("exp", "expiry"), ("ct_l", "content_location")):
            if m_type == MMS_NOT_DOWNLOADED and _optional(row, column) is not None:
                details[key] = _detail(row[column])
        if m_type not in MMS_MESSAGES and m_type != MMS_NOT_DOWNLOADED:
            context.warn("unexpected_m_type", f"m_type {m_type!r} is not a type the telephony provider stores; kept as kind unknown",
                         table="pdu", row_id=row_id, field="m_type")
        kind = ("media" if attachments else "text") if m_type in MMS_MESSAGES else "unknown"
        date_sent = context.time(row["date_sent"], unix_seconds, table="pdu", row_id=row_id, field="date_sent")
        return Message(
            source_table="pdu", source_row_id=row_id, conversation_id=_text_id(row["thread_id"]),
            sender=sender, recipients=recipients, direction="outgoing" if outgoing else ("incoming" if box == 1 else "unknown"),
            sent=date if outgoing else date_sent, sent_raw=_text_id(row["date"] if outgoing else row["date_sent"]),
            received=None if outgoing else date,
            body="\n".join(texts) if texts else None, kind=kind,
            attachments=attachments, details=details,
        )


def _mms_report(row: sqlite3.Row, sender: Participant | None, recipients: tuple[Participant, ...], date: int | None,
                details: dict[str, str]) -> Message:
    """A delivery or read report about an MMS sent from this phone: a system row, its date when it was delivered or read."""
    report, column, key = MMS_REPORTS[row["m_type"]]
    details["report_type"] = report
    status = _optional(row, column)
    if status is not None:
        details[key] = f"{_detail(status)} ({REPORT_STATUSES[column].get(status, 'unknown')})"
    if _optional(row, "m_id") is not None:
        details["reported_message_id"] = _detail(row["m_id"])
    return Message(
        source_table="pdu", source_row_id=row["_id"], conversation_id=_text_id(row["thread_id"]), sender=sender,
        recipients=recipients, direction="unknown", sent=date, sent_raw=_text_id(row["date"]), kind="system", details=details,
    )


def _optional(row: sqlite3.Row, column: str) -> object:
    return row[column] if column in row.keys() else None


def _detail(value: object) -> str:
    """A column's value as details text; a blob keeps its exact bytes."""
    return decode_text(value) if isinstance(value, bytes) else str(value)


def _group(rows: Iterable[sqlite3.Row], key: str) -> dict[int, list[sqlite3.Row]]:
    grouped: dict[int, list[sqlite3.Row]] = {}
    for row in rows:
        grouped.setdefault(row[key], []).append(row)
    return grouped


def _text_id(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = AndroidSms()

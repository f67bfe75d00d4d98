"""The head of a TL-serialised Telegram Message object, in every layer Telegram for Android has stored.

Why a table of layouts: cache4.db keeps each message's `data` in the layout of the app version that
wrote it, so one store can hold rows of many API layers side by side. Each Message constructor is
described here by the fields before its text (in wire order), read up to the text and the media
constructor, and nothing after it.

Facts (the public TL schema of each API layer as kept by MadelineProto's per-layer schema files,
github.com/danog/schemas `TL_telegram_v<layer>.tl`, layers 18-225; and Telegram for Android's own
`TLRPC.java`, DrKLO/Telegram, for the classes the app defines itself), in our own words:
- Wire format: little-endian 32-bit constructor id, then fields; `#` is a 32-bit flags word,
  `flags.N?T` present when bit N is set, `true` flags carry no data; int 4 bytes, long 8, double 8;
  string: one length byte (< 254) or 0xFE and a 3-byte length, the data, zero padding to 4.
  Bool is boolTrue#997275b5 / boolFalse#bc799737.
- Message (layers): 567699b3 (18-23), a7ab1991 (25-27), c3060325 (33), 5ba66c13 (38-44),
  ab406723 (40), c992e15c (45-46), c09be45f (51-68), 90dddc11 (70-72), 44f9b43d (73-104),
  452c0e65 (105-117), 58ae39c9 (119-121), bce383d2 (129-131), 85d6cbe2 (135), 38116ee0 (136-169),
  76bec211 (170-173), 1e4c8a69 (174-175), a66c7efc (176), 2357bf25 (177-179), bde09c2e (180),
  94345242 (181-195), 96fdbbe9 (196-199), eabcdd4d (200-205), 9815cec8 (206-216), b92f76cf
  (217-220), 9cb490e9 (221-222), 3ae56482 (223-224), 95ef6f2b (225). from_id is an int user id
  before layer 119 and a Peer from 119; via_bot_id is an int before 135 and a long from 135; a
  second flags word (flags2) follows flags from 177; saved_peer_id (flags.28) from 170,
  from_boosts_applied (flags.29) from 174, from_rank (flags2.12) from 223, guestchat_via_from
  (flags2.19) in 225.
- Android-only classes (TLRPC.java): 22eb6aba (pre-flags: id, from_id, to_id, out:Bool,
  unread:Bool, date, message, media), 05f46804 (the same with fwd_from_id and fwd_date after id),
  a367e716 (forwarded, layers 18-23), f07814c8 and 2bebfa86 (int from_id; flags.2 forward as
  from_id:int and date:int; 2bebfa86 has media only with flags.9), and the secret-chat classes
  555555f8 / 555555f9 / 555555fa (flags, id, ttl, from_id:int, to_id:Peer, date, message, media).
- messageService: 9f8d60bb (Android, pre-flags), 1d86f70e (18-33), c06b9607 (38-46),
  9e19a1f6 (51-117), 286fa604 (119-121), 2b085862 (129-195), d3d28540 (196-204), 7a800e0a (205-225).
  messageEmpty: 83e5de54 (id only, to 121) and 90a6ca84 (flags, id, flags.0 Peer).
- Peer: peerUser 9db1bc6d / peerChat bad0e5bb / peerChannel bddde532 (int ids, to 131) and
  59511722 / 36c6019a / a2a5371e (long ids, 135+).
- MessageFwdHeader: c786ddcb (51-68), fadff4ac (70-72), 559ebe6d (73-95), ec338270 (97-112),
  353a686b (113-117), 5f777dce (119-169), 4e4df4bb (170-225).
- MessageReplyHeader: a6d57763 (119-165); 6eebcabd (166), afbc09db (167-207), 6917560b
  (208-223), 1b97dd66 (224-225); messageReplyStoryHeader 9c98bfc1 (160-173), 0e5af939 (174-225).
  A reply that carries the replied-to media (flags.8) is not skipped here (MessageMedia objects are
  not decoded): such a row is reported as not decoded. Quote entities (flags.7, a Vector of
  MessageEntity, vector#1cb5c415 + count) are skipped: every MessageEntity is offset:int
  length:int, with a string (pre 73924be0, textUrl 76a6d327, diffReplace c6c1e5a7), an int
  (mentionName 352dca58), a long (mentionName dc7b1140, customEmoji c8cf05f8) after them, or a
  flags word before them (blockquote f1ccaaac; formattedDate 904ac7c7 with a date int after).
- GeoPoint 2049d70c (long, lat), 0296f104 (+ access_hash), b2a2f663 (flags first); geo media
  56e0d474, geoLive 7c3c2609 (geo first) and b940c666 (flags first), venue 7912b71f / 2ec0533f.
Not confirmed: Android's own class 7600b9d3 (listed in the app's Message switch, layout not found
in any public source read) and any layer not in the files above; such rows keep their columns.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from manifests.records import decode_text

BOOL_TRUE, BOOL_FALSE = 0x997275B5, 0xBC799737
PEERS_LONG = {0x59511722: "user", 0x36C6019A: "chat", 0xA2A5371E: "channel"}
PEERS_INT = {0x9DB1BC6D: "user", 0xBAD0E5BB: "chat", 0xBDDDE532: "channel"}
MESSAGE_EMPTY_OLD, MESSAGE_EMPTY = 0x83E5DE54, 0x90A6CA84
PHONE_CALL_ACTION = 0x80E11A7F

# Fields before the text. "x?N": present when flags bit N is set; "x?2.N": flags2 bit N.
# from:int / from:peer  the sender; fwd:* the forward (int id + date, Peer + date, or a header);
# reply:int / reply:header; via:int / via:long; skip:int, skip:long, skip:peer, skip:string;
# bool:out / bool:unread (Bool objects); ttl (secret chats).
_MODERN = ("flags", "id", "from:peer?8", "peer", "fwd:header?2", "via:long?11", "reply:header?3")
_FLAGS2 = ("flags", "flags2", "id", "from:peer?8", "skip:int?29", "peer", "skip:peer?28", "fwd:header?2",
           "via:long?11", "skip:long?2.0", "reply:header?3")
_INT_ERA = ("flags", "id", "from:int?8", "peer", "fwd:header?2", "via:int?11", "reply:int?3")
_OLD_FWD = ("flags", "id", "from:int", "peer", "fwd:int?2", "reply:int?3")
_SECRET = ("flags", "id", "ttl", "from:int", "peer")

# constructor: (name, fields before date, media: "always" | "flag" | "none" (service: an action))
MESSAGES: dict[int, tuple[str, tuple[str, ...], str]] = {
    0x22EB6ABA: ("message_old", ("id", "from:int", "peer", "bool:out", "bool:unread"), "always"),
    0x05F46804: ("messageForwarded_old", ("id", "fwd:int", "from:int", "peer", "bool:out", "bool:unread"), "always"),
    0x567699B3: ("message_old2", ("flags", "id", "from:int", "peer"), "always"),
    0xA367E716: ("messageForwarded_old2", ("flags", "id", "fwd:int", "from:int", "peer"), "always"),
    0xA7AB1991: ("message_old3", _OLD_FWD, "always"),
    0xC3060325: ("message_old4", _OLD_FWD, "always"),
    0xF07814C8: ("message_old5", _OLD_FWD, "always"),
    0x2BEBFA86: ("message_old6", _OLD_FWD, "flag"),
    0x5BA66C13: ("message_layer38", ("flags", "id", "from:int?8", "peer", "fwd:peer?2", "reply:int?3"), "flag"),
    0xAB406723: ("message_layer40", ("flags", "id", "from:int?8", "peer", "fwd:int?2", "reply:int?3"), "flag"),
    0xC992E15C: ("message_layer45", ("flags", "id", "from:int?8", "peer", "fwd:peer?2", "via:int?11", "reply:int?3"), "flag"),
    0xC09BE45F: ("message_layer51", _INT_ERA, "flag"),
    0x90DDDC11: ("message_layer70", _INT_ERA, "flag"),
    0x44F9B43D: ("message_layer73", _INT_ERA, "flag"),
    0x452C0E65: ("message_layer105", _INT_ERA, "flag"),
    0x58AE39C9: ("message_layer119", ("flags", "id", "from:peer?8", "peer", "fwd:header?2", "via:int?11", "reply:header?3"), "flag"),
    0xBCE383D2: ("message_layer129", ("flags", "id", "from:peer?8", "peer", "fwd:header?2", "via:int?11", "reply:header?3"), "flag"),
    0x85D6CBE2: ("message_layer135", _MODERN, "flag"),
    0x38116EE0: ("message", _MODERN, "flag"),
    0x76BEC211: ("message_layer170", ("flags", "id", "from:peer?8", "peer", "skip:peer?28", "fwd:header?2", "via:long?11",
                                      "reply:header?3"), "flag"),
    0x1E4C8A69: ("message_layer174", ("flags", "id", "from:peer?8", "skip:int?29", "peer", "skip:peer?28", "fwd:header?2",
                                      "via:long?11", "reply:header?3"), "flag"),
    0xA66C7EFC: ("message_layer176", ("flags", "id", "from:peer?8", "skip:int?29", "peer", "skip:peer?28", "fwd:header?2",
                                      "via:long?11", "reply:header?3"), "flag"),
    0x2357BF25: ("message_layer177", _FLAGS2, "flag"),
    0xBDE09C2E: ("message_layer180", _FLAGS2, "flag"),
    0x94345242: ("message_layer181", _FLAGS2, "flag"),
    0x96FDBBE9: ("message_layer196", _FLAGS2, "flag"),
    0xEABCDD4D: ("message_layer200", _FLAGS2, "flag"),
    0x9815CEC8: ("message_layer206", _FLAGS2, "flag"),
    0xB92F76CF: ("message_layer217", _FLAGS2, "flag"),
    0x9CB490E9: ("message_layer221", _FLAGS2, "flag"),
    0x3AE56482: ("message_layer223", ("flags", "flags2", "id", "from:peer?8", "skip:int?29", "skip:string?2.12", "peer",
                                      "skip:peer?28", "fwd:header?2", "via:long?11", "skip:long?2.0", "reply:header?3"), "flag"),
    0x95EF6F2B: ("message_layer225", ("flags", "flags2", "id", "from:peer?8", "skip:int?29", "skip:string?2.12", "peer",
                                      "skip:peer?28", "fwd:header?2", "via:long?11", "skip:long?2.0", "skip:peer?2.19",
                                      "reply:header?3"), "flag"),
    0x555555F8: ("message_secret_old", _SECRET, "always"),
    0x555555F9: ("message_secret_layer72", _SECRET, "always"),
    0x555555FA: ("message_secret", _SECRET, "always"),
    0x9F8D60BB: ("messageService_old", ("id", "from:int", "peer", "bool:out", "bool:unread"), "none"),
    0x1D86F70E: ("messageService_old2", ("flags", "id", "from:int", "peer"), "none"),
    0xC06B9607: ("messageService_layer38", ("flags", "id", "from:int?8", "peer"), "none"),
    0x9E19A1F6: ("messageService_layer51", ("flags", "id", "from:int?8", "peer", "reply:int?3"), "none"),
    0x286FA604: ("messageService_layer119", ("flags", "id", "from:peer?8", "peer", "reply:header?3"), "none"),
    0x2B085862: ("messageService", ("flags", "id", "from:peer?8", "peer", "reply:header?3"), "none"),
    0xD3D28540: ("messageService_layer196", ("flags", "id", "from:peer?8", "peer", "reply:header?3"), "none"),
    0x7A800E0A: ("messageService_layer205", ("flags", "id", "from:peer?8", "peer", "skip:peer?28", "reply:header?3"), "none"),
}

# Message constructors whose flags.15 is edit_date (layer 51 on).
EDIT_DATE = {c for c in MESSAGES if c not in (0x22EB6ABA, 0x05F46804, 0x567699B3, 0xA367E716, 0xA7AB1991, 0xC3060325, 0xF07814C8,
                                              0x2BEBFA86, 0x5BA66C13, 0xAB406723, 0xC992E15C, 0x555555F8, 0x555555F9, 0x555555FA)
             and not MESSAGES[c][0].startswith("messageService")}

# constructor: (fields after flags and before date; the date and the fields after it are skipped per version)
FWD_HEADERS: dict[int, tuple[str, ...]] = {
    0xC786DDCB: ("from:int?0",),
    0xFADFF4AC: ("from:int?0",),
    0x559EBE6D: ("from:int?0",),
    0xEC338270: ("from:int?0", "name?5"),
    0x353A686B: ("from:int?0", "name?5"),
    0x5F777DCE: ("from:peer?0", "name?5"),
    0x4E4DF4BB: ("from:peer?0", "name?5"),
}
# After the date: (field, flag bit) in order, per header version.
FWD_TAILS: dict[int, tuple[tuple[str, int], ...]] = {
    0xC786DDCB: (("int", 1), ("int", 2)),
    0xFADFF4AC: (("int", 1), ("int", 2), ("string", 3)),
    0x559EBE6D: (("int", 1), ("int", 2), ("string", 3), ("peer", 4), ("int", 4)),
    0xEC338270: (("int", 1), ("int", 2), ("string", 3), ("peer", 4), ("int", 4)),
    0x353A686B: (("int", 1), ("int", 2), ("string", 3), ("peer", 4), ("int", 4), ("string", 6)),
    0x5F777DCE: (("int", 2), ("string", 3), ("peer", 4), ("int", 4), ("string", 6)),
    0x4E4DF4BB: (("int", 2), ("string", 3), ("peer", 4), ("int", 4), ("peer", 8), ("string", 9), ("int", 10), ("string", 6)),
}
VECTOR = 0x1CB5C415
# MessageEntity constructor: (flags word first, field after offset and length or None)
ENTITIES: dict[int, tuple[bool, str | None]] = {
    **dict.fromkeys((0xBD610BC9, 0x6CEF8AC7, 0x28A20571, 0x64E475C2, 0x6F635B0D, 0x826F8B60, 0xFA04579D, 0xBB92BA95, 0x6ED02538,
                     0x4C4E743F, 0x9B69E34B, 0x020DF5D0, 0xBF0693D4, 0x9C4E7E8B, 0x761E6AF4, 0x32CA960F, 0x0652C1C5, 0x71777116),
                    (False, None)),
    **dict.fromkeys((0x73924BE0, 0x76A6D327, 0xC6C1E5A7), (False, "string")),
    0x352DCA58: (False, "int"),
    **dict.fromkeys((0xDC7B1140, 0xC8CF05F8), (False, "long")),
    0xF1CCAAAC: (True, None),
    0x904AC7C7: (True, "int"),
}
ENTITY_MIN_SIZE = 12  # constructor, offset, length
REPLY_OLD = 0xA6D57763
REPLY_QUOTING = {0x6EEBCABD: 10, 0xAFBC09DB: 11, 0x6917560B: 12, 0x1B97DD66: 13}  # constructor: flag bits in use
REPLY_STORY_USER, REPLY_STORY_PEER = 0x9C98BFC1, 0x0E5AF939

MEDIA = {
    **dict.fromkeys((0x3DED6320,), ("empty", "text")),
    **dict.fromkeys((0xC8C45A2A, 0x3D8CE53D, 0xB5223B0F, 0x695150D7, 0xE216EB63), ("photo", "media")),
    **dict.fromkeys((0xA2D24290, 0x5BCF1675), ("video", "media")),
    **dict.fromkeys((0xC6B68300,), ("audio", "media")),
    **dict.fromkeys((0x2FDA2204, 0xF3E02EA8, 0x7C4414D3, 0x9CB070D7, 0x4CF4D72D, 0xDD570BD5, 0x52D8CCD9), ("document", "media")),
    **dict.fromkeys((0x56E0D474,), ("geo", "location")),
    **dict.fromkeys((0x7C3C2609, 0xB940C666), ("geo_live", "location")),
    **dict.fromkeys((0x7912B71F, 0x2EC0533F), ("venue", "location")),
    **dict.fromkeys((0x5E7D2F39, 0xCBF24940, 0x70322949), ("contact", "contact")),
    **dict.fromkeys((0x29632A36, 0x9F84F49E), ("unsupported", "unknown")),
    **dict.fromkeys((0xA32DD600, 0xDDF10C3B), ("webpage", "text")),
    **dict.fromkeys((0xFDB19008,), ("game", "media")),
    **dict.fromkeys((0x84551347, 0xF6A548D3), ("invoice", "media")),
    **dict.fromkeys((0x4BD6E798, 0x773F4E66), ("poll", "poll")),
    **dict.fromkeys((0x638FE46B, 0x3F7EE58B, 0x08CBEC07), ("dice", "sticker")),
    **dict.fromkeys((0xCBB20D88, 0x68CB6283), ("story", "media")),
}
GEO_FIRST = {0x56E0D474, 0x7C3C2609, 0x7912B71F, 0x2EC0533F}  # the GeoPoint follows the constructor
GEO_AFTER_FLAGS = {0xB940C666}  # a flags word, then the GeoPoint
GEO_POINT_OLD, GEO_POINT_HASH, GEO_POINT = 0x2049D70C, 0x0296F104, 0xB2A2F663


class TLError(ValueError):
    """The blob does not follow the TL layout this reader knows."""


class TLReader:
    """Sequential, bounds-checked reader of TL-serialised bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def _take(self, size: int) -> bytes:
        if self.offset + size > len(self.data):
            raise TLError(f"needs {size} bytes at offset {self.offset}, blob has {len(self.data)}")
        chunk = self.data[self.offset:self.offset + size]
        self.offset += size
        return chunk

    def uint(self) -> int:
        return struct.unpack("<I", self._take(4))[0]

    def int(self) -> int:
        return struct.unpack("<i", self._take(4))[0]

    def long(self) -> int:
        return struct.unpack("<q", self._take(8))[0]

    def double(self) -> float:
        return struct.unpack("<d", self._take(8))[0]

    def bytes(self) -> bytes:
        first = self._take(1)[0]
        if first == 254:
            size = int.from_bytes(self._take(3), "little")
            header = 4
        elif first == 255:
            raise TLError("string length byte 255 is not valid")
        else:
            size, header = first, 1
        value = self._take(size)
        self._take((-(header + size)) % 4)
        return value

    def bool(self) -> bool:
        constructor = self.uint()
        if constructor not in (BOOL_TRUE, BOOL_FALSE):
            raise TLError(f"not a Bool: {constructor:#010x}")
        return constructor == BOOL_TRUE

    def peer(self) -> tuple[str, int]:
        constructor = self.uint()
        if constructor in PEERS_LONG:
            return PEERS_LONG[constructor], self.long()
        if constructor in PEERS_INT:
            return PEERS_INT[constructor], self.int()
        raise TLError(f"unknown Peer constructor {constructor:#010x}")


@dataclass
class TLMessage:
    """What the parser takes from a Message object."""

    constructor: str
    flags: int
    id: int | None = None
    from_peer: tuple[str, int] | None = None
    peer: tuple[str, int] | None = None
    date: int | None = None
    text: str | None = None
    media: str | None = None
    media_kind: str | None = None
    action: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    out: bool | None = None
    forwarded: bool = False
    edited: bool | None = None
    details: dict[str, str] = field(default_factory=dict)

    @property
    def service(self) -> bool:
        return self.constructor.startswith("messageService")

    @property
    def empty(self) -> bool:
        return self.constructor.startswith("messageEmpty")


def decode_message(blob: bytes) -> TLMessage:
    """Decode the head of a TL Message object (up to text and media type); TLError if unsupported."""
    reader = TLReader(blob)
    constructor = reader.uint()
    if constructor == MESSAGE_EMPTY_OLD:
        return TLMessage("messageEmpty_old", 0, id=reader.int())
    if constructor == MESSAGE_EMPTY:
        flags = reader.uint()
        return TLMessage("messageEmpty", flags, id=reader.int(), peer=reader.peer() if flags & 1 else None)
    if constructor not in MESSAGES:
        raise TLError(f"unsupported Message constructor {constructor:#010x}")
    name, fields, media = MESSAGES[constructor]
    message = TLMessage(name, 0)
    flags = [0, 0]
    for spec in fields:
        _field(reader, spec, flags, message)
    message.flags = flags[0]
    if constructor in EDIT_DATE:
        message.edited = bool(flags[0] & (1 << 15))
    if "flags" in fields and message.out is None:
        message.out = bool(flags[0] & 2)
    message.date = reader.int()
    if media == "none":
        message.action = reader.uint()
        return message
    message.text = decode_text(reader.bytes())
    if media == "always" or flags[0] & (1 << 9):
        _media(reader, message)
    return message


def _present(spec: str, flags: list[int]) -> tuple[str, bool]:
    """The field's name and whether it is present under the flags read so far."""
    if "?" not in spec:
        return spec, True
    name, condition = spec.split("?")
    word, _, bit = condition.rpartition(".")
    return name, bool(flags[1 if word == "2" else 0] & (1 << int(bit)))


_LINK_FIELDS = frozenset(("fwd:int", "fwd:peer", "fwd:header", "via:int", "via:long", "reply:int", "reply:header"))


def _field(reader: TLReader, spec: str, flags: list[int], message: TLMessage) -> None:
    name, present = _present(spec, flags)
    if not present:
        return
    if name == "flags":
        flags[0] = reader.uint()
    elif name == "flags2":
        flags[1] = reader.uint()
    elif name.startswith("skip:"):
        _skip(reader, name[5:])
    elif name in _LINK_FIELDS:
        _link_field(reader, name, message)
    else:
        _own_field(reader, name, spec, message)


def _own_field(reader: TLReader, name: str, spec: str, message: TLMessage) -> None:
    """A field about the message itself: its id, time to live, sender, chat and direction."""
    if name == "id":
        message.id = reader.int()
    elif name == "ttl":
        message.details["ttl"] = str(reader.int())
    elif name == "from:int":
        message.from_peer = ("user", reader.int())
    elif name == "from:peer":
        message.from_peer = reader.peer()
    elif name == "peer":
        message.peer = reader.peer()
    elif name == "bool:out":
        message.out = reader.bool()
    elif name == "bool:unread":
        reader.bool()
    else:
        raise AssertionError(f"layout field {spec!r} is not known")  # a bug in the table above, not in the data


def _link_field(reader: TLReader, name: str, message: TLMessage) -> None:
    """A field linking the message to another: where it was forwarded from, the bot it came via, what it replies to."""
    if name == "fwd:int":
        _forwarded(message, ("user", reader.int()), reader.int())
    elif name == "fwd:peer":
        _forwarded(message, reader.peer(), reader.int())
    elif name == "fwd:header":
        _forward_header(reader, message)
    elif name in ("via:int", "via:long"):
        message.details["via_bot_id"] = str(reader.int() if name == "via:int" else reader.long())
    elif name == "reply:int":
        message.details["reply_to_message_id"] = str(reader.int())
    else:  # reply:header, the last of _LINK_FIELDS
        _reply_header(reader, message)


def _skip(reader: TLReader, kind: str) -> None:
    {"int": reader.int, "long": reader.long, "peer": reader.peer, "string": reader.bytes}[kind]()


def _forwarded(message: TLMessage, origin: tuple[str, int] | None, date: int) -> None:
    message.forwarded = True
    if origin is not None:
        message.details["forwarded_from"] = f"{origin[0]}:{origin[1]}"
    message.details["forwarded_date"] = str(date)


def _forward_header(reader: TLReader, message: TLMessage, record: bool = True) -> None:
    """A MessageFwdHeader; `record` False for the one inside a reply header (the replied-to origin)."""
    constructor = reader.uint()
    if constructor not in FWD_HEADERS:
        raise TLError(f"unsupported MessageFwdHeader constructor {constructor:#010x}")
    flags = reader.uint()
    origin = None
    for spec in FWD_HEADERS[constructor]:
        name, present = _present(spec, [flags, 0])
        if not present:
            continue
        if name == "from:int":
            origin = ("user", reader.int())
        elif name == "from:peer":
            origin = reader.peer()
        elif record:
            message.details["forwarded_from_name"] = decode_text(reader.bytes())
        else:
            reader.bytes()
    date = reader.int()
    for kind, bit in FWD_TAILS[constructor]:
        if flags & (1 << bit):
            _skip(reader, kind)
    if record:
        _forwarded(message, origin, date)


def _reply_header(reader: TLReader, message: TLMessage) -> None:
    constructor = reader.uint()
    if constructor == REPLY_OLD:
        flags = reader.uint()
        message.details["reply_to_message_id"] = str(reader.int())
        if flags & 1:
            reader.peer()
        if flags & 2:
            reader.int()
        return
    if constructor in (REPLY_STORY_USER, REPLY_STORY_PEER):
        peer = ("user", reader.long()) if constructor == REPLY_STORY_USER else reader.peer()
        message.details["reply_to_story"] = f"{peer[0]}:{peer[1]}/{reader.int()}"
        return
    if constructor not in REPLY_QUOTING:
        raise TLError(f"unsupported MessageReplyHeader constructor {constructor:#010x}")
    flags = reader.uint()
    if flags & (1 << 8):
        raise TLError("reply header carries the replied-to media, which is not decoded")
    if flags & (1 << 4):
        message.details["reply_to_message_id"] = str(reader.int())
    if flags & 1:
        reader.peer()
    if flags & (1 << 5):
        _forward_header(reader, message, record=False)
    if flags & 2:
        reader.int()
    if flags & (1 << 6):
        message.details["reply_quote"] = decode_text(reader.bytes())
    if flags & (1 << 7):
        _skip_entities(reader)
    for bit, kind in ((10, "int"), (11, "int"), (12, "string")):
        if bit < REPLY_QUOTING[constructor] and flags & (1 << bit):
            _skip(reader, kind)


def _skip_entities(reader: TLReader) -> None:
    """A Vector<MessageEntity>; its count is bounded by the bytes left, so hostile counts end at once."""
    if reader.uint() != VECTOR:
        raise TLError("quote entities are not a Vector")
    count = reader.int()
    if count < 0 or count > (len(reader.data) - reader.offset) // ENTITY_MIN_SIZE:
        raise TLError(f"quote entity count {count} does not fit the blob")
    for _ in range(count):
        constructor = reader.uint()
        if constructor not in ENTITIES:
            raise TLError(f"unsupported MessageEntity constructor {constructor:#010x}")
        flags_first, tail = ENTITIES[constructor]
        if flags_first:
            reader.uint()
        reader.int()
        reader.int()
        if tail is not None:
            _skip(reader, tail)


def _media(reader: TLReader, message: TLMessage) -> None:
    media = reader.uint()
    message.media, message.media_kind = MEDIA.get(media, (f"{media:#010x}", "unknown"))
    if media in GEO_AFTER_FLAGS:
        reader.uint()
    if media in GEO_FIRST or media in GEO_AFTER_FLAGS:
        point = reader.uint()
        if point == GEO_POINT:
            reader.uint()
        if point in (GEO_POINT, GEO_POINT_HASH, GEO_POINT_OLD):
            message.longitude = reader.double()
            message.latitude = reader.double()

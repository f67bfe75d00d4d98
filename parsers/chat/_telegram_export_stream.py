"""Reading a Telegram Desktop `result.json` as a stream, so an export of any size fits in bounded memory.

Two passes over the scratch copy, both with ijson:
1. The survey (`survey`) walks every token once with a bounded depth, and learns what a message
   needs from outside its own object (the owner, each chat's name, type and id, which the JSON may
   place after the messages) and how many messages each chat's list holds. It also proves that the
   file is well formed, nests at most MAX_DEPTH deep and holds no message over MAX_MESSAGE_BYTES.
2. The messages. For a file the survey proved sound, ijson's C item builder gives each message
   object (`_sound_stream`), shared out over the chats by the survey's counts (a key holding a
   `.` or named `item`, which ijson's string prefixes would take for a path, makes a file unsound). Otherwise the
   careful stream (`_careful_stream`) builds each message itself within the budgets, stops at the
   fault with its place (byte, chat, message), and keeps every message before it.

Both passes give chats, then left chats (the order json.load gave), one pass per section. The C
backend is used unless the file holds a surrogate escape or an integer past 64 bits (see `survey`).
Budgets: MAX_DEPTH containers open at once, MAX_VALUE_BYTES read without a parser event (one
string that long; yajl's time on it grows with its square), MAX_MESSAGE_BYTES per message.

ijson's own prefixed events are not used on a file not yet proven: their prefix strings are rebuilt
at every level, which a file nested a million deep turns into quadratic time and memory (measured:
40,000 levels took 3.8 GiB). `basic_parse` events carry no prefix; `_events` keeps its own, and only
for the few top levels that matter.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

import ijson

MAX_MESSAGE_BYTES = 4 << 20  # one message's strings (and 8 bytes per other value); a larger one is left out with a warning
MAX_DEPTH = 64  # containers open at once; a real export nests about ten deep
READ_BUFFER = 1 << 16
SHALLOW = 5  # prefixes are kept this deep: chats.list.item.messages.item
BOM = b"\xef\xbb\xbf"
SCALAR_EVENTS = frozenset(("null", "boolean", "integer", "double", "number", "string"))
STARTS = frozenset(("start_map", "start_array"))
ENDS = frozenset(("end_map", "end_array"))
SECTIONS = ("chats", "left_chats")
CHAT_FIELDS = ("name", "type", "id")
JSON_FAULTS: tuple[type[BaseException], ...] = (ijson.JSONError, UnicodeDecodeError)
# The pure-Python backend keeps what the C one cannot: lone surrogate escapes (as json.load does) and integers past 64 bits.
EXACT_BACKEND = ijson.get_backend("python")

ITEM = 0  # an array element in a prefix (map keys are always text, so none can pass for it)
Prefix = tuple[str | int, ...]
MAX_VALUE_BYTES = 64 << 20  # bytes read without a single parser event: one string or number that long stops the file
SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
CARRY = 5  # bytes of a chunk kept to find an escape cut by the chunk boundary


class TooDeep(ValueError):
    """More containers open at once than MAX_DEPTH."""


class CountMismatch(ValueError):
    """The two passes disagree on a chat's messages (the scratch copy changed under the reader)."""


FAULTS: tuple[type[BaseException], ...] = (*JSON_FAULTS, TooDeep, CountMismatch)  # with ValueTooLarge, below


_END = object()


class ValueTooLarge(ValueError):
    """MAX_VALUE_BYTES read with no parser event: one value that long (yajl's time on a long string grows with its square)."""


FAULTS = (*FAULTS, ValueTooLarge)


class _CountingReader:
    """The scratch copy as ijson reads it, minus a leading BOM: counts bytes for error locations, bounds one value's
    length, and notes `\\uD800`-`\\uDFFF` escapes, which ijson's C backend turns into '?' or refuses."""

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._first = True
        self._tail = b""
        self.consumed = 0
        self.mark = 0  # bytes consumed when the last event was seen
        self.surrogate_escapes = False

    def read(self, size: int = -1) -> bytes:
        if self.consumed - self.mark > MAX_VALUE_BYTES:
            raise ValueTooLarge(f"no JSON value ended within {MAX_VALUE_BYTES} bytes (from byte {self.mark})")
        data = self._handle.read(size)
        self.consumed += len(data)
        if self._first and data:  # ijson first reads 0 bytes to learn whether the file gives bytes or text
            self._first = False
            if data.startswith(BOM):
                data = data[len(BOM):]
        if not self.surrogate_escapes and data:
            self.surrogate_escapes = SURROGATE_ESCAPE.search(self._tail + data) is not None
            self._tail = data[-CARRY:]
        return data


def _events(reader: _CountingReader, backend: object = ijson) -> Iterator[tuple[Prefix | None, str, object]]:
    """(prefix, event, value) like ijson.parse, the prefix a tuple, None below SHALLOW levels; depth bounded."""
    open_containers: list[tuple[Prefix | None, bool]] = []  # (prefix, is an array)
    current: Prefix | None = ()
    for event, value in backend.basic_parse(reader, use_float=True, buf_size=READ_BUFFER):
        reader.mark = reader.consumed
        if event == "map_key":
            parent = open_containers[-1][0]
            current = None if parent is None or len(parent) >= SHALLOW else (*parent, str(value))
            yield parent, event, value
        elif event in STARTS:
            yield current, event, None
            if len(open_containers) >= MAX_DEPTH:
                raise TooDeep(f"nested deeper than {MAX_DEPTH} levels")
            open_containers.append((current, event == "start_array"))
            if event == "start_array":
                current = None if current is None or len(current) >= SHALLOW else (*current, ITEM)
        elif event in ENDS:
            closed, _ = open_containers.pop()
            yield closed, event, None
            if open_containers and open_containers[-1][1]:
                parent = open_containers[-1][0]
                current = None if parent is None or len(parent) >= SHALLOW else (*parent, ITEM)
        else:
            yield current, event, value


@dataclass(frozen=True)
class Place:
    section: str | None
    index: int | None


@dataclass(frozen=True)
class Skipped:
    """Something the stream left out, as a warning at its place."""

    kind: str
    message: str


@dataclass(frozen=True)
class ChatEnd:
    local_only: list[int]


@dataclass(frozen=True)
class _List:
    """One chat's message list, as the survey counted it."""

    section: str
    count: int


@dataclass
class Survey:
    """What the first pass learnt; `sound` when the careful stream is not needed."""

    top_not_object: bool = False
    single: bool = False  # a single-chat export (a top-level `messages`)
    owner: str | None = None
    chats: dict[str, dict[str, object]] = field(default_factory=dict)
    plan: dict[str, list[_List | tuple[Place, Skipped]]] = field(default_factory=dict)  # per top key, in file order
    sound: bool = True
    exact: bool = False  # read with the pure-Python backend (see survey)


def section_name(key: str, position: int) -> str:
    return f"{key}.list[{position}].messages"


def _chat_messages(prefix: Prefix, single: bool, positions: dict[str, int]) -> tuple[str, str] | None:
    """(top key, section name) when `prefix` is a chat's `messages` value."""
    if single:
        return ("messages", "messages") if prefix == ("messages",) else None
    if len(prefix) == 4 and prefix[0] in SECTIONS and prefix[1:] == ("list", ITEM, "messages"):
        return prefix[0], section_name(prefix[0], positions[prefix[0]])
    return None


def _structure(prefix: Prefix, event: str, value: object, positions: dict[str, int], has_list: dict[str, bool],
               chat_state: dict[str, bool]) -> tuple[str, Place, Skipped] | None:
    """Chat positions and the notices of a full export's structure (a `list` that is not a list, a chat without messages)."""
    if len(prefix) == 3 and prefix[0] in SECTIONS and prefix[1:] == ("list", ITEM):
        if event in SCALAR_EVENTS or event in STARTS:
            positions[prefix[0]] += 1
            chat_state["has_messages"] = event != "start_map"  # only an object is a chat; others are passed over
        elif event == "end_map" and not chat_state["has_messages"]:
            name = section_name(prefix[0], positions[prefix[0]])
            return prefix[0], Place(name, None), Skipped("bad_json", f"{name} is not a list")
    elif len(prefix) == 2 and prefix[0] in SECTIONS and prefix[1] == "list" and event not in ENDS:
        has_list[prefix[0]] = True
        if event != "start_array":
            return prefix[0], Place(prefix[0], None), Skipped("bad_json", f"{prefix[0]}.list is missing or not a list")
    elif len(prefix) == 1 and prefix[0] in SECTIONS:
        if (event == "end_map" and not has_list[prefix[0]]) or (event in SCALAR_EVENTS and value is not None) or event == "start_array":
            return prefix[0], Place(prefix[0], None), Skipped("bad_json", f"{prefix[0]}.list is missing or not a list")
    return None


def survey(path: Path) -> Survey:
    """The first pass (see the module's docstring); a fault only marks the survey unsound.

    ijson's C backend cannot read lone surrogate escapes (it refuses a low one and silently writes
    '?' for a high one) nor integers past 64 bits; a file holding either is surveyed again and read
    carefully with the pure-Python backend, which keeps them as json.load does.
    """
    found = _survey(path, ijson)
    if not found.exact:
        return found
    exact = _survey(path, EXACT_BACKEND)
    exact.sound, exact.exact = False, True
    return exact


class _SurveyState:
    """What the survey has seen outside the contents of messages, the open message list included."""

    def __init__(self) -> None:
        self.found = Survey()
        self.positions = dict.fromkeys(SECTIONS, -1)
        self.has_list = dict.fromkeys(SECTIONS, False)
        self.chat_state = {"has_messages": False}
        self.messages_prefix: Prefix | None = None
        self.counting: tuple[str, str] | None = None  # (top key, section) of the open message list
        self.count = 0


def _survey(path: Path, backend: object) -> Survey:
    state = _SurveyState()
    found = state.found
    level = size = 0  # inside a message: open containers and bytes (kept in locals: most events are these)
    with open(path, "rb") as handle:
        try:
            reader = _CountingReader(handle)
            for prefix, event, value in _events(reader, backend):
                if level:
                    level += 1 if event in STARTS else -1 if event in ENDS else 0
                    size += len(value) if isinstance(value, str) else 8
                    if level == 0 and size > MAX_MESSAGE_BYTES:
                        found.sound = False
                    continue
                if state.messages_prefix is not None and prefix is not None and event != "map_key":
                    if prefix == (*state.messages_prefix, ITEM):
                        state.count += 1
                        if event in STARTS:
                            level, size = 1, 0
                        continue
                    if prefix == state.messages_prefix and event == "end_array":
                        found.plan.setdefault(state.counting[0], []).append(_List(state.counting[1], state.count))
                        state.messages_prefix = state.counting = None
                        continue
                if prefix is not None and _survey_event(state, prefix, event, value):
                    return found
        except (*JSON_FAULTS, TooDeep, ValueTooLarge) as error:
            found.sound = False  # the careful stream meets the same fault and reports it with its place
            found.exact = backend is ijson and "integer overflow" in str(error)  # yajl's limit, not the file's fault
        found.exact = found.exact or reader.surrogate_escapes
    return found


def _survey_event(state: _SurveyState, prefix: Prefix, event: str, value: object) -> bool:
    """One event outside messages and their list's own items; True when the survey ends (the top is no object)."""
    found = state.found
    if event == "map_key":
        if "." in str(value) or value == "item":
            found.sound = False  # ijson's string prefixes could not tell this key from a path
        if prefix != ():
            return False
    if prefix == ():
        if event == "map_key" and value == "messages":
            found.single = True
        elif event not in ("start_map", "end_map", "map_key"):
            found.top_not_object = True
            return True
        return False
    if prefix == ("personal_information", "user_id") and event in SCALAR_EVENTS and value is not None:
        found.owner = str(value)
        return False
    target = _chat_messages(prefix, found.single, state.positions)
    if target is not None:
        state.chat_state["has_messages"] = True
        if event == "start_array":
            state.messages_prefix, state.counting, state.count = prefix, target, 0
        elif event not in ENDS:
            found.plan.setdefault(target[0], []).append((Place(target[1], None), Skipped("bad_json", f"{target[1]} is not a list")))
        return False
    _chat_field_or_structure(state, prefix, event, value)
    return False


def _chat_field_or_structure(state: _SurveyState, prefix: Prefix, event: str, value: object) -> None:
    """A chat's name, type or id, or (a full export) the structure around the chats."""
    found = state.found
    if len(prefix) == 1 and prefix[0] in CHAT_FIELDS:
        if event in SCALAR_EVENTS:
            found.chats.setdefault("messages", {})[prefix[0]] = value
        return
    if found.single:
        return
    if len(prefix) == 4 and prefix[0] in SECTIONS and prefix[1:3] == ("list", ITEM) and prefix[3] in CHAT_FIELDS:
        if event in SCALAR_EVENTS:
            found.chats.setdefault(section_name(prefix[0], state.positions[prefix[0]]), {})[prefix[3]] = value
        return
    notice = _structure(prefix, event, value, state.positions, state.has_list, state.chat_state)
    if notice is not None:
        found.plan.setdefault(notice[0], []).append((notice[1], notice[2]))


class MessageStream:
    """The second pass: (place, message object | Skipped | ChatEnd), and the fault that ended it, if any."""

    def __init__(self, path: Path, found: Survey) -> None:
        self._path = path
        self._survey = found
        self._local_only: list[int] = []
        self.failure: str | None = None
        self.failure_place: Place | None = None
        self._reading = Place(None, None)  # the message list and message being read, for a fault's location
        self._reader: _CountingReader | None = None

    def local_only(self, index: int) -> None:
        self._local_only.append(index)

    def __iter__(self) -> Iterator[tuple[Place, object]]:
        """Chats, then left chats (the order json.load gave), whichever path reads them."""
        for key in (("messages",) if self._survey.single else SECTIONS):
            with ExitStack() as files:
                try:
                    if self._survey.sound:
                        yield from self._sound_stream(files, key)
                    else:
                        yield from self._careful_stream(self._open(files), key)
                except FAULTS as error:
                    yield from self._stopped(error)

    def _stopped(self, error: BaseException) -> Iterator[tuple[Place, object]]:
        """The first fault is the file's error row; a list it cut short still ends (its local-time warning)."""
        place = self._reading
        if self.failure is None:
            consumed = self._reader.consumed if self._reader is not None else 0
            self.failure = f"(stopped after reading {consumed} bytes" + (
                f", in {place.section} at message {place.index}" if place.section else "") + f"): {error}"
            self.failure_place = place if place.section else None
        if place.section is not None:
            yield place, ChatEnd(self._local_only)
        self._reading = Place(None, None)

    def _open(self, files: ExitStack) -> _CountingReader:
        self._reader = _CountingReader(files.enter_context(open(self._path, "rb")))
        return self._reader

    def _sound_stream(self, files: ExitStack, key: str) -> Iterator[tuple[Place, object]]:
        """A file the survey proved sound: ijson's C builder per message, shared out by the survey's counts."""
        prefix = "messages.item" if key == "messages" else f"{key}.list.item.messages.item"
        items: Iterator[object] | None = None
        for step in self._survey.plan.get(key, []):
            if isinstance(step, tuple):
                yield step
                continue
            self._local_only = []
            for index in range(1, step.count + 1):
                if items is None:
                    items = ijson.items(self._open(files), prefix, use_float=True, buf_size=READ_BUFFER)
                self._reading = Place(step.section, index)
                item = next(items, _END)
                if item is _END:
                    raise CountMismatch(f"the first pass counted {step.count} messages here; the second found {index - 1}")
                yield self._reading, item
            yield Place(step.section, step.count), ChatEnd(self._local_only)
        self._reading = Place(None, None)
        if items is not None and next(items, _END) is not _END:
            raise CountMismatch(f"the second pass found more messages under {prefix} than the first counted")

    def _careful_stream(self, reader: _CountingReader, key: str) -> Iterator[tuple[Place, object]]:
        """Any other file: the messages under `key`, each built here within the budgets, up to the fault."""
        positions = dict.fromkeys(SECTIONS, -1)
        has_list = dict.fromkeys(SECTIONS, False)
        chat_state = {"has_messages": False}
        messages_prefix: Prefix | None = None  # the open message list
        section: str | None = None
        index = 0
        builder: _Builder | None = None
        for prefix, event, value in _events(reader, EXACT_BACKEND if self._survey.exact else ijson):
            if builder is not None:
                builder.feed(event, value)
                if builder.depth == 0:
                    if builder.too_large:
                        yield Place(section, index), Skipped("message_too_large", f"message {index} is larger than "
                                                             f"{MAX_MESSAGE_BYTES} bytes; it is left out")
                    else:
                        yield Place(section, index), builder.value
                    builder = None
                continue
            if prefix is None or event == "map_key" or (prefix and prefix[0] != key):
                continue
            if messages_prefix is not None and prefix == (*messages_prefix, ITEM):
                index += 1
                self._reading = Place(section, index)
                if event in STARTS:
                    builder = _Builder(event)
                else:
                    yield Place(section, index), value  # not an object: a bad_row
                continue
            if messages_prefix is not None and prefix == messages_prefix and event == "end_array":
                yield Place(section, index), ChatEnd(self._local_only)
                messages_prefix, section, self._local_only = None, None, []
                self._reading = Place(None, None)
                continue
            target = _chat_messages(prefix, self._survey.single, positions)
            if target is not None:
                chat_state["has_messages"] = True
                if event == "start_array":
                    messages_prefix, section, index, self._local_only = prefix, target[1], 0, []
                    self._reading = Place(section, 0)
                elif event not in ENDS:
                    yield Place(target[1], None), Skipped("bad_json", f"{target[1]} is not a list")
                continue
            if not self._survey.single:
                notice = _structure(prefix, event, value, positions, has_list, chat_state)
                if notice is not None:
                    yield notice[1], notice[2]


class _Builder:
    """One message object assembled from its events, within MAX_MESSAGE_BYTES."""

    def __init__(self, event: str) -> None:
        self._builder = ijson.ObjectBuilder()
        self.depth = 0
        self.size = 0
        self.too_large = False
        self.feed(event, None)

    def feed(self, event: str, value: object) -> None:
        if event in STARTS:
            self.depth += 1
        elif event in ENDS:
            self.depth -= 1
        if self.too_large:
            return
        self.size += len(value) if isinstance(value, str) else 8
        if self.size > MAX_MESSAGE_BYTES:
            self.too_large = True
            self._builder = ijson.ObjectBuilder()  # let the partial object go
            return
        self._builder.event(event, value)

    @property
    def value(self) -> object:
        return self._builder.value

"""Case-wide search over messages, artefacts, media and identifiers through an open DuckDB connection.

The connection carries one view per table (`messages`, `artefacts`, `media`, optionally `identifiers`),
each with `exhibit_id` (case/views.py builds them over a case folder). DuckDB does the cheap part:
it drops rows that cannot match (an ASCII value that does not contain an ASCII term: for ASCII text the
fold is exactly lower-casing, so the test is exact) and times outside --since/--until. Every other
candidate row is streamed in batches to Python, folded (case/fold.py) and matched exactly, and each hit
is reported on the original text's span. Memory stays flat: rows are read `BATCH_ROWS` at a time.

Given the Parquet parts behind the views (`parts`, as the CLI does), each exhibit's part is read on its
own: one that cannot be read, or whose searched field is not text, costs itself alone and makes the
search incomplete (`SearchReport.unread`, said), never a clean empty result. Hits come in one fixed
order (see `search`), so the first N under a hit budget are always the same N.

Budgets: only the first `field_budget` characters of one value are searched (the values cut so are
counted), and the search stops after `hit_budget` hits (the report says so: `budget_reached`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

import duckdb

from case.fold import Folded, fold, fold_with_map
from case.times import NaiveTimeError, epoch_ns_sql, parse_utc
from manifests.files import FileTooLargeError, read_utf8
from manifests.text import display
from parsers.identifiers import phones, registry
from parsers.identifiers.base import ID, TEXT, Context

BATCH_ROWS = 2048
FIELD_BUDGET = 1_048_576  # characters of one value searched
HIT_BUDGET = 10_000  # hits before the search stops
CONTEXT_CHARS = 40  # original characters shown each side of a hit
TERMS_FILE_BUDGET = 16 * 1024 * 1024  # bytes of one terms file
MIN_PHONE_DIGITS = 5
# ASCII classes, read alike by Python re and DuckDB's RE2 (whose \s lacks \v); NFKD makes other spaces ASCII.
_PHONE_LIKE = re.compile(r"\+?[0-9 \t\n\r\x0b\x0c().\-/]+")
_PHONE_SEPARATORS = r"[ \t\n\r\x0b\x0c().\-/]{0,3}"


class SearchUsageError(ValueError):
    """A term, regex or terms file that cannot be used (exit 2 in the CLI)."""


# ---- what to search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldSpec:
    """One searchable text field. `element` names the struct member for a list of structs (recipients)."""

    name: str  # as reported: body, recipients.name, ...
    column: str
    element: str | None = None
    unless_same_as: str | None = None  # not searched in a row where it holds the same text as this column (already searched)

    def sql_text(self) -> str:
        """A text expression for the DuckDB pre-filter (list members joined by newlines)."""
        if self.element is None:
            return self.column
        return f"array_to_string(list_transform({self.column}, lambda r: r.{self.element}), chr(10))"


@dataclass(frozen=True)
class TableSpec:
    """A searched view: its fields, the time a hit carries, the order rows are read in, the columns that locate a row."""

    table: str
    order: str
    time_columns: tuple[str, ...]  # the hit's time: the first of these that is not null
    fields: tuple[FieldSpec, ...]
    provenance: tuple[str, ...] = ("path", "entry_index", "store_table", "store_row_id", "message_index", "media_index")


TABLES: tuple[TableSpec, ...] = (
    TableSpec("messages", "message_index", ("sent_time", "sent", "received_time", "received"), (
        FieldSpec("body", "body"), FieldSpec("sender_name", "sender_name"), FieldSpec("sender_id", "sender_id"),
        FieldSpec("conversation_title", "conversation_title"),
        FieldSpec("recipients.name", "recipients", "name"), FieldSpec("recipients.id", "recipients", "id"))),
    TableSpec("artefacts", "entry_index", ("modified_time", "modified"), (FieldSpec("path", "path"), FieldSpec("logical_path", "logical_path"))),
    TableSpec("media", "media_index", ("capture_time", "capture_time_utc"), (
        FieldSpec("make", "make"), FieldSpec("model", "model"), FieldSpec("body_serial", "body_serial"), FieldSpec("lens_serial", "lens_serial"))),
    # identifiers has no time of its own: a hit takes its origin row's (the message's sent_time, the photo's capture_time).
    TableSpec("identifiers", "identifier_index", (), (FieldSpec("identifier", "identifier"), FieldSpec("identifier_raw", "identifier_raw", unless_same_as="identifier"))),
)

# Exhibits sealed before the column renames of issue 11 keep the old names; a case's views (union by name)
# then hold both, each null for the other exhibits. Times above list the old name second; so does this.
_OLD_PROVENANCE = {("messages", "path"): "source_path", ("messages", "entry_index"): "source_entry_index",
                   ("messages", "store_table"): "source_table", ("messages", "store_row_id"): "source_row_id"}

# --identifier looks in identifiers and in what names a person in messages.
IDENTIFIER_SCOPE = frozenset({("identifiers", "identifier"), ("identifiers", "identifier_raw"),
                              ("messages", "body"), ("messages", "sender_id"), ("messages", "recipients.id")})

# identifiers.origin_table / origin_index name the row an identifier came from: its time and index come from there.
_ORIGINS = (("messages", "message_index", ("sent_time", "received_time")), ("media", "media_index", ("capture_time",)))


# ---- patterns -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pattern:
    """A folded literal term or a compiled regex (run on the folded text), and where it applies.

    `prefilter` lists DuckDB tests that every ASCII value the pattern matches passes (("contains", folded
    ASCII text) or ("regexp", an RE2 pattern)); None means none is known, so every value is read.
    """

    label: str  # as given: "pera", "re:...", "identifier:..."
    literal: str | None = None
    regex: re.Pattern[str] | None = None
    prefilter: tuple[tuple[str, str], ...] | None = None
    scope: frozenset[tuple[str, str]] | None = None  # (table, field); None: every field

    def applies(self, table: str, field_name: str) -> bool:
        return self.scope is None or (table, field_name) in self.scope

    def spans(self, folded: str) -> Iterator[tuple[int, int]]:
        """Non-overlapping (start, end) spans in the folded text, left to right."""
        if self.literal is not None:
            start = folded.find(self.literal)
            while start >= 0:
                yield start, start + len(self.literal)
                start = folded.find(self.literal, start + len(self.literal))
            return
        assert self.regex is not None
        for match in self.regex.finditer(folded):
            if match.end() > match.start():
                yield match.start(), match.end()


def term(text: str, scope: frozenset[tuple[str, str]] | None = None) -> Pattern:
    """A literal term, matched case- and accent-insensitively."""
    folded = fold(text)
    if not folded:
        raise SearchUsageError(f"empty search term: {display(text)} (nothing is left once case and accents are folded)")
    # A folded term with a non-ASCII character cannot be in an ASCII value: only non-ASCII values are read.
    return Pattern(label=text, literal=folded, prefilter=(("contains", folded),) if folded.isascii() else (), scope=scope)


def _compile(text: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(text, re.IGNORECASE)
    except re.error as error:
        raise SearchUsageError(f"invalid regex {display(text)}: {error}") from None
    except (OverflowError, RecursionError) as error:  # patterns too large or deep for the compiler
        raise SearchUsageError(f"invalid regex {display(text)}: {type(error).__name__}: {error}") from None
    if compiled.search("") is not None:
        raise SearchUsageError(f"regex {display(text)} matches the empty string, so it would match every value")
    return compiled


def regex(text: str, scope: frozenset[tuple[str, str]] | None = None) -> Pattern:
    """A Python `re` pattern, run on the folded text with IGNORECASE (so write it without accents)."""
    return Pattern(label=f"re:{text}", regex=_compile(text), scope=scope)


def parse_line(line: str) -> Pattern | None:
    """One line of a terms file: `re:` starts a regex, `#` a comment; blank lines are skipped."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#"):
        return None
    if stripped.startswith("re:"):
        return regex(stripped[3:])
    return term(stripped)


def read_terms_file(path: Path) -> list[Pattern]:
    """Terms and regexes of a UTF-8 file, one a line; a bad line is refused with its line number."""
    try:
        text = read_utf8(path, TERMS_FILE_BUDGET)
    except OSError as error:
        raise SearchUsageError(f"cannot read terms file {display(str(path))}: {error.strerror or error}") from None
    except FileTooLargeError:
        raise SearchUsageError(f"terms file {display(str(path))} is larger than {TERMS_FILE_BUDGET:,} bytes") from None
    except UnicodeDecodeError as error:
        raise SearchUsageError(f"terms file {display(str(path))} is not UTF-8 (byte {error.start})") from None
    patterns = []
    for number, line in enumerate(text.splitlines(), start=1):
        try:
            pattern = parse_line(line)
        except SearchUsageError as error:
            raise SearchUsageError(f"{display(str(path))} line {number}: {error}") from None
        if pattern is not None:
            patterns.append(pattern)
    if not patterns:
        raise SearchUsageError(f"terms file {display(str(path))} holds no term")
    return patterns


def normalised_identifiers(value: str, regions: tuple[str, ...] = ()) -> list[str]:
    """The identifiers extractor's normalised values (parsers/identifiers: E.164 phones, lower-cased e-mail
    addresses, IBANs without spaces, ...) for VALUE when VALUE is one identifier whole, read as an id field
    and as free text; `regions` resolve a national phone number as [identifiers] default_regions does."""
    stripped = value.strip()
    found: list[str] = []
    for field_class in (ID, TEXT):
        for hit in registry.extract(stripped, Context(field_class, regions)).hits:
            if hit.found.start == 0 and hit.found.end == len(stripped) and hit.found.value not in found:
                found.append(hit.found.value)
    return found


def regions(codes: Iterable[str]) -> tuple[str, ...]:
    """--region codes, upper-cased; a code the phone-number library does not know is refused."""
    checked = []
    for code in codes:
        if not phones.supported_region(code.strip().upper()):
            raise SearchUsageError(f"unknown region {display(code)} (an ISO 3166 code such as PH)")
        checked.append(code.strip().upper())
    return tuple(checked)


def _token(text: str) -> str:
    """`text` literally, not inside a longer word or number (a lookaround on each end that is a word character)."""
    return (r"(?<!\w)" if re.match(r"\w", text[0]) else "") + re.escape(text) + (r"(?!\w)" if re.match(r"\w", text[-1]) else "")


def identifier_pattern(value: str, regions: tuple[str, ...] = ()) -> Pattern:
    """--identifier VALUE: VALUE and its normalised forms (normalised_identifiers), each as a whole token, and
    for each phone-like form its digits with up to three separators (space . - ( ) /) between any two and
    no digit either side (an optional + before them).

    One pattern, so a value that holds several forms is one hit. Case and accents are folded as for terms.
    """
    folded = fold(value.strip())
    if not folded:
        raise SearchUsageError(f"empty identifier: {display(value)}")
    forms = [value.strip()] + normalised_identifiers(value, regions)
    alternatives: list[str] = []
    prefilter: list[tuple[str, str]] = []
    for form in dict.fromkeys(fold(f) for f in forms):
        alternatives.append(_token(form))
        if form.isascii():
            prefilter.append(("contains", form))
    for form in forms:
        digits = re.sub(r"[^0-9]", "", fold(form))
        body = _PHONE_SEPARATORS.join(digits)
        if _PHONE_LIKE.fullmatch(form) and len(digits) >= MIN_PHONE_DIGITS and ("regexp", body) not in prefilter:
            alternatives.append(rf"(?<![0-9])\+?{body}(?![0-9])")
            prefilter.append(("regexp", body))
    shown = ", ".join(f for f in forms[1:] if fold(f) != folded)
    label = f"identifier:{value}" + (f" ({shown})" if shown else "")
    return Pattern(label=label, regex=_compile("|".join(alternatives)), prefilter=tuple(prefilter), scope=IDENTIFIER_SCOPE)


# ---- hits -----------------------------------------------------------------------------------------


HIT_COLUMNS = ("exhibit_id", "table", "field", "time", "term", "start", "end", "match", "context",
               "path", "entry_index", "store_table", "store_row_id", "message_index", "media_index")


@dataclass(frozen=True)
class Hit:
    """One match. start/end are character offsets in the original value; match and context are escaped for display."""

    exhibit_id: str
    table: str
    field: str
    time_ns: int | None
    term: str
    start: int
    end: int
    match: str
    before: str  # escaped context before the match ("…" first when cut)
    after: str  # escaped context after it
    provenance: tuple[tuple[str, Any], ...]

    @property
    def context(self) -> str:
        return self.before + self.match + self.after

    def get(self, name: str) -> Any:
        return dict(self.provenance).get(name)

    def as_dict(self) -> dict[str, Any]:
        """The hit as a record of HIT_COLUMNS (time as ISO 8601 UTC text)."""
        record: dict[str, Any] = {"exhibit_id": display(self.exhibit_id), "table": self.table, "field": self.field, "time": iso_time(self.time_ns),
                                  "term": display(self.term), "start": self.start, "end": self.end, "match": self.match, "context": self.context}
        for name in HIT_COLUMNS[9:]:
            value = self.get(name)
            record[name] = display(value) if isinstance(value, str) else value
        return record


def iso_time(nanoseconds: int | None) -> str | None:
    """YYYY-MM-DDTHH:MM:SS[.fffffffff]Z, at the precision stored."""
    if nanoseconds is None:
        return None
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{fraction:09d}Z" if fraction else f"{text}Z"


def context_of(original: str, start: int, end: int, chars: int = CONTEXT_CHARS) -> tuple[str, str]:
    """About `chars` original characters before and after the hit, escaped for display; … marks a cut."""
    left = max(0, start - chars)
    right = min(len(original), end + chars)
    return ("…" if left > 0 else "") + display(original[left:start]), display(original[end:right]) + ("…" if right < len(original) else "")


# ---- matching -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Matcher:
    """The patterns of one search; finds their hits in one value."""

    patterns: tuple[Pattern, ...]

    def __post_init__(self) -> None:
        if not self.patterns:
            raise SearchUsageError("nothing to search for: give a TERM, --terms-file, --regex or --identifier")

    def for_field(self, table: str, field_name: str) -> tuple[Pattern, ...]:
        return tuple(p for p in self.patterns if p.applies(table, field_name))

    def find(self, patterns: Sequence[Pattern], original: str, budget: int = FIELD_BUDGET) -> list[tuple[Pattern, int, int]]:
        """Every (pattern, start, end) in the first `budget` characters of `original`, in text order; one per
        pattern and occurrence in the original (spans of one pattern never overlap there)."""
        searched = original[:budget]
        folded: Folded = fold_with_map(searched)
        found = []
        for order, pattern in enumerate(patterns):
            reached = 0  # one hit per original occurrence: "s" in "ß" (folded "ss") is found twice on one character
            for start, end in pattern.spans(folded.text):
                first, last = folded.original_span(start, end, searched)
                if first < reached:
                    continue
                reached = last
                found.append((first, last, order, pattern))
        found.sort(key=lambda item: item[:3])
        return [(pattern, first, last) for first, last, _order, pattern in found]

    def matches_any(self, table: str, values: dict[str, Any]) -> bool:
        """True when a pattern matches one of this table's fields in `values` (a row as a dict of columns)."""
        spec = _spec(table)
        for field_spec in spec.fields:
            patterns = self.for_field(table, field_spec.name)
            if patterns and field_spec.column in values:
                for _label, text in _field_texts(field_spec, values[field_spec.column]):
                    if self.find(patterns, text):
                        return True
        return False


def _spec(table: str) -> TableSpec:
    for spec in TABLES:
        if spec.table == table:
            return spec
    raise KeyError(table)


def _field_texts(field_spec: FieldSpec, value: Any) -> Iterator[tuple[str, str]]:
    """(reported field name, text) for one column value; a list of structs gives one text per member."""
    if value is None:
        return
    if field_spec.element is None:
        if isinstance(value, bytes):
            value = value.decode("utf-8", errors="surrogateescape")
        if isinstance(value, str):
            yield field_spec.name, value
        return
    for index, member in enumerate(value):
        text = member.get(field_spec.element) if isinstance(member, dict) else None
        if isinstance(text, str):
            yield f"{field_spec.column}[{index}].{field_spec.element}", text


# ---- the search -----------------------------------------------------------------------------------


@dataclass
class SearchReport:
    """What the search did, beyond its hits: said in the output, never left silent."""

    hits: int = 0
    rows_read: int = 0
    values_cut: int = 0  # values longer than the field budget, searched in their first characters only
    budget_reached: bool = False
    stopped_in: str | None = None  # "EXHIBIT table" where the hit budget stopped the search
    tables: list[str] = field(default_factory=list)  # tables searched
    notes: list[str] = field(default_factory=list)  # tables not searched, and why
    unread: list[str] = field(default_factory=list)  # what could not be read or searched: the search is not complete
    timeless: int = 0  # rows with a hit but no time, left out under --since/--until

    @property
    def complete(self) -> bool:
        """Every readable row was searched and every hit reported: no budget reached, nothing unread."""
        return not self.budget_reached and not self.unread

    def unreadable(self, note: str) -> None:
        """A part, table or field that could not be read or searched: said, and the search is incomplete."""
        self.notes.append(note)
        self.unread.append(note)

    def lines(self, hit_budget: int, field_budget: int) -> list[str]:
        out = [f"{self.hits:,} {'hit' if self.hits == 1 else 'hits'} in {', '.join(self.tables) or 'no table'} ({self.rows_read:,} candidate rows read)"]
        out.extend(self.notes)
        if self.timeless:
            out.append(f"{self.timeless:,} {'row' if self.timeless == 1 else 'rows'} with a hit but no time left out by --since/--until")
        if self.unread:
            out.append(f"the search is incomplete: {len(self.unread):,} part(s), table(s) or field(s) could not be read or searched (named above)")
        if self.values_cut:
            out.append(f"{self.values_cut:,} values longer than {field_budget:,} characters were searched in their first {field_budget:,} characters only")
        if self.budget_reached:
            out.append(f"hit budget of {hit_budget:,} reached: the search stopped in {self.stopped_in}; more hits may exist")
        return out


@dataclass(frozen=True)
class Filters:
    exhibits: tuple[str, ...] = ()  # empty: every exhibit
    since_ns: int | None = None  # inclusive
    until_ns: int | None = None  # inclusive


def _columns(connection: duckdb.DuckDBPyConnection, source: str) -> dict[str, str]:
    """Column name -> DuckDB type of a FROM item (a view or one part); duckdb.Error when it cannot be read."""
    return {row[0]: row[1] for row in connection.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}


def _view_exists(connection: duckdb.DuckDBPyConnection, view: str) -> bool:
    return connection.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [view]).fetchone()[0] > 0


def _is_text(field_spec: FieldSpec, data_type: str) -> bool:
    """The column holds text (or, for a member field, a list of structs whose member is text)."""
    if field_spec.element is None:
        return data_type == "VARCHAR"
    return data_type.startswith("STRUCT(") and data_type.endswith(")[]") and re.search(
        rf'[(,]\s*"?{re.escape(field_spec.element)}"? VARCHAR[,)]', data_type) is not None


def _literal(text: str) -> str:
    """A SQL string literal of a path the case's views were built from (never user text)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class _Source:
    """Where one table's rows are read: the case's view, or one exhibit's Parquet part of it.

    `sql` is the FROM item, named as the table (so the identifiers' origin lookup can name it);
    `origins` the FROM items of the messages and media an identifiers part points into."""

    spec: TableSpec
    sql: str
    label: str  # as named in notes: the table, or the part's path
    origins: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class _Plan:
    source: _Source
    fields: tuple[tuple[FieldSpec, tuple[Pattern, ...]], ...]
    time_sql: str | None  # nanoseconds since the epoch
    provenance: tuple[tuple[str, str], ...]  # (name, SQL expression)
    order: tuple[str, ...]

    @property
    def spec(self) -> TableSpec:
        return self.source.spec


def _sources(connection: duckdb.DuckDBPyConnection, parts: dict[str, list[Path]] | None, report: SearchReport) -> list[_Source]:
    """Every source to search, table by table in TABLES order; a table the case lacks is noted."""
    sources = []
    for spec in TABLES:
        if parts is None:
            if _view_exists(connection, spec.table):
                origins = tuple((origin, origin) for origin, _index, _times in _ORIGINS)
                sources.append(_Source(spec, spec.table, spec.table, origins))
            else:
                report.notes.append(f"{spec.table}: not in this case, not searched")
            continue
        paths = parts.get(spec.table, [])
        if not paths:
            report.notes.append(f"{spec.table}: not in this case, not searched")
        for path in paths:
            origins = tuple((origin, f"read_parquet({_literal(str(path.parent / f'{origin}.parquet'))})")
                            for origin, _index, _times in _ORIGINS if path.parent / f"{origin}.parquet" in parts.get(origin, []))
            sources.append(_Source(spec, f"read_parquet({_literal(str(path))}) AS {spec.table}", display(str(path)), origins))
    return sources


def _plan(connection: duckdb.DuckDBPyConnection, source: _Source, matcher: Matcher, filters: Filters, report: SearchReport) -> _Plan | None:
    """How one source is searched, or None (said in the report) when it cannot be or need not be."""
    spec = source.spec
    prefix = spec.table if source.label == spec.table else f"{source.label}: {spec.table}"
    try:
        present = _columns(connection, source.sql)
    except duckdb.Error as error:  # a part that cannot be read costs itself, and is said
        report.unreadable(f"{prefix}: cannot be read, not searched: {display(type(error).__name__)}: {display(str(error))}")
        return None
    chosen = []
    for found in spec.fields:
        if found.column not in present:
            continue
        patterns = matcher.for_field(spec.table, found.name)
        if not patterns:
            continue
        if not _is_text(found, present[found.column]):
            report.unreadable(f"{prefix}.{found.name}: not text ({display(present[found.column])}), not searched")
            continue
        chosen.append((found, patterns))
    if not chosen:
        return None
    times = [epoch_ns_sql(name) for name in spec.time_columns if name in present and present[name].startswith("TIMESTAMP")]
    time_sql = (times[0] if len(times) == 1 else f"coalesce({', '.join(times)})") if times else None
    provenance = tuple(item for item in (_provenance(spec.table, name, present) for name in spec.provenance) if item is not None)
    if spec.table == "identifiers" and {"origin_table", "origin_index"} <= set(present):
        time_sql, provenance = _origin_time(connection, source, provenance)
    if time_sql is None and (filters.since_ns is not None or filters.until_ns is not None):
        report.notes.append(f"{prefix}: has no time column, so not searched under --since/--until")
        return None
    if "exhibit_id" not in present:
        report.unreadable(f"{prefix}: has no exhibit_id column, not searched")
        return None
    # Rows in their stored order; a table without its index column is ordered by what locates a row.
    order = (spec.order,) if spec.order in present else tuple(dict.fromkeys([n for n, e in provenance if n == e] + [f.column for f, _ in chosen]))
    return _Plan(source, tuple(chosen), time_sql, provenance, order)


def _provenance(table: str, name: str, present: dict[str, str]) -> tuple[str, str] | None:
    """(name, SQL expression) of one provenance column: the column, its pre-rename name, or both coalesced."""
    columns = [c for c in (name, _OLD_PROVENANCE.get((table, name))) if c is not None and c in present]
    if not columns:
        return None
    return name, columns[0] if len(columns) == 1 else f"coalesce({', '.join(columns)})"


def _origin_time(connection: duckdb.DuckDBPyConnection, source: _Source,
                 provenance: tuple[tuple[str, str], ...]) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """For identifiers: the time of the origin row (a correlated lookup DuckDB runs as a join) and its index
    as message_index or media_index. Fixed SQL over fixed names; an origin table without its time gives none."""
    times = []
    extra = []
    origins = dict(source.origins)
    for origin, index, time_names in _ORIGINS:
        extra.append((index, f"CASE WHEN origin_table = '{origin}' THEN origin_index END"))
        if origin not in origins:
            continue
        from_sql = origins[origin]  # a FROM item without an alias: `o` is given below
        try:
            columns = _columns(connection, from_sql)
        except duckdb.Error:  # the origin part's own search names it
            continue
        stamps = [epoch_ns_sql(f"o.{name}") for name in time_names if columns.get(name, "").startswith("TIMESTAMP")]
        if index in columns and stamps and "exhibit_id" in columns:
            stamp = stamps[0] if len(stamps) == 1 else f"coalesce({', '.join(stamps)})"
            times.append(f"CASE WHEN origin_table = '{origin}' THEN (SELECT min({stamp}) FROM {from_sql} o"
                         f" WHERE o.exhibit_id = identifiers.exhibit_id AND o.{index} = identifiers.origin_index) END")
    kept = tuple(item for item in provenance if item[0] not in {index for index, _ in extra})
    return (f"coalesce({', '.join(times)})" if times else None), kept + tuple(extra)


_RE2_SPECIAL = frozenset("\\.+*?()|[]{}^$")


def _re2_literal(text: str) -> str:
    """A folded ASCII term as an RE2 pattern matching it literally (its metacharacters escaped)."""
    return "".join("\\" + ch if ch in _RE2_SPECIAL else ch for ch in text)


def _candidate_sql(plan: _Plan, filters: Filters) -> tuple[str, list[Any]]:
    """The fixed query text for one source and its parameters after the exhibit id (terms and times are
    parameters, never spliced in; column names come from TABLES). Rows come sorted by the table's index
    (a join, the identifiers' origin lookup, would not keep the stored order), so the same case always
    gives the same hits in the same order, and the same first N under --max-hits. Under --since/--until
    rows without a time are read too, so the ones with a hit can be counted (never reported)."""
    params: list[Any] = []
    ors = []
    for field_spec, patterns in plan.fields:
        text = field_spec.sql_text()
        checks = [f"strlen({text}) <> length({text})"]  # any non-ASCII value goes to Python's exact fold
        if any(p.prefilter is None for p in patterns):
            checks = ["true"]  # a regex: every value is a candidate
        else:
            alternatives = [_re2_literal(argument) if test == "contains" else f"(?:{argument})"
                            for pattern in patterns for test, argument in pattern.prefilter or ()]
            if alternatives:  # one RE2 pass over the value for every term, case-insensitive as lower() + contains
                checks.append(f"regexp_matches({text}, ?)")
                params.append("(?i)(?:" + "|".join(alternatives) + ")")
        ors.append(f"({text} IS NOT NULL AND ({' OR '.join(checks)}))")
    time_sql = plan.time_sql or "NULL::BIGINT"
    selected = [f.column for f, _ in plan.fields] + [name if name == expression else f"{expression} AS {name}" for name, expression in plan.provenance]
    columns = ", ".join(dict.fromkeys(selected + [name for name in plan.order if name not in selected]))
    sql = f"SELECT {time_sql} AS hit_time_ns, {columns} FROM {plan.source.sql} WHERE exhibit_id = ? AND ({' OR '.join(ors)})"
    bounds = []
    if filters.since_ns is not None:
        bounds.append(f"{time_sql} >= ?")
        params.append(filters.since_ns)
    if filters.until_ns is not None:
        bounds.append(f"{time_sql} <= ?")
        params.append(filters.until_ns)
    if bounds:
        sql += f" AND ({time_sql} IS NULL OR ({' AND '.join(bounds)}))"
    return sql + f" ORDER BY {', '.join(plan.order)}", params


def search(connection: duckdb.DuckDBPyConnection, matcher: Matcher, filters: Filters = Filters(), report: SearchReport | None = None,
           hit_budget: int = HIT_BUDGET, field_budget: int = FIELD_BUDGET, parts: dict[str, list[Path]] | None = None) -> Iterator[Hit]:
    """Hits in a fixed order: exhibit id, then table (messages, artefacts, media, identifiers), then part, then
    the row's index in its table (message_index, entry_index, media_index, identifier_index), then field, then
    offset in the text, then the order the terms were given.

    With `parts` (table -> the Parquet files its view is made of, one per exhibit: CaseViews.files) each
    part is read on its own, so one that cannot be read, or holds a field of the wrong type, costs itself
    alone (said, and the search is incomplete); without, the connection's views are read.
    Consume the iterator before running other queries on `connection` (rows are fetched as it goes).
    """
    report = report if report is not None else SearchReport()
    work: list[tuple[str, int, str, _Plan]] = []
    searched: set[str] = set()
    for source in _sources(connection, parts, report):
        plan = _plan(connection, source, matcher, filters, report)
        if plan is None:
            continue
        try:
            found = [e for (e,) in connection.execute(f"SELECT DISTINCT exhibit_id FROM {source.sql}").fetchall() if e is not None]
        except duckdb.Error as error:  # a part that cannot be read costs itself, and is said
            report.unreadable(f"{source.label}: cannot be read, not searched: {display(type(error).__name__)}: {display(str(error))}"
                              if source.label == source.spec.table else
                              f"{source.label}: {source.spec.table}: cannot be read, not searched: {display(type(error).__name__)}: {display(str(error))}")
            continue
        searched.add(source.spec.table)
        rank = [spec.table for spec in TABLES].index(source.spec.table)
        work.extend((exhibit_id, rank, source.label, plan) for exhibit_id in found if not filters.exhibits or exhibit_id in filters.exhibits)
    report.tables = [spec.table for spec in TABLES if spec.table in searched]
    work.sort(key=lambda item: item[:3])
    for exhibit_id, _rank, _label, plan in work:
        sql, params = _candidate_sql(plan, filters)
        read = 0
        try:
            result = connection.execute(sql, [exhibit_id, *params])
            names = [d[0] for d in result.description]
            while rows := result.fetchmany(BATCH_ROWS):
                for row in rows:
                    read += 1
                    report.rows_read += 1
                    values = dict(zip(names, row, strict=True))
                    hits = _row_hits(plan, exhibit_id, values, matcher, field_budget, report)
                    if values["hit_time_ns"] is None and (filters.since_ns is not None or filters.until_ns is not None):
                        if next(hits, None) is not None:
                            report.timeless += 1
                        continue
                    for hit in hits:
                        if report.hits >= hit_budget:
                            report.budget_reached = True
                            report.stopped_in = f"{display(exhibit_id)} {plan.spec.table}"
                            return
                        report.hits += 1
                        yield hit
        except duckdb.Error as error:  # a part that fails midway costs that exhibit's table, and is said
            report.unreadable(f"{display(exhibit_id)} {plan.spec.table}: reading stopped after {read:,} candidate rows: "
                              f"{display(type(error).__name__)}: {display(str(error))}")


def _row_hits(plan: _Plan, exhibit_id: str, values: dict[str, Any], matcher: Matcher, field_budget: int, report: SearchReport) -> Iterator[Hit]:
    provenance = tuple((name, values.get(name)) for name, _expression in plan.provenance)
    for field_spec, patterns in plan.fields:
        if field_spec.unless_same_as in values and values[field_spec.unless_same_as] == values.get(field_spec.column):
            continue
        for reported, text in _field_texts(field_spec, values.get(field_spec.column)):
            if len(text) > field_budget:
                report.values_cut += 1
            for pattern, start, end in matcher.find(patterns, text, field_budget):
                yield Hit(exhibit_id, plan.spec.table, reported, values["hit_time_ns"], pattern.label, start, end,
                          display(text[start:end]), *context_of(text, start, end), provenance)


# ---- times ----------------------------------------------------------------------------------------


def parse_time(value: str, end_of_day: bool = False) -> int:
    """--since/--until: a date (YYYY-MM-DD, a UTC day; for --until the whole day) or an ISO 8601 time with
    its UTC offset (Z or +hh:mm). Returns nanoseconds since the epoch."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            start = parse_utc(f"{text}T00:00:00+00:00")
        except ValueError:
            raise SearchUsageError(f"not a date: {display(value)}") from None
        return start + 86_400 * 1_000_000_000 - 1 if end_of_day else start
    try:
        return parse_utc(text)  # nine fraction digits kept
    except NaiveTimeError:
        raise SearchUsageError(f"time without UTC offset: {display(value)} (add Z or +hh:mm)") from None
    except ValueError:
        raise SearchUsageError(f"not an ISO 8601 time: {display(value)} (e.g. 2026-03-01 or 2026-03-01T08:00:00+08:00)") from None


def build_matcher(terms: Iterable[str] = (), regexes: Iterable[str] = (), terms_files: Iterable[Path] = (),
                  identifiers: Iterable[str] = (), regions: tuple[str, ...] = ()) -> Matcher:
    """All the patterns of one command line, in the order given: terms, regexes, terms files, identifiers."""
    patterns: list[Pattern] = [term(t) for t in terms]
    patterns += [regex(r) for r in regexes]
    for path in terms_files:
        patterns += read_terms_file(path)
    patterns += [identifier_pattern(value, regions) for value in identifiers]
    return Matcher(tuple(patterns))


MessagePredicate = Callable[[dict[str, Any]], bool]


def message_predicate(matcher: Matcher) -> MessagePredicate:
    """A test of one message row (columns as in messages.parquet) for `exhibit chats`."""
    return lambda row: matcher.matches_any("messages", row)

"""The correlation as a graph for Gephi, yEd, Cytoscape or networkx: GraphML and GEXF 1.2.

Nodes are the exhibits (ids `x0`, `x1`, ... in exhibit-id order) and the shared values (`v1`,
`v2`, ... by rank); each edge (`e0`, `e1`, ... in rank, exhibit, role order) runs from an exhibit
to a value it holds and carries the role, the number of occurrences and the first and last times
seen. The same case always gives the same file, byte for byte.

Text (labels, values, exhibit ids) is escaped as manifests.text.display does (control, bidi and
format characters, lone surrogates and backslash as backslash escapes), and then any character XML
1.0 cannot carry at all (U+FFFE, U+FFFF) as `\\uXXXX`; the XML writer then escapes `&`, `<`, `>`
and quotes. So NUL and friends never reach the file, and the escape is reversible.
"""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO, Iterable
from xml.sax.saxutils import XMLGenerator

from case.correlate import Correlation
from case.times import iso_utc
from manifests.files import atomic_output
from manifests.text import display

GRAPHML_NS = "http://graphml.graphdrawing.org/xmlns"
GEXF_NS = "http://www.gexf.net/1.2draft"

# (key, applies to, GraphML/GEXF type); the key is also the attribute's name.
NODE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("node_kind", "string"), ("label", "string"), ("link_kind", "string"), ("exhibit_count", "long"),
    ("occurrences", "long"), ("first_seen_time", "string"), ("last_seen_time", "string"),
)
EDGE_ATTRIBUTES: tuple[tuple[str, str], ...] = (
    ("role", "string"), ("occurrences", "long"), ("first_seen_time", "string"), ("last_seen_time", "string"),
)


def xml_text(value: str) -> str:
    """Display-escaped text with every character XML 1.0 forbids written as a backslash escape."""
    shown = display(value) or ""
    return "".join(ch if _xml_char(ord(ch)) else f"\\u{ord(ch):04x}" for ch in shown)


def _xml_char(code: int) -> bool:
    return code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD or 0x10000 <= code <= 0x10FFFF


def _time(ns: int | None) -> str | None:
    return None if ns is None else iso_utc(ns)


class _Graph:
    """Nodes and edges of a correlation as attribute dicts, in the documented order."""

    def __init__(self, correlation: Correlation) -> None:
        self.correlation = correlation
        self.exhibit_ids = {exhibit: f"x{index}" for index, exhibit in enumerate(correlation.exhibits())}

    def nodes(self) -> Iterable[tuple[str, dict[str, str | int | None]]]:
        for exhibit, node_id in self.exhibit_ids.items():
            yield node_id, {"node_kind": "exhibit", "label": xml_text(exhibit)}
        for link in self.correlation.links():
            yield f"v{link.rank}", {
                "node_kind": "value", "label": xml_text(link.value), "link_kind": xml_text(link.link_kind),
                "exhibit_count": link.exhibit_count, "occurrences": link.occurrences,
                "first_seen_time": _time(link.first_seen_ns), "last_seen_time": _time(link.last_seen_ns),
            }

    def edges(self) -> Iterable[tuple[str, str, str, dict[str, str | int | None]]]:
        for index, edge in enumerate(self.correlation.edges()):
            yield f"e{index}", self.exhibit_ids[edge.exhibit_id], f"v{edge.rank}", {
                "role": edge.role, "occurrences": edge.occurrences,
                "first_seen_time": _time(edge.first_seen_ns), "last_seen_time": _time(edge.last_seen_ns),
            }


def _element(xml: XMLGenerator, name: str, attributes: dict[str, str], text: str | None = None) -> None:
    xml.startElement(name, attributes)
    if text is not None:
        xml.characters(text)
    xml.endElement(name)


def write_graphml(correlation: Correlation, out: BinaryIO) -> None:
    """GraphML, directed, one <key> per attribute (ids `node_NAME` / `edge_NAME`)."""
    graph = _Graph(correlation)
    xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("graphml", {"xmlns": GRAPHML_NS})
    xml.characters("\n")
    for scope, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        for name, kind in attributes:
            _element(xml, "key", {"id": f"{scope}_{name}", "for": scope, "attr.name": name, "attr.type": kind})
            xml.characters("\n")
    xml.startElement("graph", {"id": "correlation", "edgedefault": "directed"})
    xml.characters("\n")
    for node_id, values in graph.nodes():
        xml.startElement("node", {"id": node_id})
        for name, _ in NODE_ATTRIBUTES:
            if values.get(name) is not None:
                _element(xml, "data", {"key": f"node_{name}"}, str(values[name]))
        xml.endElement("node")
        xml.characters("\n")
    for edge_id, source, target, values in graph.edges():
        xml.startElement("edge", {"id": edge_id, "source": source, "target": target})
        for name, _ in EDGE_ATTRIBUTES:
            if values.get(name) is not None:
                _element(xml, "data", {"key": f"edge_{name}"}, str(values[name]))
        xml.endElement("edge")
        xml.characters("\n")
    xml.endElement("graph")
    xml.characters("\n")
    xml.endElement("graphml")
    xml.characters("\n")
    xml.endDocument()


def _attvalues(xml: XMLGenerator, attributes: tuple[tuple[str, str], ...], values: dict[str, str | int | None],
               skip: tuple[str, ...] = ()) -> None:
    present = [(index, name) for index, (name, _) in enumerate(attributes) if name not in skip and values.get(name) is not None]
    if not present:
        return
    xml.startElement("attvalues", {})
    for index, name in present:
        _element(xml, "attvalue", {"for": str(index), "value": str(values[name])})
    xml.endElement("attvalues")


def write_files(correlation: Correlation, graphml: Path | None, gexf: Path | None) -> None:
    """The graph as a GraphML file and/or a GEXF file (those given), each written whole or not at all."""
    for path, write in ((graphml, write_graphml), (gexf, write_gexf)):
        if path is not None:
            with atomic_output(path) as handle:
                write(correlation, handle)


def write_gexf(correlation: Correlation, out: BinaryIO) -> None:
    """GEXF 1.2 (static, directed); edge weight is the number of occurrences. No date is written."""
    graph = _Graph(correlation)
    xml = XMLGenerator(out, encoding="utf-8", short_empty_elements=True)
    xml.startDocument()
    xml.startElement("gexf", {"xmlns": GEXF_NS, "version": "1.2"})
    xml.characters("\n")
    xml.startElement("meta", {})
    _element(xml, "creator", {}, "Exhibit (exhibit correlate)")
    xml.endElement("meta")
    xml.characters("\n")
    xml.startElement("graph", {"mode": "static", "defaultedgetype": "directed"})
    xml.characters("\n")
    for scope, attributes in (("node", NODE_ATTRIBUTES), ("edge", EDGE_ATTRIBUTES)):
        xml.startElement("attributes", {"class": scope})
        for index, (name, kind) in enumerate(attributes):
            _element(xml, "attribute", {"id": str(index), "title": name, "type": kind})
        xml.endElement("attributes")
        xml.characters("\n")
    xml.startElement("nodes", {})
    xml.characters("\n")
    for node_id, values in graph.nodes():
        xml.startElement("node", {"id": node_id, "label": str(values["label"])})
        _attvalues(xml, NODE_ATTRIBUTES, values, skip=("label",))
        xml.endElement("node")
        xml.characters("\n")
    xml.endElement("nodes")
    xml.characters("\n")
    xml.startElement("edges", {})
    xml.characters("\n")
    for edge_id, source, target, values in graph.edges():
        xml.startElement("edge", {"id": edge_id, "source": source, "target": target, "weight": str(values["occurrences"])})
        _attvalues(xml, EDGE_ATTRIBUTES, values)
        xml.endElement("edge")
        xml.characters("\n")
    xml.endElement("edges")
    xml.characters("\n")
    xml.endElement("graph")
    xml.characters("\n")
    xml.endElement("gexf")
    xml.characters("\n")
    xml.endDocument()

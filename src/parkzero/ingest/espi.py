"""Green Button XML: the NAESB REQ.21 ESPI Atom feed, read into plain series of interval values.

An ESPI feed is an Atom feed (http://www.w3.org/2005/Atom) whose entries carry one ESPI resource each
(namespace http://naesb.org/espi) and are tied together by links:

    UsagePoint --related--> .../UsagePoint/1/MeterReading        (collection; a MeterReading's `up` link)
    MeterReading --related--> .../ReadingType/1                   (what is measured, in which unit)
    MeterReading --related--> .../MeterReading/1/IntervalBlock    (collection; an IntervalBlock's `up` link)
    IntervalBlock: IntervalReading* each with timePeriod (start [s since 1970 UTC], duration [s]) and value

The value of a reading is `value x 10^powerOfTenMultiplier` in the ReadingType's `uom` (IEC 61968-9 unit
symbol codes: 72 = Wh, 73 = varh, 38 = W, 42 = m3, 119 = ft3, 169 = therm). Feeds whose links are missing
are tied by document order: an IntervalBlock belongs to the MeterReading before it, and a MeterReading
without a ReadingType link uses the next ReadingType (or the only one).

This module only reads the format (with line numbers for error reports); `ingest.files` maps series to
channels, converts units and validates.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse
from xml.parsers import expat

from parkzero.errors import Issue, IssueCollector

ESPI_NS = "http://naesb.org/espi"
ATOM_NS = "http://www.w3.org/2005/Atom"

# IEC 61968-9 UnitSymbolKind code -> (unit known to parkzero.units, factor into that unit)
# therm: 100,000 Btu(IT) x 1,055.05585262 J/Btu = 105.505585 MJ = 0.105505585 GJ (NIST SP 811, Btu_IT)
# ft3: 0.3048^3 m3 = 0.028316846592 m3 (exact)
UOM_UNITS: dict[int, tuple[str, float]] = {
    72: ("Wh", 1.0),
    73: ("varh", 1.0),
    38: ("W", 1.0),
    42: ("m3", 1.0),
    119: ("m3", 0.028316846592),
    169: ("GJ", 0.105505585),
}
UOM_NAMES = {72: "Wh", 73: "VArh", 38: "W", 42: "m3", 119: "ft3", 169: "therm"}

# ESPI QualityOfReading codes read as "estimated"; every other code (0 valid, 7 manually edited,
# 14 raw, 17 validated, 18 verified, 19 revenue-quality ...) is read as measured.
ESTIMATED_QUALITIES = frozenset({8, 9, 11, 12, 13, 15})

# AccumulationKind codes: 1 bulkQuantity and 3 cumulative are register readings; 4 deltaData,
# 6 indicating, 9 summation ... are per-interval quantities.
CUMULATIVE_ACCUMULATIONS = frozenset({1, 3})


@dataclass
class ReadingType:
    href: str | None
    line: int
    uom: int | None = None
    power_of_ten_multiplier: int = 0
    accumulation_behaviour: int | None = None
    flow_direction: int | None = None
    interval_length: int | None = None
    commodity: int | None = None


@dataclass
class IntervalValue:
    start: int  # [s since 1970-01-01 UTC]
    duration: int  # [s]
    value: int  # raw, before 10^powerOfTenMultiplier
    quality: int | None
    line: int


@dataclass
class Series:
    """One MeterReading with its ReadingType and all IntervalReadings of its IntervalBlocks."""

    href: str | None
    title: str | None
    line: int
    usage_point_title: str | None = None
    usage_point_href: str | None = None
    reading_type: ReadingType | None = None
    intervals: list[IntervalValue] = field(default_factory=list)

    @property
    def label(self) -> str:
        return self.title or self.usage_point_title or self.href or f"MeterReading at line {self.line}"

    def names(self) -> list[str]:
        """Names a column mapping may use for this series, most specific first."""
        out: list[str] = []
        for name in (
            self.title,
            self.href,
            _tail(self.href, 4),
            _tail(self.href, 2),
            self.usage_point_title,
            self.usage_point_href,
            _tail(self.usage_point_href, 2),
        ):
            if name and name not in out:
                out.append(name)
        return out


def _tail(href: str | None, parts: int) -> str | None:
    if not href:
        return None
    segs = [s for s in href.split("/") if s]
    return "/".join(segs[-parts:]) if len(segs) >= parts else None


# -- a small element tree with line numbers (expat, no DTDs) -------------------------------------------
@dataclass
class _Node:
    ns: str
    tag: str
    attrs: dict[str, str]
    line: int
    children: list[_Node] = field(default_factory=list)
    text_parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "".join(self.text_parts).strip()

    def child(self, tag: str, ns: str | None = None) -> _Node | None:
        for c in self.children:
            if c.tag == tag and (ns is None or c.ns == ns):
                return c
        return None

    def all(self, tag: str) -> list[_Node]:
        return [c for c in self.children if c.tag == tag]


class _Refused(Exception):
    pass


def _parse_tree(path: Path) -> _Node:
    parser = expat.ParserCreate(namespace_separator=" ")
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    root = _Node("", "#document", {}, 0)
    stack = [root]

    def start(name: str, attrs: dict[str, str]) -> None:
        ns, _, tag = name.rpartition(" ")
        node = _Node(ns, tag, attrs, parser.CurrentLineNumber)
        stack[-1].children.append(node)
        stack.append(node)

    def end(_name: str) -> None:
        stack.pop()

    def chars(data: str) -> None:
        stack[-1].text_parts.append(data)

    def doctype(*_args: object) -> None:
        raise _Refused("the XML has a DOCTYPE declaration; Green Button files have none (refused for safety)")

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = chars
    parser.StartDoctypeDeclHandler = doctype
    with open(path, "rb") as fh:
        parser.ParseFile(fh)
    return root


# -- reading ---------------------------------------------------------------------------------------------
def read_espi(path: Path, *, filename: str, issues: IssueCollector) -> list[Series]:
    """Read the MeterReading series of an ESPI feed; problems are added to `issues` (file, line, element)."""
    try:
        doc = _parse_tree(Path(path))
    except expat.ExpatError as exc:
        issues.add(Issue(f"not well-formed XML: {expat.ErrorString(exc.code)}", file=filename, row=exc.lineno))
        return []
    except _Refused as exc:
        issues.add(Issue(str(exc), file=filename, row=1))
        return []
    top = doc.children[0] if doc.children else None
    if top is None or top.ns != ATOM_NS or top.tag not in ("feed", "entry"):
        found = f"<{top.tag}> in namespace {top.ns or '(none)'}" if top else "nothing"
        issues.add(
            Issue(
                f"not a Green Button (ESPI Atom) feed: the document holds {found}",
                file=filename,
                row=top.line if top else 1,
            )
        )
        return []
    entries = [top] if top.tag == "entry" else top.all("entry")
    usage_points: list[_Node] = []
    series: list[Series] = []
    mr_entries: dict[int, _Node] = {}  # id(Series) -> its Atom entry
    reading_types: list[ReadingType] = []
    order: list[Series | ReadingType | _Block] = []  # document order
    blocks: list[_Block] = []
    for entry in entries:
        content = entry.child("content", ATOM_NS)
        resource = next((c for c in content.children if c.ns == ESPI_NS), None) if content else None
        if resource is None:
            continue
        if resource.tag == "UsagePoint":
            usage_points.append(entry)
        elif resource.tag == "MeterReading":
            s = Series(href=_link(entry, "self"), title=_title(entry), line=entry.line)
            series.append(s)
            mr_entries[id(s)] = entry
            order.append(s)
        elif resource.tag == "ReadingType":
            rt = _reading_type(entry, resource, filename, issues)
            reading_types.append(rt)
            order.append(rt)
        elif resource.tag == "IntervalBlock":
            block = _Block(entry, resource)
            blocks.append(block)
            order.append(block)
    if not series and blocks:  # a feed of IntervalBlocks only: one anonymous series
        anon = Series(href=None, title=None, line=blocks[0].entry.line)
        series.append(anon)
        order.insert(0, anon)
    _tie(series, mr_entries, order, reading_types, usage_points, filename, issues)
    if not series:
        issues.add(Issue("the feed has no MeterReading with IntervalBlocks", file=filename, row=top.line))
    return series


@dataclass
class _Block:
    entry: _Node
    node: _Node


def _tie(
    series: list[Series],
    mr_entries: dict[int, _Node],
    order: list[Series | ReadingType | _Block],
    reading_types: list[ReadingType],
    usage_points: list[_Node],
    filename: str,
    issues: IssueCollector,
) -> None:
    """Attach ReadingTypes, IntervalBlocks and UsagePoints to MeterReadings by links, else by document order."""
    rt_by_href = {_norm(rt.href): rt for rt in reading_types if rt.href}
    # reading types and usage points
    for s in series:
        entry = mr_entries.get(id(s))
        related = [_norm(h) for h in _links(entry, "related")] if entry is not None else []
        s.reading_type = next((rt_by_href[h] for h in related if h in rt_by_href), None)
        up_link = _norm(_link(entry, "up")) if entry is not None else None
        for up_entry in usage_points:
            up_self = _norm(_link(up_entry, "self"))
            up_related = {_norm(h) for h in _links(up_entry, "related")}
            if (up_link and up_link in up_related) or (up_self and s.href and _norm(s.href).startswith(up_self + "/")):
                s.usage_point_title = _title(up_entry)
                s.usage_point_href = _link(up_entry, "self")
                break
        if s.usage_point_title is None and len(usage_points) == 1:
            s.usage_point_title = _title(usage_points[0])
            s.usage_point_href = _link(usage_points[0], "self")
    # document order for what links did not tie
    current: Series | None = None
    pending_rt: list[Series] = []
    for item in order:
        if isinstance(item, Series):
            current = item
            if current.reading_type is None:
                pending_rt.append(current)
        elif isinstance(item, ReadingType):
            for s in pending_rt:
                s.reading_type = item
            pending_rt = []
        else:
            owner = _block_owner(item.entry, series, mr_entries) or current
            if owner is None:
                issues.add(Issue("IntervalBlock before any MeterReading", file=filename, row=item.entry.line))
                continue
            owner.intervals.extend(_intervals(item.node, filename, issues))
    if pending_rt and len(reading_types) == 1:
        for s in pending_rt:
            s.reading_type = reading_types[0]


def _block_owner(entry: _Node, series: list[Series], mr_entries: dict[int, _Node]) -> Series | None:
    up = _norm(_link(entry, "up"))
    own = _norm(_link(entry, "self"))
    for s in series:
        mr_entry = mr_entries.get(id(s))
        if mr_entry is None:
            continue
        related = {_norm(h) for h in _links(mr_entry, "related")}
        if up and up in related:
            return s
        if s.href and own and own.startswith(_norm(s.href) + "/"):
            return s
    return None


def _reading_type(entry: _Node, node: _Node, filename: str, issues: IssueCollector) -> ReadingType:
    rt = ReadingType(href=_link(entry, "self"), line=node.line)
    for attr, tag in (
        ("uom", "uom"),
        ("power_of_ten_multiplier", "powerOfTenMultiplier"),
        ("accumulation_behaviour", "accumulationBehaviour"),
        ("flow_direction", "flowDirection"),
        ("interval_length", "intervalLength"),
        ("commodity", "commodity"),
    ):
        child = node.child(tag, ESPI_NS)
        if child is None:
            continue
        number = _int(child.text)
        if number is None:
            issues.add(
                Issue(
                    f"ReadingType {tag} is not an integer", file=filename, row=child.line, column=tag, value=child.text
                )
            )
            continue
        setattr(rt, attr, number)
    return rt


def _intervals(block: _Node, filename: str, issues: IssueCollector) -> list[IntervalValue]:
    out: list[IntervalValue] = []
    for reading in block.all("IntervalReading"):
        period = reading.child("timePeriod", ESPI_NS)
        start_node = period.child("start", ESPI_NS) if period else None
        duration_node = period.child("duration", ESPI_NS) if period else None
        value_node = reading.child("value", ESPI_NS)
        fields: dict[str, int] = {}
        ok = True
        for name, node in (
            ("timePeriod/start", start_node),
            ("timePeriod/duration", duration_node),
            ("value", value_node),
        ):
            if node is None:
                issues.add(Issue(f"IntervalReading has no {name}", file=filename, row=reading.line, column=name))
                ok = False
                continue
            number = _int(node.text)
            if number is None:
                reason = "value is missing" if not node.text else f"{name} is not an integer"
                issues.add(Issue(reason, file=filename, row=node.line, column=name, value=node.text))
                ok = False
                continue
            fields[name] = number
        quality = None
        rq = reading.child("ReadingQuality", ESPI_NS)
        q_node = rq.child("quality", ESPI_NS) if rq else None
        if q_node is not None:
            quality = _int(q_node.text)
            if quality is None:
                issues.add(
                    Issue(
                        "ReadingQuality is not an integer code",
                        file=filename,
                        row=q_node.line,
                        column="ReadingQuality",
                        value=q_node.text,
                    )
                )
                ok = False
        if ok:
            out.append(
                IntervalValue(
                    fields["timePeriod/start"],
                    fields["timePeriod/duration"],
                    fields["value"],
                    quality,
                    value_node.line if value_node is not None else reading.line,
                )
            )
    return out


def _int(text: str) -> int | None:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        pass
    try:  # some exporters write 974.0
        number = float(text)
    except ValueError:
        return None
    return int(number) if math.isfinite(number) and number == int(number) else None


def _title(entry: _Node | None) -> str | None:
    if entry is None:
        return None
    node = entry.child("title", ATOM_NS)
    if node is None:
        return None
    return node.text or None


def _links(entry: _Node | None, rel: str) -> list[str]:
    if entry is None:
        return []
    return [c.attrs.get("href", "") for c in entry.all("link") if c.ns == ATOM_NS and c.attrs.get("rel") == rel]


def _link(entry: _Node | None, rel: str) -> str | None:
    found = _links(entry, rel)
    return found[0] if found else None


def _norm(href: str | None) -> str:
    if not href:
        return ""
    return urlparse(href.strip()).path.rstrip("/")


def uom_unit(uom: int | None) -> tuple[str, float] | None:
    """(unit, factor) of an ESPI uom code, or None when parkzero does not know it."""
    if uom is None:
        return None
    return UOM_UNITS.get(uom)

"""Evaluations against indicator sets: thresholds, scores, evidence and a score card.

An *indicator set* is a data file (TOML), not code: the zero-carbon park notice 发改环资〔2025〕910号, GB/T 36132
green factories, T/CECA-G 0171 zero-carbon factories and green data centres ship in ``pathway/data/``; a new local
standard is one more file. `load_indicator_set` reads and strictly checks a file, `evaluate` holds a park's (or an
enterprise's) values and evidence against it and returns a `ScoreCard`.

File format (``format = "parkzero-indicator-set"``, ``format_version = 1``)
---------------------------------------------------------------------------
Top level: ``code``, ``title``, ``title_zh``, ``version``, ``verified`` (bool: true only when every figure was
read in the issuing document itself), ``notes``; ``[source]`` with ``document`` (number), ``title``, ``title_zh``,
``issuer``, ``year``, ``read_at`` (addresses where it was read); optional ``total_weight`` (default 100) and
``[size_quantity]`` (``name``, ``unit``, ``description``): the quantity that picks a size class.

``[[indicators]]``: ``code``, ``name``, ``name_zh``, ``unit``, ``direction``, ``kind``, ``evidence`` (what proves
the value), ``verified``, ``notes``, ``read_at``, ``parent`` (a group code), and

- kinds ``core`` and ``basic`` (must pass; a failed or missing one fails the set) and ``guiding`` (reported, does
  not fail the set): either ``threshold`` or ``[[indicators.size_classes]]`` with ``code``, ``lower``, ``upper``
  (omitted: unbounded) and ``threshold``. Classes are half-open, ``lower <= q < upper``, and must follow each
  other without gap or overlap; a quantity outside all classes is *not evaluated*, never passed.
- kind ``scored``: ``weight``, ``baseline`` and ``leading``. The score is linear between them::

      score = weight x clamp((value - baseline) / (leading - baseline), 0, 1)

  0 at (or worse than) the baseline value, the full weight at (or better than) the leading value.

``direction`` is ``"max"`` (lower is better: a value passes when value <= threshold) or ``"min"`` (higher is better:
value >= threshold). Bounds are inclusive (以上/以下 include the bound; equal within 1e-12 relative counts as equal).
A yes/no requirement is a value of 1 (yes) or 0 (no) with ``direction = "min"`` and ``threshold = 1``.

``[[groups]]`` (``code``, ``name``, ``name_zh``, ``weight``, ``parent``) build the tree first-level → second-level
→ indicators: the weights of the children of a group (groups and scored indicators) sum to the group's weight, and
the top level sums to ``total_weight``.

``[[grades]]`` (``code``, ``name``, ``name_zh``, ``min_score``, ``requires`` = {indicator code = bound}, ``verified``,
``notes``, ``read_at``), listed from the lowest to the highest: the card's grade is the highest one whose minimum
score is reached and whose required indicators are at least as good as their bounds, given only when every value is
present and every core and basic indicator passed.
"""

from __future__ import annotations

import json
import math
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import resources
from pathlib import Path

from parkzero.errors import Issue, IssueCollector, NotFound, ValidationFailed

FORMAT = "parkzero-indicator-set"
FORMAT_VERSION = 1
DIRECTIONS = ("max", "min")
KINDS = ("core", "guiding", "basic", "scored")
GATING_KINDS = ("core", "basic")  # a failed or missing one fails the whole evaluation
_REL_TOL = 1e-12
_NO_UNIT = ("-", "yes=1/no=0")  # units not repeated in the arithmetic text

# the fields each table of a file may have (anything else is a typo and is rejected)
_SET_FIELDS = set(
    "format format_version code title title_zh version verified notes source total_weight size_quantity groups"
    " indicators grades".split()
)
_SOURCE_FIELDS = set("document title title_zh issuer year read_at notes".split())
_SIZE_QUANTITY_FIELDS = set("name unit description".split())
_INDICATOR_FIELDS = set(
    "code name name_zh unit direction kind evidence threshold size_classes weight baseline leading parent verified"
    " notes read_at".split()
)
_SIZE_CLASS_FIELDS = set("code lower upper threshold".split())
_GROUP_FIELDS = set("code name name_zh weight parent notes".split())
_GRADE_FIELDS = set("code name name_zh min_score requires verified notes read_at".split())


def _n(x: float) -> str:
    """A number for the arithmetic text: up to 10 significant digits, thousands separated."""
    return f"{x:,.10g}"


def _is_number(x: object) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=_REL_TOL, abs_tol=_REL_TOL)


def _as_good(value: float, bound: float, direction: str) -> bool:
    """True when `value` is at least as good as `bound` for `direction` (bound included)."""
    if _close(value, bound):
        return True
    return value <= bound if direction == "max" else value >= bound


# -- the indicator set -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Source:
    """The document an indicator set comes from and where it was read."""

    document: str  # number, e.g. 发改环资〔2025〕910号 or GB/T 36132-2025
    title: str
    title_zh: str = ""
    issuer: str = ""
    year: int | None = None
    read_at: tuple[str, ...] = ()
    notes: str = ""

    def __str__(self) -> str:
        zh = f" 《{self.title_zh}》" if self.title_zh else ""
        who = f"{self.issuer}, " if self.issuer else ""
        year = f" ({self.year})" if self.year else ""
        return f"{who}{self.document} {self.title}{zh}{year}"


@dataclass(frozen=True)
class SizeQuantity:
    """The quantity whose value picks a size class, e.g. annual comprehensive energy use [tce/yr]."""

    name: str
    unit: str
    description: str = ""


@dataclass(frozen=True)
class SizeClass:
    """One size class: ``lower <= q < upper`` (``upper`` None: unbounded) and its threshold."""

    code: str
    lower: float
    upper: float | None
    threshold: float

    def contains(self, q: float) -> bool:
        return q >= self.lower and (self.upper is None or q < self.upper)

    def describe(self, unit: str) -> str:
        upper = "∞" if self.upper is None else _n(self.upper)
        return f"[{_n(self.lower)}, {upper}) {unit}"


@dataclass(frozen=True)
class Indicator:
    """One indicator of a set (see the module docstring for the fields)."""

    code: str
    name: str
    unit: str
    direction: str  # "max": value <= threshold passes; "min": value >= threshold passes
    kind: str  # core, guiding, basic, scored
    evidence: str  # what evidence proves the value
    verified: bool
    name_zh: str = ""
    threshold: float | None = None
    size_classes: tuple[SizeClass, ...] = ()
    weight: float | None = None
    baseline: float | None = None
    leading: float | None = None
    parent: str | None = None
    notes: str = ""
    read_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    """A node of the indicator tree (first- or second-level indicator) with its weight."""

    code: str
    name: str
    weight: float
    name_zh: str = ""
    parent: str | None = None
    notes: str = ""


@dataclass(frozen=True)
class Grade:
    """A grade band: minimum score and/or indicators that must be at least as good as a bound."""

    code: str
    name: str
    verified: bool
    name_zh: str = ""
    min_score: float | None = None
    requires: tuple[tuple[str, float], ...] = ()
    notes: str = ""
    read_at: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorSet:
    """A checked indicator set, as read by `load_indicator_set`."""

    code: str
    title: str
    version: str
    verified: bool
    source: Source
    indicators: tuple[Indicator, ...]
    title_zh: str = ""
    notes: str = ""
    total_weight: float = 100.0
    size_quantity: SizeQuantity | None = None
    groups: tuple[Group, ...] = ()
    grades: tuple[Grade, ...] = ()
    file: str = ""

    def indicator(self, code: str) -> Indicator:
        for ind in self.indicators:
            if ind.code == code:
                return ind
        raise NotFound(f"indicator set {self.code!r} has no indicator {code!r}")

    @property
    def scored(self) -> bool:
        return any(i.kind == "scored" for i in self.indicators)


class _Reader:
    """Reads one table of the parsed TOML, noting every problem with the file, the item and the field."""

    def __init__(self, file: str, issues: IssueCollector):
        self.file, self.issues = file, issues

    def problem(self, where: str, field_name: str | None, reason: str, value: object = None) -> None:
        shown = None if value is None else str(value)
        text = f"{where}: field {field_name!r}: {reason}" if field_name else f"{where}: {reason}"
        self.issues.add(Issue(text, file=self.file, column=field_name, value=shown))

    def unknown(self, where: str, raw: Mapping, allowed: set[str]) -> None:
        for key in sorted(set(raw) - allowed):
            self.problem(where, key, f"unknown field (known: {', '.join(sorted(allowed))})")

    def text(self, where: str, raw: Mapping, key: str, *, required: bool = True) -> str:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(where, key, "missing")
            return ""
        if not isinstance(value, str) or (required and not value.strip()):
            self.problem(where, key, "must be a non-empty text", value)
            return ""
        return value.strip()

    def number(self, where: str, raw: Mapping, key: str, *, required: bool = False) -> float | None:
        value = raw.get(key)
        if value is None:
            if required:
                self.problem(where, key, "missing")
            return None
        if not _is_number(value):
            self.problem(where, key, "must be a finite number", value)
            return None
        return float(value)

    def flag(self, where: str, raw: Mapping, key: str) -> bool:
        value = raw.get(key)
        if not isinstance(value, bool):
            self.problem(where, key, "missing or not true/false (say whether the figures were confirmed)", value)
            return False
        return value

    def texts(self, where: str, raw: Mapping, key: str) -> tuple[str, ...]:
        value = raw.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.problem(where, key, "must be a list of texts", value)
            return ()
        return tuple(value)

    def tables(self, where: str, raw: Mapping, key: str) -> list[Mapping]:
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
            self.problem(where, key, "must be a list of tables ([[...]])")
            return []
        return value


def parse_indicator_set(doc: Mapping, file: str = "<indicator set>") -> IndicatorSet:
    """Check and read an indicator-set document (the parsed TOML).

    Parameters
    ----------
    doc : mapping
        The parsed TOML.
    file : str
        Name of the file, used in every error.

    Raises
    ------
    ValidationFailed
        The document breaks the format; every problem is listed with the file, the indicator (or group, grade)
        code and the field.
    """
    issues = IssueCollector()
    r = _Reader(file, issues)
    top = "indicator set"
    if doc.get("format") != FORMAT or doc.get("format_version") != FORMAT_VERSION:
        r.problem(top, "format", f"must be format = {FORMAT!r} with format_version = {FORMAT_VERSION}")
    r.unknown(top, doc, _SET_FIELDS)
    code = r.text(top, doc, "code")
    title = r.text(top, doc, "title")
    version = doc.get("version")
    if not isinstance(version, str | int) or isinstance(version, bool) or str(version).strip() == "":
        r.problem(top, "version", "missing or not a text", version)
    verified = r.flag(top, doc, "verified")
    total_weight = r.number(top, doc, "total_weight")
    total_weight = 100.0 if total_weight is None else total_weight

    raw_source = doc.get("source")
    source = Source("", "")
    if not isinstance(raw_source, Mapping):
        r.problem(top, "source", "missing: give [source] with the document number and title")
    else:
        where = "source"
        r.unknown(where, raw_source, _SOURCE_FIELDS)
        year = raw_source.get("year")
        if year is not None and not (isinstance(year, int) and not isinstance(year, bool)):
            r.problem(where, "year", "must be a whole year", year)
            year = None
        source = Source(
            r.text(where, raw_source, "document"),
            r.text(where, raw_source, "title"),
            r.text(where, raw_source, "title_zh", required=False),
            r.text(where, raw_source, "issuer", required=False),
            year,
            r.texts(where, raw_source, "read_at"),
            r.text(where, raw_source, "notes", required=False),
        )

    size_quantity = None
    raw_sq = doc.get("size_quantity")
    if raw_sq is not None:
        if not isinstance(raw_sq, Mapping):
            r.problem(top, "size_quantity", "must be a table with name and unit")
        else:
            r.unknown("size_quantity", raw_sq, _SIZE_QUANTITY_FIELDS)
            size_quantity = SizeQuantity(
                r.text("size_quantity", raw_sq, "name"),
                r.text("size_quantity", raw_sq, "unit"),
                r.text("size_quantity", raw_sq, "description", required=False),
            )

    groups = [_parse_group(r, raw) for raw in r.tables(top, doc, "groups")]
    indicators = [_parse_indicator(r, raw, size_quantity) for raw in r.tables(top, doc, "indicators")]
    if not indicators:
        r.problem(top, "indicators", "no [[indicators]]")
    _check_codes(r, groups, indicators)
    _check_tree(r, groups, indicators, total_weight)
    grades = [_parse_grade(r, raw, indicators) for raw in r.tables(top, doc, "grades")]

    if issues:
        raise ValidationFailed(f"indicator set {file} is not valid: {issues.total} problem(s)", issues=issues.issues)
    return IndicatorSet(
        code=code,
        title=title,
        version=str(version).strip(),
        verified=verified,
        source=source,
        indicators=tuple(indicators),
        title_zh=r.text(top, doc, "title_zh", required=False),
        notes=r.text(top, doc, "notes", required=False),
        total_weight=total_weight,
        size_quantity=size_quantity,
        groups=tuple(groups),
        grades=tuple(grades),
        file=file,
    )


def _parse_group(r: _Reader, raw: Mapping) -> Group:
    code = raw.get("code") if isinstance(raw.get("code"), str) else "?"
    where = f"group {code!r}"
    r.unknown(where, raw, _GROUP_FIELDS)
    r.text(where, raw, "code")
    weight = r.number(where, raw, "weight", required=True)
    if weight is not None and weight <= 0:
        r.problem(where, "weight", "must be > 0", weight)
    return Group(
        code=code,
        name=r.text(where, raw, "name"),
        weight=weight or 0.0,
        name_zh=r.text(where, raw, "name_zh", required=False),
        parent=r.text(where, raw, "parent", required=False) or None,
        notes=r.text(where, raw, "notes", required=False),
    )


def _parse_indicator(r: _Reader, raw: Mapping, size_quantity: SizeQuantity | None) -> Indicator:
    code = raw.get("code") if isinstance(raw.get("code"), str) else "?"
    where = f"indicator {code!r}"
    r.unknown(where, raw, _INDICATOR_FIELDS)
    r.text(where, raw, "code")
    direction = raw.get("direction")
    if direction not in DIRECTIONS:
        r.problem(where, "direction", f"must be one of {', '.join(DIRECTIONS)}", direction)
    kind = raw.get("kind")
    if kind not in KINDS:
        r.problem(where, "kind", f"must be one of {', '.join(KINDS)}", kind)
    threshold = r.number(where, raw, "threshold")
    weight = r.number(where, raw, "weight")
    baseline = r.number(where, raw, "baseline")
    leading = r.number(where, raw, "leading")
    classes = _parse_size_classes(r, where, raw)

    if kind == "scored":
        for key, value in (("weight", weight), ("baseline", baseline), ("leading", leading)):
            if value is None and key not in raw:
                r.problem(where, key, "missing: a scored indicator needs weight, baseline and leading")
        for key in ("threshold", "size_classes"):
            if key in raw:
                r.problem(where, key, "a scored indicator is scored between baseline and leading, not thresholded")
        if weight is not None and weight <= 0:
            r.problem(where, "weight", "must be > 0", weight)
        if baseline is not None and leading is not None and direction in DIRECTIONS:
            better = leading < baseline if direction == "max" else leading > baseline
            if not better:
                side = "below" if direction == "max" else "above"
                r.problem(where, "leading", f"must be {side} the baseline for direction {direction!r}", leading)
    elif kind in KINDS:
        if threshold is None and not classes and "threshold" not in raw and "size_classes" not in raw:
            r.problem(where, "threshold", "missing: give threshold or [[indicators.size_classes]]")
        if threshold is not None and classes:
            r.problem(where, "threshold", "give either threshold or size_classes, not both")
        if classes and size_quantity is None:
            r.problem(where, "size_classes", "size classes need [size_quantity] at the top of the file")
        for key in ("weight", "baseline", "leading"):
            if key in raw:
                r.problem(where, key, f"only scored indicators have {key} (this one is {kind!r})")
    return Indicator(
        code=code,
        name=r.text(where, raw, "name"),
        unit=r.text(where, raw, "unit"),
        direction=str(direction),
        kind=str(kind),
        evidence=r.text(where, raw, "evidence"),
        verified=r.flag(where, raw, "verified"),
        name_zh=r.text(where, raw, "name_zh", required=False),
        threshold=threshold,
        size_classes=tuple(classes),
        weight=weight,
        baseline=baseline,
        leading=leading,
        parent=r.text(where, raw, "parent", required=False) or None,
        notes=r.text(where, raw, "notes", required=False),
        read_at=r.texts(where, raw, "read_at"),
    )


def _parse_size_classes(r: _Reader, where: str, raw: Mapping) -> list[SizeClass]:
    out: list[SizeClass] = []
    for i, c in enumerate(r.tables(where, raw, "size_classes"), start=1):
        cw = f"{where}, size class {c.get('code', i)!r}"
        r.unknown(cw, c, _SIZE_CLASS_FIELDS)
        lower = r.number(cw, c, "lower", required=True)
        upper = r.number(cw, c, "upper")
        threshold = r.number(cw, c, "threshold", required=True)
        if lower is None or threshold is None:
            continue
        if upper is not None and upper <= lower:
            r.problem(cw, "upper", f"must be above lower ({_n(lower)})", upper)
            continue
        out.append(SizeClass(str(c.get("code", i)), lower, upper, threshold))
    out.sort(key=lambda c: c.lower)
    for prev, cur in zip(out, out[1:], strict=False):
        cw = f"{where}, size class {cur.code!r}"
        if prev.upper is None or cur.lower < prev.upper:
            r.problem(cw, "lower", f"overlaps size class {prev.code!r} {prev.describe('')}", cur.lower)
        elif cur.lower > prev.upper:
            r.problem(cw, "lower", f"leaves a gap after size class {prev.code!r} (ends at {_n(prev.upper)})", cur.lower)
    return out


def _check_codes(r: _Reader, groups: Sequence[Group], indicators: Sequence[Indicator]) -> None:
    seen: set[str] = set()
    for node in [*groups, *indicators]:
        label = "group" if isinstance(node, Group) else "indicator"
        if node.code in seen:
            r.problem(f"{label} {node.code!r}", "code", "used twice in the file")
        seen.add(node.code)


def _check_tree(r: _Reader, groups: Sequence[Group], indicators: Sequence[Indicator], total: float) -> None:
    """Parents exist and form a tree; the weights of each level sum to the parent's weight (top: `total`)."""
    by_code = {g.code: g for g in groups}
    for node in [*groups, *indicators]:
        label = "group" if isinstance(node, Group) else "indicator"
        if node.parent is not None and node.parent not in by_code:
            r.problem(f"{label} {node.code!r}", "parent", "no group with this code", node.parent)
    for g in groups:  # cycles
        seen, cur = {g.code}, g.parent
        while cur is not None and cur in by_code:
            if cur in seen:
                r.problem(f"group {g.code!r}", "parent", "the groups' parents form a loop", g.parent)
                break
            seen.add(cur)
            cur = by_code[cur].parent
    weighted: dict[str | None, list[tuple[str, float]]] = {}
    for g in groups:
        weighted.setdefault(g.parent, []).append((g.code, g.weight))
    for ind in indicators:
        if ind.kind == "scored" and ind.weight is not None:
            weighted.setdefault(ind.parent, []).append((ind.code, ind.weight))
    for g in groups:
        children = weighted.get(g.code, [])
        got = sum(w for _, w in children)
        if not children:
            r.problem(f"group {g.code!r}", "weight", "group has no weighted child (group or scored indicator)")
        elif not _close(got, g.weight):
            parts = " + ".join(f"{c} {_n(w)}" for c, w in children)
            last = children[-1][0]
            r.problem(
                f"indicator {last!r} (in group {g.code!r})" if last not in by_code else f"group {last!r}",
                "weight",
                f"weights under group {g.code!r} sum to {parts} = {_n(got)}, not the group's weight {_n(g.weight)}",
            )
    top = weighted.get(None, [])
    if top:
        got = sum(w for _, w in top)
        if not _close(got, total):
            parts = " + ".join(f"{c} {_n(w)}" for c, w in top)
            last = top[-1][0]
            label = "group" if last in by_code else "indicator"
            r.problem(f"{label} {last!r}", "weight", f"top-level weights sum to {parts} = {_n(got)}, not {_n(total)}")


def _parse_grade(r: _Reader, raw: Mapping, indicators: Sequence[Indicator]) -> Grade:
    code = raw.get("code") if isinstance(raw.get("code"), str) else "?"
    where = f"grade {code!r}"
    r.unknown(where, raw, _GRADE_FIELDS)
    r.text(where, raw, "code")
    min_score = r.number(where, raw, "min_score")
    scored = any(i.kind == "scored" for i in indicators)
    if min_score is not None and not scored:
        r.problem(where, "min_score", "the set has no scored indicators to sum", min_score)
    known = {i.code for i in indicators}
    requires: list[tuple[str, float]] = []
    raw_req = raw.get("requires", {})
    if not isinstance(raw_req, Mapping):
        r.problem(where, "requires", "must be a table {indicator code = bound}")
        raw_req = {}
    for ind_code, bound in raw_req.items():
        if ind_code not in known:
            r.problem(where, "requires", f"no indicator {ind_code!r}", ind_code)
        elif not _is_number(bound):
            r.problem(where, "requires", f"bound for {ind_code!r} must be a number", bound)
        else:
            requires.append((ind_code, float(bound)))
    if min_score is None and not raw_req:
        r.problem(where, "min_score", "a grade needs min_score or requires")
    return Grade(
        code=code,
        name=r.text(where, raw, "name"),
        verified=r.flag(where, raw, "verified"),
        name_zh=r.text(where, raw, "name_zh", required=False),
        min_score=min_score,
        requires=tuple(requires),
        notes=r.text(where, raw, "notes", required=False),
        read_at=r.texts(where, raw, "read_at"),
    )


def _shipped() -> list[Path]:
    """The indicator-set files in ``pathway/data/`` (other data files there, e.g. targets, are left alone)."""
    folder = resources.files("parkzero.pathway") / "data"
    files = (Path(str(p)) for p in folder.iterdir() if p.name.endswith(".toml"))
    return sorted(p for p in files if f'"{FORMAT}"' in p.read_text(encoding="utf-8"))


def shipped_indicator_sets() -> dict[str, Path]:
    """The indicator sets shipped in ``pathway/data/``: code → file."""
    return {load_indicator_set(p).code: p for p in _shipped()}


def load_indicator_set(path_or_code: str | os.PathLike) -> IndicatorSet:
    """Read and check an indicator set: a TOML file, or a shipped set by its code or file stem.

    Parameters
    ----------
    path_or_code : str or path-like
        A path to a ``.toml`` file, or the code (``cn.zcp-910``) or file stem (``zcp_910``) of a shipped set.

    Raises
    ------
    NotFound
        No such file or shipped set.
    ValidationFailed
        The file is not valid TOML or breaks the format (see `parse_indicator_set`).
    """
    p = Path(path_or_code)
    if isinstance(path_or_code, os.PathLike) or p.suffix == ".toml" or len(p.parts) > 1:
        if not p.is_file():
            raise NotFound(f"no indicator set file {p}")
        return _load_file(p)
    shipped = _shipped()
    for f in shipped:
        if f.stem == str(path_or_code):
            return _load_file(f)
    for f in shipped:
        s = _load_file(f)
        if s.code == str(path_or_code):
            return s
    known = ", ".join(f.stem for f in shipped)
    raise NotFound(f"no shipped indicator set {str(path_or_code)!r} (shipped: {known})")


def _load_file(p: Path) -> IndicatorSet:
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(
            f"indicator set {p} is not valid TOML: {exc}", issues=[Issue(f"not valid TOML: {exc}", file=str(p))]
        ) from None
    return parse_indicator_set(doc, str(p))


# -- evaluation ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class IndicatorResult:
    """One line of a score card."""

    code: str
    name: str
    name_zh: str
    kind: str
    unit: str
    direction: str
    value: float | None
    status: str  # passed, failed, scored, missing, not_evaluated
    threshold: float | None  # the threshold used (core, basic, guiding)
    size_class: str | None  # the size class the threshold came from
    threshold_basis: str  # why this threshold (or why none)
    weight: float | None = None
    baseline: float | None = None
    leading: float | None = None
    score: float | None = None  # [points], scored indicators
    explanation: str = ""  # the arithmetic
    evidence_required: str = ""
    evidence: tuple[str, ...] = ()
    verified: bool = False
    parent: str | None = None

    @property
    def passed(self) -> bool | None:
        """True/False for thresholded indicators that were evaluated, None otherwise."""
        return {"passed": True, "failed": False}.get(self.status)

    @property
    def evidence_missing(self) -> bool:
        return not self.evidence


@dataclass(frozen=True)
class GroupResult:
    code: str
    name: str
    name_zh: str
    weight: float  # [points] available
    score: float  # [points] reached (missing values count 0)
    parent: str | None


@dataclass(frozen=True)
class ScoreCard:
    """An evaluation of values and evidence against one indicator set."""

    set_code: str
    set_title: str
    set_version: str
    source: str
    set_verified: bool
    size_quantity: float | None
    size_quantity_unit: str | None
    results: tuple[IndicatorResult, ...]
    groups: tuple[GroupResult, ...]
    core_passed: bool  # every core and basic indicator has a value and passed
    guiding_passed: bool  # every guiding indicator has a value and passed
    score: float | None  # sum of scored indicators [points]; missing values count 0; None without scored ones
    max_score: float | None
    grade: str | None
    grade_name: str | None
    grade_reason: str
    missing: tuple[str, ...]  # codes without a value
    not_evaluated: tuple[str, ...]  # codes with no applicable threshold (e.g. no size class)
    failed: tuple[str, ...]
    evidence_missing: tuple[str, ...]
    unverified: tuple[str, ...]  # codes (and grade) resting on figures marked verified = false
    notes: str = ""

    @property
    def complete(self) -> bool:
        """Every indicator has a value and could be evaluated."""
        return not self.missing and not self.not_evaluated

    @property
    def status(self) -> str:
        """``failed`` (a core/basic indicator failed), ``incomplete`` (values or evidence missing) or ``passed``."""
        gating = {r.code for r in self.results if r.kind in GATING_KINDS}
        if gating & set(self.failed):
            return "failed"
        if not self.complete or self.evidence_missing:
            return "incomplete"
        return "passed" if self.core_passed else "failed"

    def result(self, code: str) -> IndicatorResult:
        for r in self.results:
            if r.code == code:
                return r
        raise NotFound(f"score card of {self.set_code!r} has no indicator {code!r}")

    def as_dict(self) -> dict:
        d = asdict(self)
        d["complete"], d["status"] = self.complete, self.status
        for line, r in zip(d["results"], self.results, strict=True):
            line["passed"], line["evidence_missing"] = r.passed, r.evidence_missing
        return d


def _pick_threshold(ind: Indicator, q: float | None, sq: SizeQuantity | None) -> tuple[float | None, str | None, str]:
    if not ind.size_classes:
        return ind.threshold, None, "single threshold of the set"
    assert sq is not None  # checked when the set was read
    if q is None:
        return None, None, f"no size class chosen: {sq.name} [{sq.unit}] not given"
    for c in ind.size_classes:
        if c.contains(q):
            return c.threshold, c.code, f"{sq.name} {_n(q)} {sq.unit} is in size class {c.code!r} {c.describe(sq.unit)}"
    covered = ", ".join(c.describe(sq.unit) for c in ind.size_classes)
    return None, None, f"{sq.name} {_n(q)} {sq.unit} is outside every size class ({covered}): no threshold"


def _check_inputs(s: IndicatorSet, values: Mapping, evidence: Mapping, size_quantity: float | None) -> None:
    issues = IssueCollector()
    known = {i.code for i in s.indicators}
    for code, v in values.items():
        if code not in known:
            issues.add(Issue(f"value for unknown indicator {code!r}", column=str(code)))
        elif v is not None and not _is_number(v):
            issues.add(Issue(f"value of {code!r} must be a finite number", column=str(code), value=str(v)))
    for code, items in evidence.items():
        if code not in known:
            issues.add(Issue(f"evidence for unknown indicator {code!r}", column=str(code)))
        elif isinstance(items, str) or not all(isinstance(e, str) and e.strip() for e in items):
            issues.add(Issue(f"evidence of {code!r} must be a list of non-empty texts", column=str(code)))
    if size_quantity is not None and (not _is_number(size_quantity) or size_quantity < 0):
        issues.add(Issue("size quantity must be a number >= 0", column="size_quantity", value=str(size_quantity)))
    if issues:
        raise ValidationFailed(
            f"values for indicator set {s.code!r} rejected: {issues.total} problem(s); known indicators: "
            + ", ".join(sorted(known)),
            issues=issues.issues,
        )


def evaluate(
    indicator_set: IndicatorSet | str | os.PathLike,
    values: Mapping[str, float | None],
    *,
    size_quantity: float | None = None,
    evidence: Mapping[str, Sequence[str]] | None = None,
) -> ScoreCard:
    """Hold values and evidence against an indicator set.

    Parameters
    ----------
    indicator_set : IndicatorSet, or a path or code for `load_indicator_set`
    values : mapping
        Indicator code → value in the indicator's unit (percentages as 0–100). A code left out, or None, is
        *missing*: listed on the card, never passed, 0 points if scored.
    size_quantity : float, optional
        Value of the set's size quantity (e.g. annual comprehensive energy use [tce/yr]) that picks the size class.
    evidence : mapping, optional
        Indicator code → references to the evidence attached (file names, document numbers).

    Returns
    -------
    ScoreCard

    Raises
    ------
    ValidationFailed
        A value or evidence for an unknown indicator, a value that is not a finite number, a negative size quantity.
    """
    s = indicator_set if isinstance(indicator_set, IndicatorSet) else load_indicator_set(indicator_set)
    evidence = dict(evidence or {})
    _check_inputs(s, values, evidence, size_quantity)
    q = None if size_quantity is None else float(size_quantity)
    results = []
    for ind in s.indicators:
        v = values.get(ind.code)
        value = None if v is None else float(v)
        common = dict(
            code=ind.code,
            name=ind.name,
            name_zh=ind.name_zh,
            kind=ind.kind,
            unit=ind.unit,
            direction=ind.direction,
            value=value,
            evidence_required=ind.evidence,
            evidence=tuple(evidence.get(ind.code, ())),
            verified=ind.verified,
            parent=ind.parent,
        )
        if ind.kind == "scored":
            results.append(_score(ind, value, common))
            continue
        threshold, size_class, basis = _pick_threshold(ind, q, s.size_quantity)
        sign = "<=" if ind.direction == "max" else ">="
        if value is None:
            status, text = "missing", "no value given: not passed"
        elif threshold is None:
            status, text = "not_evaluated", f"{_n(value)} {ind.unit}: {basis}"
        else:
            ok = _as_good(value, threshold, ind.direction)
            status = "passed" if ok else "failed"
            shown = sign if ok else (">" if ind.direction == "max" else "<")
            unit = "" if ind.unit in _NO_UNIT else f" {ind.unit}"
            text = f"{_n(value)}{unit} {shown} {_n(threshold)}{unit} (must be {sign}): {status}"
        results.append(
            IndicatorResult(
                **common,
                status=status,
                threshold=threshold,
                size_class=size_class,
                threshold_basis=basis,
                explanation=text,
            )
        )
    return _card(s, tuple(results), q)


def _score(ind: Indicator, value: float | None, common: dict) -> IndicatorResult:
    assert ind.weight is not None and ind.baseline is not None and ind.leading is not None
    w, b, lead = ind.weight, ind.baseline, ind.leading
    basis = f"linear from baseline {_n(b)} (0 points) to leading {_n(lead)} ({_n(w)} points) {ind.unit}"
    if value is None:
        return IndicatorResult(
            **common,
            status="missing",
            threshold=None,
            size_class=None,
            threshold_basis=basis,
            weight=w,
            baseline=b,
            leading=lead,
            score=0.0,
            explanation="no value given: 0 points, not passed",
        )
    raw = (value - b) / (lead - b)
    fraction = min(max(raw, 0.0), 1.0)
    points = w * fraction
    text = f"{_n(w)} × ({_n(value)} − {_n(b)}) / ({_n(lead)} − {_n(b)}) = {_n(w)} × {_n(raw)}"
    if raw < 0:
        text += ", worse than the baseline: 0 points"
    elif raw > 1:
        text += f", better than the leading value: capped at {_n(w)} points"
    else:
        text += f" = {_n(points)} points"
    return IndicatorResult(
        **common,
        status="scored",
        threshold=None,
        size_class=None,
        threshold_basis=basis,
        weight=w,
        baseline=b,
        leading=lead,
        score=points,
        explanation=text,
    )


def _card(s: IndicatorSet, results: tuple[IndicatorResult, ...], q: float | None) -> ScoreCard:
    by_code = {r.code: r for r in results}
    missing = tuple(r.code for r in results if r.status == "missing")
    not_evaluated = tuple(r.code for r in results if r.status == "not_evaluated")
    failed = tuple(r.code for r in results if r.status == "failed")
    gating = [r for r in results if r.kind in GATING_KINDS]
    guiding = [r for r in results if r.kind == "guiding"]
    core_passed = all(r.status == "passed" for r in gating)
    scored = [r for r in results if r.kind == "scored"]
    score = sum(r.score or 0.0 for r in scored) if scored else None
    max_score = s.total_weight if scored else None

    # group scores, bottom-up
    def group_score(code: str) -> float:
        own = sum(r.score or 0.0 for r in scored if r.parent == code)
        return own + sum(group_score(g.code) for g in s.groups if g.parent == code)

    groups = tuple(GroupResult(g.code, g.name, g.name_zh, g.weight, group_score(g.code), g.parent) for g in s.groups)

    grade, reason = None, "the set defines no grades"
    if s.grades:
        if not core_passed:
            bad = [r.code for r in gating if r.status != "passed"]
            reason = "no grade: core/basic indicator(s) not passed: " + ", ".join(bad)
        elif missing or not_evaluated:
            reason = "no grade: values missing or not evaluated: " + ", ".join(missing + not_evaluated)
        else:
            reason = "no grade reached"
            for g in s.grades:
                checks = []
                if g.min_score is not None:
                    checks.append(
                        (
                            score is not None and (score >= g.min_score or _close(score, g.min_score)),
                            f"score {_n(score or 0.0)} >= {_n(g.min_score)}",
                        )
                    )
                for code, bound in g.requires:
                    r = by_code[code]
                    sign = "<=" if r.direction == "max" else ">="
                    ok = r.value is not None and _as_good(r.value, bound, r.direction)
                    checks.append((ok, f"{code} {_n(r.value or 0.0)} {sign} {_n(bound)} {r.unit}"))
                if all(ok for ok, _ in checks):
                    grade = g
                    reason = f"{g.name}: " + "; ".join(text for _, text in checks)
    unverified = [r.code for r in results if not r.verified]
    if grade is not None and not grade.verified:
        unverified.append(f"grade {grade.code}")
    return ScoreCard(
        set_code=s.code,
        set_title=s.title,
        set_version=s.version,
        source=str(s.source),
        set_verified=s.verified,
        size_quantity=q,
        size_quantity_unit=s.size_quantity.unit if s.size_quantity else None,
        results=results,
        groups=groups,
        core_passed=core_passed,
        guiding_passed=all(r.status == "passed" for r in guiding),
        score=score,
        max_score=max_score,
        grade=grade.code if grade else None,
        grade_name=grade.name if grade else None,
        grade_reason=reason,
        missing=missing,
        not_evaluated=not_evaluated,
        failed=failed,
        evidence_missing=tuple(r.code for r in results if r.evidence_missing),
        unverified=tuple(unverified),
        notes=s.notes,
    )


# -- the zero-carbon park notice (发改环资〔2025〕910号) -----------------------------------------------
ZCP_910 = "zcp_910"


@dataclass(frozen=True)
class CoreIndicator910:
    """The 910 core indicator of one park-year: CO2 from energy use per unit of comprehensive energy use."""

    energy_tco2: float  # CO2 from energy use [tCO2/yr]
    energy_use_tce: float  # comprehensive energy use [tce/yr]
    tco2_per_tce: float  # the indicator [tCO2/tce]
    size_class: str | None
    threshold_tco2_per_tce: float | None
    passed: bool | None  # None: no size class applies
    verified: bool  # the threshold was confirmed in the notice itself
    explanation: str


def core_indicator_910(
    energy_tco2: float, energy_use_tce: float, indicator_set: IndicatorSet | None = None
) -> CoreIndicator910:
    """The 910 core indicator 单位能耗碳排放: CO2 from energy use [tCO2] / comprehensive energy use [tce].

    The size class is chosen by the same year's comprehensive energy use (the parks' size classes are in
    annual energy use, tce/yr).

    Parameters
    ----------
    energy_tco2 : float
        CO2 emitted by the park's energy use over the year [tCO2], >= 0, as the notice's accounting method counts
        it (e.g. after green electricity is credited; that accounting is done upstream).
    energy_use_tce : float
        Comprehensive energy use over the same year [tce], > 0.
    indicator_set : IndicatorSet, optional
        The set holding the thresholds; default the shipped ``zcp_910``.

    Returns
    -------
    CoreIndicator910
        The value, the size class and threshold, pass/fail (None outside every class) and the arithmetic.
    """
    if not _is_number(energy_tco2) or energy_tco2 < 0:
        raise ValidationFailed(f"CO2 from energy use must be a number >= 0 [tCO2] (got {energy_tco2!r})")
    if not _is_number(energy_use_tce) or energy_use_tce <= 0:
        raise ValidationFailed(f"comprehensive energy use must be a number > 0 [tce] (got {energy_use_tce!r})")
    s = indicator_set or load_indicator_set(ZCP_910)
    ind = next((i for i in s.indicators if i.kind == "core"), None)
    if ind is None:
        raise ValidationFailed(f"indicator set {s.code!r} has no core indicator")
    value = energy_tco2 / energy_use_tce
    card = evaluate(s, {ind.code: value}, size_quantity=energy_use_tce)
    r = card.result(ind.code)
    text = f"{_n(energy_tco2)} tCO2 / {_n(energy_use_tce)} tce = {_n(value)} tCO2/tce; {r.threshold_basis}"
    if r.threshold is not None:
        text += f"; {r.explanation}"
    else:
        text += "; not evaluated"
    if not ind.verified:
        text += " (threshold not confirmed in the notice's text: see the set's notes)"
    return CoreIndicator910(
        energy_tco2=float(energy_tco2),
        energy_use_tce=float(energy_use_tce),
        tco2_per_tce=value,
        size_class=r.size_class,
        threshold_tco2_per_tce=r.threshold,
        passed=r.passed,
        verified=ind.verified,
        explanation=text,
    )


@dataclass(frozen=True)
class Derived:
    """Indicator values computed from plain quantities, with the arithmetic of each."""

    values: dict[str, float] = field(default_factory=dict)  # indicator code → value [%]
    formulas: dict[str, str] = field(default_factory=dict)


def _share(name: str, part: float, whole: float) -> tuple[float, str]:
    for label, x in (("part", part), ("whole", whole)):
        if not _is_number(x) or x < 0:
            raise ValidationFailed(f"{name}: {label} must be a number >= 0 (got {x!r})")
    if whole <= 0:
        raise ValidationFailed(f"{name}: the denominator must be > 0 (got {whole!r})")
    if part > whole * (1 + _REL_TOL):
        raise ValidationFailed(f"{name}: part {_n(part)} exceeds the whole {_n(whole)}")
    pct = 100.0 * part / whole
    return pct, f"{_n(part)} / {_n(whole)} × 100 = {_n(pct)} %"


def guiding_indicators_910(
    *,
    clean_energy_tce: float | None = None,
    total_energy_tce: float | None = None,
    solid_waste_utilised_t: float | None = None,
    solid_waste_generated_t: float | None = None,
    solid_waste_prior_stock_utilised_t: float = 0.0,
    waste_energy_recovered_gj: float | None = None,
    waste_energy_recoverable_gj: float | None = None,
    water_reused_m3: float | None = None,
    fresh_water_m3: float | None = None,
) -> Derived:
    """The 910 guiding indicators [%] from plain yearly quantities; only the pairs given are computed.

    - clean-energy share = clean energy consumption / total energy consumption (both [tce]);
    - industrial solid-waste comprehensive utilisation = utilised / (generated + utilised from earlier years'
      stock) [t] (the usual statistical definition; `solid_waste_utilised_t` includes the stock utilised);
    - waste heat/cold/pressure utilisation = energy recovered / recoverable waste energy [GJ];
    - industrial water reuse = reused water / (reused water + fresh water intake) [m³].

    The definitions are the usual ones; the notice's accounting annex was not read (see ``zcp_910.toml``).
    """
    out = Derived()
    pairs = (
        ("clean_energy_share", "clean-energy share", clean_energy_tce, total_energy_tce, 0.0),
        (
            "solid_waste_utilisation",
            "solid-waste utilisation",
            solid_waste_utilised_t,
            solid_waste_generated_t,
            solid_waste_prior_stock_utilised_t,
        ),
        (
            "waste_energy_utilisation",
            "waste heat/cold/pressure utilisation",
            waste_energy_recovered_gj,
            waste_energy_recoverable_gj,
            0.0,
        ),
        ("industrial_water_reuse", "industrial water reuse", water_reused_m3, fresh_water_m3, None),
    )
    for code, name, part, base, extra in pairs:
        if part is None and base is None:
            continue
        if part is None or base is None:
            raise ValidationFailed(f"{name}: give both quantities or neither")
        if extra is None:  # water: the whole is reused + fresh
            whole = part + base
        else:
            if not _is_number(extra) or extra < 0:
                raise ValidationFailed(f"{name}: must be a number >= 0 (got {extra!r})")
            whole = base + extra
        out.values[code], out.formulas[code] = _share(name, part, whole)
    return out


# -- recognitions (green factory, green supply chain, green product, zero-carbon units) ---------------
RECOGNITION_FORMAT = "parkzero-recognitions"
RECOGNITION_KINDS = (
    "green_factory",
    "green_supply_chain",
    "green_product",
    "green_park",
    "green_data_centre",
    "zero_carbon_factory",
    "zero_carbon_park",
    "zero_carbon_building",
)
# as the issuer names its list: 国家级, 省级, 市级 (Shanghai's 市级 is of provincial rank), 区级/县级
RECOGNITION_LEVELS = ("national", "provincial", "municipal", "district")
_RECOGNITION_FIELDS = ("park", "holder", "kind", "level", "year", "issuer", "list_name", "product", "evidence", "notes")


@dataclass(frozen=True)
class Recognition:
    """One recognition held by an enterprise (or the park) of a park, with the evidence that proves it."""

    park: str  # park code
    holder: str  # enterprise code, or the park code for a park-level recognition
    kind: str  # one of RECOGNITION_KINDS
    level: str  # one of RECOGNITION_LEVELS
    year: int  # year the list was published
    issuer: str  # e.g. 工业和信息化部, 上海市经济和信息化委员会
    evidence: tuple[str, ...]  # the list or certificate: document number, address, file
    list_name: str = ""  # e.g. 2024年度绿色制造名单
    product: str = ""  # green products: the product
    notes: str = ""

    @property
    def key(self) -> tuple:
        return (self.park, self.holder, self.kind, self.level, self.year, self.product)


def _recognition(raw: object, row: int, source: str, issues: IssueCollector) -> Recognition | None:
    def bad(column: str, reason: str, value: object = None) -> None:
        issues.add(Issue(reason, file=source, row=row, column=column, value=None if value is None else str(value)))

    if not isinstance(raw, Mapping):
        bad("-", "each recognition must be an object")
        return None
    for key in sorted(set(raw) - set(_RECOGNITION_FIELDS)):
        bad(key, "unknown field")
    before = issues.total
    for key in ("park", "holder", "issuer"):
        if not isinstance(raw.get(key), str) or not raw[key].strip():
            bad(key, "missing or empty", raw.get(key))
    for key in ("list_name", "product", "notes"):
        if key in raw and not isinstance(raw[key], str):
            bad(key, "must be a text", raw[key])
    if raw.get("kind") not in RECOGNITION_KINDS:
        bad("kind", f"must be one of {', '.join(RECOGNITION_KINDS)}", raw.get("kind"))
    if raw.get("level") not in RECOGNITION_LEVELS:
        bad("level", f"must be one of {', '.join(RECOGNITION_LEVELS)}", raw.get("level"))
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 1990 <= year <= 2100:
        bad("year", "must be a year between 1990 and 2100", year)
    ev = raw.get("evidence")
    if not isinstance(ev, list) or not ev or not all(isinstance(e, str) and e.strip() for e in ev):
        bad("evidence", "give at least one piece of evidence (list of texts: document number, address, file)", ev)
    if raw.get("kind") == "green_product" and not str(raw.get("product", "")).strip():
        bad("product", "a green-product recognition names the product")
    if issues.total > before:
        return None
    return Recognition(
        park=raw["park"].strip(),
        holder=raw["holder"].strip(),
        kind=raw["kind"],
        level=raw["level"],
        year=year,
        issuer=raw["issuer"].strip(),
        evidence=tuple(e.strip() for e in ev),
        list_name=raw.get("list_name", "").strip(),
        product=raw.get("product", "").strip(),
        notes=raw.get("notes", "").strip(),
    )


@dataclass
class RecognitionRegistry:
    """Recognitions of the parks, held in memory; load/save as JSON. The store keeps them per park in
    `parkzero.pathway.records` (which checks each one here)."""

    recognitions: list[Recognition] = field(default_factory=list)

    def add(self, recognition: Recognition | Mapping) -> Recognition:
        """Check and add one recognition (a `Recognition` or its fields as a mapping).

        Raises
        ------
        ValidationFailed
            A field is wrong, or the same recognition (park, holder, kind, level, year, product) is already held.
        """
        raw = asdict(recognition) if isinstance(recognition, Recognition) else recognition
        if isinstance(recognition, Recognition):
            raw["evidence"] = list(recognition.evidence)
        issues = IssueCollector()
        rec = _recognition(raw, len(self.recognitions) + 1, "<recognition>", issues)
        issues.raise_if_any("recognition rejected")
        assert rec is not None
        if any(r.key == rec.key for r in self.recognitions):
            raise ValidationFailed(
                f"recognition already held: {rec.kind} ({rec.level}, {rec.year}) of {rec.holder!r} in {rec.park!r}"
            )
        self.recognitions.append(rec)
        return rec

    def for_park(self, park: str) -> list[Recognition]:
        return [r for r in self.recognitions if r.park == park]

    def for_holder(self, park: str, holder: str) -> list[Recognition]:
        return [r for r in self.recognitions if r.park == park and r.holder == holder]

    def to_json(self) -> str:
        items = [{k: v for k, v in asdict(r).items() if v not in ("", None)} for r in self.recognitions]
        for item in items:
            item["evidence"] = list(item["evidence"])
        doc = {"format": RECOGNITION_FORMAT, "version": 1, "recognitions": items}
        return json.dumps(doc, ensure_ascii=False, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = "<json>") -> RecognitionRegistry:
        """Read a whole registry; a single bad row rejects it all (each problem named by row and field)."""
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValidationFailed(f"{source} is not valid JSON: {exc}") from None
        if not isinstance(doc, Mapping) or doc.get("format") != RECOGNITION_FORMAT or doc.get("version") != 1:
            raise ValidationFailed(f"{source} is not a {RECOGNITION_FORMAT} document of version 1")
        rows = doc.get("recognitions")
        if not isinstance(rows, list):
            raise ValidationFailed(f"{source}: 'recognitions' must be a list")
        issues = IssueCollector()
        out: list[Recognition] = []
        seen: set[tuple] = set()
        for row, raw in enumerate(rows, start=1):
            rec = _recognition(raw, row, source, issues)
            if rec is None:
                continue
            if rec.key in seen:
                issues.add(Issue("the same recognition appears twice", file=source, row=row))
            seen.add(rec.key)
            out.append(rec)
        if issues:
            raise ValidationFailed(f"recognitions {source} rejected: {issues.total} problem(s)", issues=issues.issues)
        return cls(out)

    def save(self, path: str | os.PathLike) -> None:
        """Write the registry as JSON, atomically (a crash leaves the old file whole)."""
        p = Path(path)
        tmp = p.with_name(p.name + ".tmp")
        tmp.write_text(self.to_json(), encoding="utf-8")
        os.replace(tmp, p)

    @classmethod
    def load(cls, path: str | os.PathLike) -> RecognitionRegistry:
        p = Path(path)
        if not p.is_file():
            raise NotFound(f"no recognitions file {p}")
        return cls.from_json(p.read_text(encoding="utf-8"), str(p))

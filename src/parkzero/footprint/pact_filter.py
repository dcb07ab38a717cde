"""Filters of PACT ListFootprints: the v2 ``$filter`` OData subset and the v3 query parameters.

v2.3 §8.6.3 (https://wbcsd.github.io/tr/2024/data-exchange-protocol-20241024/) allows in ``$filter`` only

* the comparison operators ``eq lt le gt ge`` on ``created``, ``updated``, ``productCategoryCpc``,
  ``pcf/geographyCountry``, ``pcf/referencePeriodStart``, ``pcf/referencePeriodEnd``;
* the logical operator ``and`` (and parentheses);
* the lambda operator ``any`` on ``companyIds`` and ``productIds``, whose argument uses only ``eq``:
  ``productIds/any(productId:(productId eq 'urn:...'))``.

`parse_filter` turns such a statement into a predicate over a footprint as its spec JSON dict. Malformed text
raises `FilterSyntaxError` (the spec's ``BadRequest``); valid OData outside the subset (``or``, ``ne``, other
properties, functions) raises `FilterNotSupported`, as §8.6.1 says a host refusing a filter MUST answer
``NotImplemented``. Both are `ValidationFailed` and carry the PACT error code in ``pact_error_code``.

v3.0 §5.6.3 (https://docs.carbon-transparency.org/ref/data-exchange-protocol/3.0.0/) replaces ``$filter``
with query parameters; `v3_predicate` implements them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic_core import PydanticCustomError

from parkzero.errors import Issue, ValidationFailed
from parkzero.footprint.pact import _check_datetime, _plus_years

Predicate = Callable[[Mapping[str, Any]], bool]


class FilterSyntaxError(ValidationFailed):
    """The filter is not well-formed; the API answers with PACT code BadRequest."""

    pact_error_code = "BadRequest"


class FilterNotSupported(ValidationFailed):
    """The filter is well-formed but outside what PACT (and so this host) supports: code NotImplemented."""

    pact_error_code = "NotImplemented"


def _raise(kind: type[ValidationFailed], reason: str, *, column: str, value: str | None = None) -> None:
    raise kind(f"filter rejected: {reason}", issues=[Issue(reason, column=column, value=value)])


def _datetime(value: object) -> datetime | None:
    try:
        return _check_datetime(value)
    except PydanticCustomError:
        return None


# ---------------------------------------------------------------------------------------------------------------
# v2 $filter

COMPARABLE = {  # OData path -> (path in the footprint JSON, kind of value)
    "created": (("created",), "datetime"),
    "updated": (("updated",), "datetime"),
    "productCategoryCpc": (("productCategoryCpc",), "string"),
    "pcf/geographyCountry": (("pcf", "geographyCountry"), "string"),
    "pcf/referencePeriodStart": (("pcf", "referencePeriodStart"), "datetime"),
    "pcf/referencePeriodEnd": (("pcf", "referencePeriodEnd"), "datetime"),
}
COLLECTIONS = ("companyIds", "productIds")
OPERATORS = ("eq", "lt", "le", "gt", "ge")
ODATA_OTHER_OPERATORS = ("ne", "has", "in", "or", "not", "add", "sub", "mul", "div", "mod", "all")
TOKEN = re.compile(
    r"\s*(?:(?P<string>'(?:[^']|'')*')|(?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:\d{2}))"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<number>[+-]?\d+(?:\.\d+)?)|(?P<punct>[()/:,]))"
)


@dataclass(frozen=True)
class Token:
    kind: str  # string, datetime, name, number, punct, end
    text: str
    position: int  # 0-based offset in the filter text

    @property
    def value(self) -> str:
        return self.text[1:-1].replace("''", "'") if self.kind == "string" else self.text


def tokenize(text: str) -> list[Token]:
    """Split a ``$filter`` statement into tokens; an unknown character raises `FilterSyntaxError`."""
    tokens, position = [], 0
    while position < len(text):
        if text[position:].strip() == "":
            break
        match = TOKEN.match(text, position)
        if match is None or match.end() == position:
            start = len(text) - len(text[position:].lstrip())
            _raise(
                FilterSyntaxError,
                f"unexpected character {text[start]!r} at character {start + 1}",
                column="$filter",
                value=text,
            )
        kind = match.lastgroup or "punct"
        tokens.append(Token(kind, match.group(kind), match.start(kind)))
        position = match.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


@dataclass(frozen=True)
class Comparison:
    """``<property> <operator> <literal>`` on one of `COMPARABLE`."""

    property: str
    operator: str
    literal: str

    def __call__(self, footprint: Mapping[str, Any]) -> bool:
        path, kind = COMPARABLE[self.property]
        value: Any = footprint
        for key in path:
            value = value.get(key) if isinstance(value, Mapping) else None
        if value is None:
            return False  # OData: a comparison with null is false
        left, right = (_datetime(value), _datetime(self.literal)) if kind == "datetime" else (value, self.literal)
        if left is None or right is None:
            return False
        return {
            "eq": left == right,
            "lt": left < right,
            "le": left <= right,
            "gt": left > right,
            "ge": left >= right,
        }[self.operator]


@dataclass(frozen=True)
class AnyEqual:
    """``<collection>/any(x:(x eq <literal>))``: the collection holds the literal."""

    collection: str
    literal: str

    def __call__(self, footprint: Mapping[str, Any]) -> bool:
        values = footprint.get(self.collection)
        return isinstance(values, list) and self.literal in values


@dataclass(frozen=True)
class And:
    parts: tuple[Predicate, ...]

    def __call__(self, footprint: Mapping[str, Any]) -> bool:
        return all(part(footprint) for part in self.parts)


def _everything(footprint: Mapping[str, Any]) -> bool:
    return True


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    @property
    def token(self) -> Token:
        return self.tokens[self.index]

    def fail(self, reason: str, token: Token | None = None, *, supported: bool = True) -> None:
        token = token or self.token
        where = "at the end" if token.kind == "end" else f"at character {token.position + 1} ({token.text!r})"
        kind = FilterSyntaxError if supported else FilterNotSupported
        _raise(kind, f"{reason} {where}", column="$filter", value=self.text)

    def take(self, kind: str, text: str | None = None) -> Token:
        token = self.token
        if token.kind != kind or (text is not None and token.text != text):
            self.fail(f"expected {text or kind}")
        self.index += 1
        return token

    def at(self, kind: str, text: str | None = None) -> bool:
        return self.token.kind == kind and (text is None or self.token.text == text)

    def expression(self) -> Predicate:
        parts = [self.term()]
        while self.at("name", "and"):
            self.index += 1
            parts.append(self.term())
        if self.at("name") and self.token.text in ODATA_OTHER_OPERATORS:
            self.fail(
                f"operator {self.token.text!r} is not in the PACT filter subset (only 'and' joins conditions)",
                supported=False,
            )
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def term(self) -> Predicate:
        if self.at("punct", "("):
            self.index += 1
            inner = self.expression()
            self.take("punct", ")")
            return inner
        if self.at("name", "not"):
            self.fail("operator 'not' is not in the PACT filter subset", supported=False)
        if not self.at("name"):
            self.fail("expected a property name")
        start = self.token
        names = [self.take("name").text]
        while self.at("punct", "/"):
            self.index += 1
            names.append(self.take("name").text)
        if len(names) >= 2 and names[-1] in ("any", "all"):
            return self.lambda_any("/".join(names[:-1]), names[-1], start)
        if self.at("punct", "("):
            self.fail(f"function {names[-1]!r} is not in the PACT filter subset", start, supported=False)
        path = "/".join(names)
        if path not in COMPARABLE:
            allowed = ", ".join([*COMPARABLE, *(f"{name}/any" for name in COLLECTIONS)])
            self.fail(f"filtering on {path!r} is not supported (PACT allows {allowed})", start, supported=False)
        if not self.at("name"):
            self.fail("expected a comparison operator (eq, lt, le, gt, ge)")
        operator = self.token
        if operator.text not in OPERATORS:
            if operator.text in ODATA_OTHER_OPERATORS:
                self.fail(f"operator {operator.text!r} is not in the PACT filter subset", supported=False)
            self.fail("expected a comparison operator (eq, lt, le, gt, ge)")
        self.index += 1
        literal = self.literal()
        if COMPARABLE[path][1] == "datetime" and _datetime(literal.value) is None:
            self.fail(f"{path} compares with a UTC date and time such as '2023-01-01T00:00:00Z'", literal)
        return Comparison(path, operator.text, literal.value)

    def literal(self) -> Token:
        if self.at("string") or self.at("datetime"):
            token = self.token
            self.index += 1
            return token
        if self.at("number"):
            self.fail("values are compared as quoted strings, such as '3342'")
        self.fail("expected a quoted value such as 'DE'")
        raise AssertionError  # unreachable: fail raises

    def lambda_any(self, collection: str, operator: str, start: Token) -> Predicate:
        if operator == "all" or collection not in COLLECTIONS:
            self.fail(
                f"{collection}/{operator} is not supported (PACT allows companyIds/any and productIds/any)",
                start,
                supported=False,
            )
        self.take("punct", "(")
        variable = self.take("name").text
        self.take("punct", ":")
        depth = 0
        while self.at("punct", "("):
            self.index += 1
            depth += 1
        found = self.take("name")
        if found.text != variable:
            self.fail(f"the condition must test the lambda variable {variable!r}", found)
        if not self.at("name", "eq"):
            if self.at("name"):
                self.fail("inside any() PACT allows only the 'eq' operator", supported=False)
            self.fail("expected 'eq'")
        self.index += 1
        literal = self.literal()
        for _ in range(depth):
            self.take("punct", ")")
        if self.at("name", "and") or (self.at("name") and self.token.text in ODATA_OTHER_OPERATORS):
            self.fail("inside any() PACT allows a single 'eq' condition", supported=False)
        self.take("punct", ")")
        return AnyEqual(collection, literal.value)


def parse_filter(text: str | None) -> Predicate:
    """Parse a v2 ``$filter`` statement into a predicate over a footprint's spec JSON dict.

    Parameters
    ----------
    text : str or None
        The decoded value of the ``$filter`` query parameter; empty or None selects every footprint.

    Returns
    -------
    callable
        ``predicate(footprint_dict) -> bool``; the tree of `Comparison`, `AnyEqual` and `And` it is made of can
        also be read (to turn it into SQL, say).

    Raises
    ------
    FilterSyntaxError
        The text is not a well-formed filter (PACT code BadRequest).
    FilterNotSupported
        Well-formed OData outside the v2.3 §8.6.3 subset (PACT code NotImplemented).
    """
    if text is None or not text.strip():
        return _everything
    parser = _Parser(text)
    predicate = parser.expression()
    if not parser.at("end"):
        parser.fail("unexpected text after the filter")
    return predicate


v2_predicate = parse_filter  # the name the API uses beside v3_predicate


# ---------------------------------------------------------------------------------------------------------------
# v3 query parameters

LIST_PARAMETERS = ("productId", "companyId", "geography", "classification")
TIME_PARAMETERS = ("validOn", "validAfter", "validBefore")


def validity_period(footprint: Mapping[str, Any]) -> tuple[datetime | None, datetime | None]:
    """Start and end of a footprint's validity period; without one, 3 years from referencePeriodEnd (v3 §7.3)."""
    start, end = _datetime(footprint.get("validityPeriodStart")), _datetime(footprint.get("validityPeriodEnd"))
    reference_end = _datetime((footprint.get("pcf") or {}).get("referencePeriodEnd"))
    if start is None and end is None and reference_end is not None:
        return reference_end, _plus_years(reference_end, 3)
    return start or reference_end, end or (_plus_years(reference_end, 3) if reference_end else None)


def _folded(values: Iterable[object]) -> set[str]:
    return {value.casefold() for value in values if isinstance(value, str)}


def _geography_matches(footprint: Mapping[str, Any], wanted: set[str]) -> bool:
    pcf = footprint.get("pcf") or {}
    names = _folded(
        pcf.get(key) for key in ("geographyRegionOrSubregion", "geographyCountry", "geographyCountrySubdivision")
    )
    subdivision = pcf.get("geographyCountrySubdivision")
    if isinstance(subdivision, str) and "-" in subdivision:
        names.add(subdivision.split("-")[0].casefold())  # CN-SH lies within CN
    return bool(names & wanted)


def v3_predicate(
    params: Mapping[str, Iterable[str] | str], *, ignore: Iterable[str] = ("limit", "offset")
) -> Predicate:
    """The predicate of the v3 ListFootprints query parameters (v3 §5.6.3).

    Parameters
    ----------
    params : mapping of str to list of str
        The query parameters, each with all its values (``?geography=CN&geography=DE``).
    ignore : iterable of str
        Parameters that are not filters (pagination) and are left to the caller.

    Returns
    -------
    callable
        ``predicate(footprint_dict) -> bool``. Several values of one parameter match any of them; several
        parameters must all match. productId, companyId, geography, classification and status match without
        regard to case. geography matches the region, the country or the subdivision, and a country also
        matches its subdivisions (CN matches CN-SH); a region does not match its countries (no UN M49 table).
        validOn/validAfter/validBefore use the validity period, 3 years from referencePeriodEnd when the
        footprint gives none (§7.3).

    Raises
    ------
    FilterSyntaxError
        An unknown parameter, a repeated single-valued one or a bad date (PACT code BadRequest); an unknown
        status matches nothing.
    FilterNotSupported
        ``$filter`` (deprecated in v3.0, §5.6.2) or an ``x-`` extension parameter (code NotImplemented).
    """
    skipped = set(ignore)
    checks: list[Predicate] = []
    for name, raw in params.items():
        values = [raw] if isinstance(raw, str) else list(raw)
        if name in skipped:
            continue
        if name == "$filter":
            _raise(
                FilterNotSupported,
                "$filter is deprecated in PACT v3; use the query parameters",
                column=name,
                value=values[0] if values else None,
            )
        if name.startswith("x-"):
            _raise(FilterNotSupported, f"extension parameter {name!r} is not supported by this host", column=name)
        if name not in (*LIST_PARAMETERS, *TIME_PARAMETERS, "status"):
            known = ", ".join((*LIST_PARAMETERS, *TIME_PARAMETERS, "status"))
            _raise(FilterSyntaxError, f"unknown query parameter {name!r} (v3 knows {known})", column=name)
        if not values or any(not isinstance(value, str) or not value for value in values):
            _raise(FilterSyntaxError, f"{name} needs a non-empty value", column=name)
        if name in LIST_PARAMETERS:
            wanted = _folded(values)
            if name == "geography":
                checks.append(lambda footprint, wanted=wanted: _geography_matches(footprint, wanted))
            else:
                key = {
                    "productId": "productIds",
                    "companyId": "companyIds",
                    "classification": "productClassifications",
                }[name]
                checks.append(
                    lambda footprint, key=key, wanted=wanted: bool(_folded(footprint.get(key) or ()) & wanted)
                )
            continue
        if len(values) > 1:
            _raise(FilterSyntaxError, f"{name} takes a single value", column=name, value=", ".join(values))
        if name == "status":
            # a status other than Active / Deprecated matches no footprint: the conformance suite (v3 test case 37)
            # expects an empty list, not an error
            status = values[0].casefold()
            checks.append(lambda footprint, status=status: str(footprint.get("status", "")).casefold() == status)
            continue
        moment = _datetime(values[0])
        if moment is None:
            _raise(
                FilterSyntaxError,
                f"{name} must be a UTC date and time such as 2025-01-01T00:00:00Z",
                column=name,
                value=values[0],
            )
        checks.append(_validity_check(name, moment))  # type: ignore[arg-type]
    return And(tuple(checks)) if checks else _everything


def _validity_check(name: str, moment: datetime) -> Predicate:
    def check(footprint: Mapping[str, Any]) -> bool:
        start, end = validity_period(footprint)
        if name == "validOn":
            return start is not None and end is not None and start <= moment <= end
        if name == "validAfter":
            return start is not None and start > moment
        return end is not None and end < moment

    return check

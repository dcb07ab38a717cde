"""Identifiers of the demo park's enterprises and meters: unified social credit codes and meter serials.

A unified social credit code (统一社会信用代码, GB 32100-2015) has 18 characters:

======  =====================================================================
1       registration authority (9 = market regulation / industry and commerce)
2       entity type (1 = enterprise)
3-8     administrative division of registration (310113 = Baoshan District, Shanghai)
9-17    organisation code (GB 11714-1997: 8 body characters + its own check character)
18      check character over characters 1-17 (weights 3^(i-1) mod 31, alphabet without I O Z S V)
======  =====================================================================
"""

from __future__ import annotations

import numpy as np

from parkzero.registry.model import credit_check_char, credit_code_ok

ORGANISATION_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
BAOSHAN_DIVISION = "310113"


def organisation_check_char(body: str) -> str:
    """Check character of an 8-character organisation code body (GB 11714-1997).

    ``C9 = 11 - (sum(value_i * w_i) mod 11)`` with weights 3, 7, 9, 10, 5, 8, 4, 2; 10 is written ``X`` and
    11 is written ``0``. Digits count as themselves, letters A-Z as 10-35.
    """
    if len(body) != 8:
        raise ValueError("an organisation code body has 8 characters")
    total = sum(int(ch, 36) * w for ch, w in zip(body.upper(), ORGANISATION_WEIGHTS, strict=True))
    c9 = 11 - total % 11
    return "X" if c9 == 10 else "0" if c9 == 11 else str(c9)


def credit_code_valid(code: str) -> bool:
    """Whether `code` is 18 characters of the GB 32100 alphabet with a correct check character."""
    return credit_code_ok(code)


def make_credit_code(rng: np.random.Generator, division: str = BAOSHAN_DIVISION) -> str:
    """A fictitious but well-formed enterprise credit code registered in `division`.

    The organisation code body is 8 random digits (so its GB 11714 check character, possibly ``X``, is
    valid too), and the final character is the GB 32100 check character.
    """
    body = "".join(str(d) for d in rng.integers(0, 10, size=8))
    first17 = "91" + division + body + organisation_check_char(body)
    return first17 + credit_check_char(first17)


def make_serial(rng: np.random.Generator, prefix: str) -> str:
    """A meter serial number: model prefix plus 12 random digits, e.g. ``DTSD1352-310113004217``."""
    return f"{prefix}-{''.join(str(d) for d in rng.integers(0, 10, size=12))}"

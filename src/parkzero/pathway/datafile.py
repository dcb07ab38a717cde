"""Reading the road to zero's TOML data files: a user's file, or the one shipped in `parkzero/pathway/data/`."""

from __future__ import annotations

import tomllib
from importlib import resources
from pathlib import Path

from parkzero.errors import ValidationFailed


def read_toml(path: str | Path | None, shipped: str) -> tuple[str, dict]:
    """(name to cite in errors, document) of the TOML file `path`, or of the shipped file `shipped` when None.

    Raises
    ------
    ValidationFailed
        The file cannot be read, or is not TOML (with the parser's line and column).
    """
    if path is None:
        where = shipped
        text = resources.files("parkzero.pathway").joinpath("data", shipped).read_text(encoding="utf-8")
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ValidationFailed(f"{where}: cannot read the file ({exc})") from None
    try:
        return where, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValidationFailed(f"{where}: not valid TOML ({exc})") from None

"""Data on stdout as a table, CSV or JSON; messages and progress on stderr."""

from __future__ import annotations

import csv
import json
import sys
from enum import StrEnum

from rich.console import Console
from rich.table import Table

err = Console(stderr=True)


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def emit(rows: list[dict] | dict, fmt: Format = Format.table, title: str | None = None) -> None:
    if isinstance(rows, dict):
        rows = [rows]
    if fmt == Format.json:
        sys.stdout.write(json.dumps(rows, default=str, ensure_ascii=False, indent=2) + "\n")
        return
    columns = list(dict.fromkeys(k for r in rows for k in r))
    if fmt == Format.csv:
        w = csv.DictWriter(sys.stdout, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow({k: _cell(v) for k, v in r.items()})
        return
    table = Table(title=title)
    for c in columns:
        table.add_column(c)
    for r in rows:
        table.add_row(*(_cell(r.get(c)) for c in columns))
    Console().print(table)


def _cell(v: object) -> str:
    if v is None:
        return ""
    if isinstance(v, dict | list):
        return json.dumps(v, default=str, ensure_ascii=False)
    return str(v)

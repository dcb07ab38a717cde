"""The store: one interface over DuckDB (embedded default) and PostgreSQL (server)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from parkzero.config import Settings
from parkzero.store import schema
from parkzero.store.db import DUCKDB, POSTGRES, Database

__all__ = ["Store", "open_store", "DUCKDB", "POSTGRES"]


class Store:
    """An open database with the schema at the current version."""

    def __init__(self, db: Database):
        self.db = db

    @property
    def engine(self) -> str:
        return self.db.engine

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def audit(
        self,
        actor: str,
        action: str,
        entity: str,
        entity_id: Any = None,
        *,
        before: Any = None,
        after: Any = None,
        park_id: int | None = None,
        enterprise_id: int | None = None,
    ) -> None:
        """Append one entry to the audit log (who, when, what, before/after). Never updated or deleted."""
        self.db.execute(
            "INSERT INTO audit_log (logged_at, actor, action, entity, entity_id, park_id, enterprise_id, before, after)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                datetime.now(UTC),
                actor,
                action,
                entity,
                None if entity_id is None else str(entity_id),
                park_id,
                enterprise_id,
                None if before is None else json.dumps(before, default=str, ensure_ascii=False),
                None if after is None else json.dumps(after, default=str, ensure_ascii=False),
            ),
        )

    def next_batch_id(self) -> int:
        row = self.db.fetchone("SELECT nextval('pz_batch')")
        assert row is not None
        return int(row[0])

    def check(self) -> list[str]:
        """Integrity checks the engines do not enforce themselves; returns the problems found."""
        problems = []
        dup = self.db.fetchone(
            "SELECT count(*) FROM (SELECT channel_id, ts_start FROM readings GROUP BY 1, 2 HAVING count(*) > 1) d"
        )
        if dup and dup[0]:
            problems.append(f"{dup[0]} duplicated reading keys (channel_id, ts_start)")
        return problems


def open_store(url: str | None = None, *, upgrade: bool = True) -> Store:
    """Open the store at `url` (default: PARKZERO_DATABASE_URL or the embedded DuckDB file)."""
    url = url or Settings.from_env().database_url
    db = Database(url)
    if upgrade:
        schema.upgrade(db)
    return Store(db)

"""Versioned schema. Each migration is a list of statements in the common SQL of DuckDB and PostgreSQL.

Add a migration by appending to MIGRATIONS; never edit one that has shipped. `upgrade()` applies what is
missing, inside one transaction per migration, and records it in schema_version.

Readings are keyed by (channel_id, ts_start). PostgreSQL enforces that key with a PRIMARY KEY; in DuckDB an
index on ~10^8 rows would make bulk loads ~25x slower, so there the key is kept by the single-writer merge in
`store.readings` (which is the only code that writes readings) and checked by `Store.check()`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from parkzero.store.db import DUCKDB, POSTGRES, Database

_ID = "BIGINT PRIMARY KEY DEFAULT nextval('pz_id')"

# A statement is plain SQL for both engines, or (engine, SQL) for one engine only.
MIGRATIONS: list[list[str | tuple[str, str]]] = [
    # 1: registry, users, audit, readings, rollups
    [
        "CREATE SEQUENCE IF NOT EXISTS pz_id START 1",
        "CREATE SEQUENCE IF NOT EXISTS pz_batch START 1",
        f"""CREATE TABLE parks (id {_ID}, code TEXT NOT NULL UNIQUE, name TEXT NOT NULL, name_zh TEXT,
            timezone TEXT NOT NULL, latitude DOUBLE PRECISION, longitude DOUBLE PRECISION)""",
        f"""CREATE TABLE zones (id {_ID}, park_id BIGINT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
            name_zh TEXT, UNIQUE (park_id, code))""",
        f"""CREATE TABLE buildings (id {_ID}, park_id BIGINT NOT NULL, zone_id BIGINT, code TEXT NOT NULL,
            name TEXT NOT NULL, name_zh TEXT, floor_area_m2 DOUBLE PRECISION, use TEXT, year_built INTEGER,
            UNIQUE (park_id, code))""",
        f"""CREATE TABLE enterprises (id {_ID}, park_id BIGINT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
            name_zh TEXT, credit_code TEXT, industry_code TEXT, is_startup BOOLEAN NOT NULL DEFAULT FALSE,
            building_id BIGINT, UNIQUE (park_id, code))""",
        f"""CREATE TABLE assets (id {_ID}, park_id BIGINT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
            kind TEXT NOT NULL, building_id BIGINT, enterprise_id BIGINT, params TEXT NOT NULL DEFAULT '{{}}',
            UNIQUE (park_id, code))""",
        f"""CREATE TABLE meters (id {_ID}, park_id BIGINT NOT NULL, code TEXT NOT NULL, name TEXT NOT NULL,
            building_id BIGINT, enterprise_id BIGINT, serial TEXT, UNIQUE (park_id, code))""",
        f"""CREATE TABLE channels (id {_ID}, park_id BIGINT NOT NULL, meter_id BIGINT NOT NULL,
            code TEXT NOT NULL, name TEXT NOT NULL, quantity_kind TEXT NOT NULL, unit TEXT NOT NULL,
            interval_s INTEGER NOT NULL DEFAULT 900, behaviour TEXT NOT NULL DEFAULT 'interval',
            purpose TEXT, building_id BIGINT, enterprise_id BIGINT, asset_id BIGINT, parent_id BIGINT,
            counter_rollover DOUBLE PRECISION, UNIQUE (park_id, code))""",
        f"""CREATE TABLE products (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT NOT NULL,
            code TEXT NOT NULL, name TEXT NOT NULL, declared_unit TEXT NOT NULL, UNIQUE (park_id, code))""",
        f"""CREATE TABLE users (id {_ID}, username TEXT NOT NULL UNIQUE, password_hash TEXT NOT NULL,
            role TEXT NOT NULL, park_id BIGINT, enterprise_id BIGINT, display_name TEXT,
            active BOOLEAN NOT NULL DEFAULT TRUE, created_at TIMESTAMPTZ NOT NULL)""",
        f"""CREATE TABLE api_keys (id {_ID}, name TEXT NOT NULL, prefix TEXT NOT NULL UNIQUE,
            key_hash TEXT NOT NULL, park_id BIGINT NOT NULL, enterprise_id BIGINT, created_by TEXT,
            created_at TIMESTAMPTZ NOT NULL, revoked_at TIMESTAMPTZ)""",
        f"""CREATE TABLE column_mappings (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT,
            name TEXT NOT NULL, spec TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, UNIQUE (park_id, name))""",
        f"""CREATE TABLE audit_log (id {_ID}, logged_at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
            entity TEXT NOT NULL, entity_id TEXT, park_id BIGINT, enterprise_id BIGINT,
            before TEXT, after TEXT)""",
        """CREATE TABLE ingest_batches (id BIGINT PRIMARY KEY, created_at TIMESTAMPTZ NOT NULL, actor TEXT NOT NULL,
            source TEXT NOT NULL, filename TEXT, park_id BIGINT, enterprise_id BIGINT,
            n_readings BIGINT NOT NULL, n_inserted BIGINT NOT NULL, n_unchanged BIGINT NOT NULL,
            n_revised BIGINT NOT NULL)""",
        """CREATE TABLE readings (channel_id BIGINT NOT NULL, ts_start TIMESTAMPTZ NOT NULL,
            value DOUBLE PRECISION NOT NULL, quality SMALLINT NOT NULL, batch_id BIGINT NOT NULL,
            revision INTEGER NOT NULL, delta DOUBLE PRECISION {readings_pk})""",
        """CREATE TABLE reading_revisions (channel_id BIGINT NOT NULL, ts_start TIMESTAMPTZ NOT NULL,
            revision INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL, quality SMALLINT NOT NULL,
            batch_id BIGINT NOT NULL, superseded_by BIGINT NOT NULL, superseded_at TIMESTAMPTZ NOT NULL)""",
        """CREATE TABLE rollup_hourly (channel_id BIGINT NOT NULL, hour_start TIMESTAMPTZ NOT NULL,
            value_sum DOUBLE PRECISION, value_min DOUBLE PRECISION, value_max DOUBLE PRECISION,
            n_readings INTEGER NOT NULL, n_estimated INTEGER NOT NULL {hourly_pk})""",
        """CREATE TABLE rollup_daily (channel_id BIGINT NOT NULL, day DATE NOT NULL,
            value_sum DOUBLE PRECISION, value_min DOUBLE PRECISION, value_max DOUBLE PRECISION,
            n_readings INTEGER NOT NULL, n_estimated INTEGER NOT NULL {daily_pk})""",
        "CREATE INDEX IF NOT EXISTS reading_revisions_key ON reading_revisions (channel_id, ts_start)",
        "CREATE INDEX IF NOT EXISTS audit_log_entity ON audit_log (entity, entity_id)",
    ],
    # 2: the audit log refuses UPDATE and DELETE on PostgreSQL (DuckDB has no triggers; there only the
    # store's code writes it, and it only inserts)
    [
        (
            POSTGRES,
            "CREATE OR REPLACE FUNCTION pz_append_only() RETURNS trigger LANGUAGE plpgsql AS"
            " 'BEGIN RAISE EXCEPTION ''the audit log is append-only''; END'",
        ),
        (
            POSTGRES,
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log"
            " FOR EACH ROW EXECUTE FUNCTION pz_append_only()",
        ),
    ],
    # 3: the carbon ledger: factor library, emission sources, activity entries with evidence, instruments and
    # their retirements, inventories with their lines and lifecycle events
    [
        f"""CREATE TABLE factor_sets (id {_ID}, code TEXT NOT NULL, version TEXT NOT NULL, title TEXT NOT NULL,
            title_zh TEXT, publisher TEXT, licence TEXT, notes TEXT, origin TEXT NOT NULL, park_id BIGINT,
            enterprise_id BIGINT, sha256 TEXT NOT NULL, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            locked_at TIMESTAMPTZ, UNIQUE (code, version))""",
        """CREATE TABLE factors (set_id BIGINT NOT NULL, row_no INTEGER NOT NULL, factor_id TEXT NOT NULL,
            parameter TEXT NOT NULL, gas TEXT, value DOUBLE PRECISION NOT NULL, unit TEXT NOT NULL,
            year_from INTEGER, year_to INTEGER, region TEXT, label TEXT, label_zh TEXT, source TEXT NOT NULL,
            table_ref TEXT, note TEXT, PRIMARY KEY (set_id, row_no))""",
        f"""CREATE TABLE emission_sources (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT,
            building_id BIGINT, code TEXT NOT NULL, name TEXT NOT NULL, name_zh TEXT, scope SMALLINT NOT NULL,
            category TEXT NOT NULL, method TEXT NOT NULL, factor_ref TEXT NOT NULL, activity_unit TEXT NOT NULL,
            params TEXT NOT NULL DEFAULT '{{}}', created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            UNIQUE (park_id, code))""",
        """CREATE TABLE emission_source_channels (source_id BIGINT NOT NULL, channel_id BIGINT NOT NULL,
            park_id BIGINT NOT NULL, PRIMARY KEY (source_id, channel_id))""",
        f"""CREATE TABLE evidence (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT, filename TEXT NOT NULL,
            content_type TEXT, sha256 TEXT NOT NULL, size_bytes BIGINT NOT NULL, content {{blob}} NOT NULL,
            uploaded_by TEXT NOT NULL, uploaded_at TIMESTAMPTZ NOT NULL)""",
        f"""CREATE TABLE activity_entries (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT,
            source_id BIGINT NOT NULL, period_start TIMESTAMPTZ NOT NULL, period_end TIMESTAMPTZ NOT NULL,
            amount DOUBLE PRECISION NOT NULL, unit TEXT NOT NULL, amount_canonical DOUBLE PRECISION NOT NULL,
            evidence_id BIGINT, note TEXT, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            voided_at TIMESTAMPTZ, voided_by TEXT, void_reason TEXT)""",
        f"""CREATE TABLE instruments (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT NOT NULL,
            code TEXT NOT NULL, kind TEXT NOT NULL, serial_prefix TEXT, serial_first BIGINT, serial_last BIGINT,
            mwh DOUBLE PRECISION NOT NULL, vintage_year INTEGER NOT NULL, technology TEXT, facility TEXT,
            region TEXT, factor_tco2_per_mwh DOUBLE PRECISION, evidence_id BIGINT, created_by TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, UNIQUE (park_id, code))""",
        f"""CREATE TABLE retirements (id {_ID}, instrument_id BIGINT NOT NULL, park_id BIGINT NOT NULL,
            enterprise_id BIGINT NOT NULL, serial_first BIGINT, serial_last BIGINT, mwh DOUBLE PRECISION NOT NULL,
            year INTEGER NOT NULL, retired_by TEXT NOT NULL, retired_at TIMESTAMPTZ NOT NULL, note TEXT)""",
        f"""CREATE TABLE inventories (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT, year INTEGER NOT NULL,
            regime TEXT NOT NULL, version INTEGER NOT NULL, status TEXT NOT NULL, restates_id BIGINT,
            reason TEXT, result_sha256 TEXT NOT NULL, result TEXT NOT NULL, created_by TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, closed_at TIMESTAMPTZ)""",
        """CREATE TABLE inventory_lines (inventory_id BIGINT NOT NULL, line_no INTEGER NOT NULL,
            enterprise_id BIGINT, source_id BIGINT, scope SMALLINT NOT NULL, category TEXT NOT NULL,
            scope2_method TEXT NOT NULL, gas TEXT NOT NULL, month SMALLINT NOT NULL,
            activity_amount DOUBLE PRECISION NOT NULL, activity_unit TEXT NOT NULL, emissions_t DOUBLE PRECISION
            NOT NULL, gwp DOUBLE PRECISION NOT NULL, tco2e DOUBLE PRECISION NOT NULL, trace TEXT NOT NULL,
            PRIMARY KEY (inventory_id, line_no))""",
        f"""CREATE TABLE inventory_events (id {_ID}, inventory_id BIGINT NOT NULL, logged_at TIMESTAMPTZ NOT NULL,
            actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, body TEXT, evidence_id BIGINT)""",
        """CREATE TABLE enterprise_figures (park_id BIGINT NOT NULL, enterprise_id BIGINT NOT NULL, year INTEGER NOT NULL,
            output_value_10k_cny DOUBLE PRECISION, updated_by TEXT NOT NULL, updated_at TIMESTAMPTZ NOT NULL,
            PRIMARY KEY (enterprise_id, year))""",
        "CREATE INDEX IF NOT EXISTS activity_entries_source ON activity_entries (source_id)",
        "CREATE INDEX IF NOT EXISTS retirements_instrument ON retirements (instrument_id)",
        # PostgreSQL also refuses, in the database, any change to a closed inventory and its lines
        (
            POSTGRES,
            "CREATE OR REPLACE FUNCTION pz_closed_inventory() RETURNS trigger LANGUAGE plpgsql AS"
            " 'BEGIN IF OLD.status = ''closed'' THEN RAISE EXCEPTION ''inventory % is closed'', OLD.id; END IF;"
            " IF TG_OP = ''DELETE'' THEN RETURN OLD; END IF; RETURN NEW; END'",
        ),
        (
            POSTGRES,
            "CREATE TRIGGER inventories_closed BEFORE UPDATE OR DELETE ON inventories"
            " FOR EACH ROW EXECUTE FUNCTION pz_closed_inventory()",
        ),
        (
            POSTGRES,
            "CREATE OR REPLACE FUNCTION pz_inventory_lines_draft() RETURNS trigger LANGUAGE plpgsql AS"
            " 'BEGIN IF (SELECT status FROM inventories WHERE id = OLD.inventory_id) <> ''draft'' THEN"
            " RAISE EXCEPTION ''lines of inventory % are final'', OLD.inventory_id; END IF; RETURN OLD; END'",
        ),
        (
            POSTGRES,
            "CREATE TRIGGER inventory_lines_final BEFORE UPDATE OR DELETE ON inventory_lines"
            " FOR EACH ROW EXECUTE FUNCTION pz_inventory_lines_draft()",
        ),
    ],
    # 4: product footprints with their lifecycle and review trail, the PACT partners (OAuth2 clients) they are
    # shared with, and the PACT events received and sent (requests, fulfilments, rejections, publications)
    [
        f"""CREATE TABLE footprints (id {_ID}, pf_id TEXT NOT NULL UNIQUE, park_id BIGINT NOT NULL,
            enterprise_id BIGINT, product_id BIGINT, status TEXT NOT NULL, pact_status TEXT NOT NULL,
            origin TEXT NOT NULL, supplier TEXT, spec_version TEXT NOT NULL, declared_unit TEXT NOT NULL,
            pcf_kgco2e DOUBLE PRECISION NOT NULL, primary_data_share_pct DOUBLE PRECISION,
            preceding_pf_id TEXT, document TEXT NOT NULL, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            published_at TIMESTAMPTZ, served_versions TEXT, analysis TEXT)""",
        f"""CREATE TABLE footprint_events (id {_ID}, footprint_id BIGINT NOT NULL, logged_at TIMESTAMPTZ NOT NULL,
            actor TEXT NOT NULL, role TEXT NOT NULL, action TEXT NOT NULL, body TEXT, evidence_id BIGINT)""",
        f"""CREATE TABLE pact_clients (id {_ID}, client_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL,
            name TEXT NOT NULL, park_id BIGINT NOT NULL, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL,
            revoked_at TIMESTAMPTZ)""",
        """CREATE TABLE footprint_shares (footprint_id BIGINT NOT NULL, client_id BIGINT NOT NULL,
            shared_by TEXT NOT NULL, shared_at TIMESTAMPTZ NOT NULL, PRIMARY KEY (footprint_id, client_id))""",
        f"""CREATE TABLE pact_events (id {_ID}, park_id BIGINT NOT NULL, client_id BIGINT, enterprise_id BIGINT,
            direction TEXT NOT NULL, spec TEXT NOT NULL, event_id TEXT NOT NULL, type TEXT NOT NULL, source TEXT,
            connection TEXT, body TEXT NOT NULL, state TEXT NOT NULL, logged_at TIMESTAMPTZ NOT NULL)""",
        # other PACT hosts we are a client of (suppliers we pull from, customers we answer), with the credentials
        # they issued to us (needed in clear to authenticate: protect the database like the secrets it holds)
        f"""CREATE TABLE pact_connections (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT, name TEXT NOT NULL,
            base_url TEXT NOT NULL, version TEXT NOT NULL, client_id TEXT NOT NULL, client_secret TEXT NOT NULL,
            ca_pem TEXT, created_by TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, UNIQUE (park_id, name))""",
        "CREATE INDEX IF NOT EXISTS footprint_events_fp ON footprint_events (footprint_id)",
        # PostgreSQL also refuses, in the database, any change to a published footprint but its deprecation
        # (status and statusComment of the document, pact_status), and its deletion
        (
            POSTGRES,
            "CREATE OR REPLACE FUNCTION pz_published_footprint() RETURNS trigger LANGUAGE plpgsql AS"
            " 'BEGIN IF OLD.status = ''published'' THEN"
            " IF TG_OP = ''DELETE'' THEN RAISE EXCEPTION ''footprint % is published'', OLD.pf_id; END IF;"
            " IF NEW.status <> OLD.status OR NEW.pcf_kgco2e <> OLD.pcf_kgco2e OR NEW.declared_unit <> OLD.declared_unit"
            " OR (NEW.document::jsonb - ''status'' - ''statusComment'')"
            " <> (OLD.document::jsonb - ''status'' - ''statusComment'')"
            " THEN RAISE EXCEPTION ''footprint % is published: a correction is a new version'', OLD.pf_id; END IF;"
            " END IF; IF TG_OP = ''DELETE'' THEN RETURN OLD; END IF; RETURN NEW; END'",
        ),
        (
            POSTGRES,
            "CREATE TRIGGER footprints_published BEFORE UPDATE OR DELETE ON footprints"
            " FOR EACH ROW EXECUTE FUNCTION pz_published_footprint()",
        ),
    ],
    # 5: the road to zero (parkzero.pathway): park and tenant targets, and the recognitions (green factories,
    # green supply chains, green products, zero-carbon units) each park's enterprises hold, with their evidence
    [
        f"""CREATE TABLE targets (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT, code TEXT NOT NULL,
            kind TEXT NOT NULL, target_year INTEGER NOT NULL, base_year INTEGER, value DOUBLE PRECISION,
            unit TEXT NOT NULL, source TEXT NOT NULL, note TEXT NOT NULL, created_by TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL, UNIQUE (park_id, code))""",
        f"""CREATE TABLE recognitions (id {_ID}, park_id BIGINT NOT NULL, enterprise_id BIGINT, kind TEXT NOT NULL,
            level TEXT NOT NULL, year INTEGER NOT NULL, issuer TEXT NOT NULL, list_name TEXT NOT NULL,
            product TEXT NOT NULL, evidence TEXT NOT NULL, notes TEXT NOT NULL, created_by TEXT NOT NULL,
            created_at TIMESTAMPTZ NOT NULL)""",
    ],
]


def _render(stmt: str, engine: str) -> str:
    keys = {
        "{readings_pk}": ", PRIMARY KEY (channel_id, ts_start)",
        "{hourly_pk}": ", PRIMARY KEY (channel_id, hour_start)",
        "{daily_pk}": ", PRIMARY KEY (channel_id, day)",
    }
    stmt = stmt.replace("{blob}", "BLOB" if engine == DUCKDB else "BYTEA")
    for marker, pk in keys.items():
        stmt = stmt.replace(marker, "" if engine == DUCKDB else pk)
    return stmt


def current_version(db: Database) -> int:
    if not db.table_exists("schema_version"):
        return 0
    row = db.fetchone("SELECT max(version) FROM schema_version")
    return int(row[0] or 0) if row else 0


def upgrade(db: Database) -> list[int]:
    """Apply the missing migrations; return the versions applied."""
    applied: list[int] = []
    with db.write_lock:
        if not db.table_exists("schema_version"):
            db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL, applied_at TIMESTAMPTZ)")
        have = current_version(db)
        for version, statements in enumerate(MIGRATIONS, start=1):
            if version <= have:
                continue
            with db.transaction():
                for stmt in statements:
                    if isinstance(stmt, tuple):
                        engine, stmt = stmt
                        if engine != db.engine:
                            continue
                    db.execute(_render(stmt, db.engine))
                db.execute("INSERT INTO schema_version VALUES (?, ?)", (version, datetime.now(UTC)))
            applied.append(version)
    return applied

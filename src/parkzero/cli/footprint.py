"""CLI of product footprints: `parkzero footprint import|export|list|show|submit|verify|reject|publish|share`
and `parkzero footprint partner add|list|revoke` (the PACT host's OAuth2 clients).

The commands run as the installation's owner (system scope) on the configured store, like the rest of the CLI.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from parkzero.cli.output import Format, emit, err
from parkzero.errors import ValidationFailed
from parkzero.registry.scope import Scope

SYSTEM = Scope.system("cli")
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
ParkOpt = Annotated[str, typer.Option("--park", "-p", help="Park code.")]

footprint_app = typer.Typer(help="Product carbon footprints (ISO 14067) and their PACT exchange.", no_args_is_help=True)
partner_app = typer.Typer(help="PACT partners: OAuth2 clients of the park's PACT host.", no_args_is_help=True)
footprint_app.add_typer(partner_app, name="partner")


def _store():
    from parkzero.cli.main import _store as open_configured

    return open_configured()


def register(app: typer.Typer) -> None:
    app.add_typer(footprint_app, name="footprint")


_LIST_COLS = ("id", "pf_id", "status", "pact_status", "origin", "declared_unit", "pcf_kgco2e", "primary_data_share_pct")


@footprint_app.command("import")
def import_command(
    file: Annotated[Path, typer.Argument(help="A PACT JSON file: one footprint, a list, or {'data': [...]}.")],
    park: ParkOpt,
    enterprise: Annotated[
        str, typer.Option(help="Whose footprints these are (the supplier's customer for --origin supplier).")
    ],
    origin: Annotated[
        str, typer.Option(help="imported (ours, as drafts) or supplier (received, as inputs).")
    ] = "imported",
    supplier: Annotated[str | None, typer.Option(help="The supplier's name (with --origin supplier).")] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Import PACT footprints from a file (v2.x or v3.x): all of them or, if any is invalid, none."""
    from parkzero.footprint import pact, records

    if origin not in ("imported", "supplier"):
        raise ValidationFailed("--origin is imported or supplier")
    docs = pact.read_documents(file)
    with _store() as store:  # one transaction: a footprint that fails validation leaves none of the file written
        created = []
        with store.db.write_lock, store.db.transaction():
            for i, doc in enumerate(docs):
                created.append(
                    records.create(
                        store,
                        SYSTEM,
                        park,
                        doc,
                        enterprise_code=enterprise,
                        origin=origin,
                        supplier=supplier,
                        source=f"{file.name} footprint {i + 1}",
                    )
                )
    emit([{k: r[k] for k in _LIST_COLS} for r in created], fmt, title=f"Imported from {file.name}")


@footprint_app.command("export")
def export_command(
    park: ParkOpt,
    out: Annotated[Path, typer.Option(help="The PACT JSON file to write ({'data': [...]}).")],
    ids: Annotated[list[int], typer.Option("--id", help="Footprint ids (default: every published one).")] = [],
    version: Annotated[str, typer.Option(help="PACT major version of the file: 2 or 3.")] = "2",
) -> None:
    """Write footprints as a PACT JSON file for partners without an API."""
    from parkzero.footprint import pact, records

    if version not in ("2", "3"):
        raise ValidationFailed("--version is 2 or 3")
    with _store() as store:
        chosen = ids or [r["id"] for r in records.list_footprints(store, SYSTEM, park) if r["status"] == "published"]
        docs = [pact.as_version(records.get(store, SYSTEM, park, i)["document"], version) for i in chosen]
    out.write_text(json.dumps({"data": docs}, ensure_ascii=False, indent=2), encoding="utf-8")
    err.print(f"{len(docs)} footprint(s) written to {out} (PACT {version})")


@footprint_app.command("list")
def list_command(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.footprint import records

    with _store() as store:
        rows = records.list_footprints(store, SYSTEM, park)
    emit([{k: r[k] for k in _LIST_COLS} for r in rows], fmt, title=f"Footprints of {park}")


@footprint_app.command("show")
def show_command(footprint_id: int, park: ParkOpt) -> None:
    """The footprint's PACT document and its review trail, as JSON."""
    from parkzero.footprint import records

    with _store() as store:
        rec = records.get(store, SYSTEM, park, footprint_id)
        rec["events"] = records.events(store, SYSTEM, park, footprint_id)
    typer.echo(json.dumps(rec, ensure_ascii=False, indent=2, default=str))


def _transition(action: str):
    def command(
        footprint_id: int,
        park: ParkOpt,
        comment: Annotated[str | None, typer.Option(help="Why (needed to reject).")] = None,
        evidence: Annotated[
            int | None, typer.Option(help="An evidence file id (parkzero activity evidence upload) backing the step.")
        ] = None,
        fmt: FormatOpt = Format.table,
    ) -> None:
        from parkzero.footprint import records

        with _store() as store:
            rec = records.transition(store, SYSTEM, park, footprint_id, action, comment, evidence)
        emit([{k: rec[k] for k in _LIST_COLS}], fmt, title=f"Footprint {footprint_id}: {action}")

    command.__doc__ = f"{action.capitalize()} a footprint (draft -> submitted -> verified -> published)."
    return command


for _action in ("submit", "verify", "reject", "publish"):
    footprint_app.command(_action)(_transition(_action))


@footprint_app.command("share")
def share_command(
    footprint_id: int,
    park: ParkOpt,
    partner: Annotated[str, typer.Option(help="The partner's client id.")],
) -> None:
    """Let a PACT partner read a footprint over the API once it is published."""
    from parkzero.footprint import partners, records

    with _store() as store:
        records.share(store, SYSTEM, park, footprint_id, partners.partner_id(store, SYSTEM, park, partner))
    err.print(f"footprint {footprint_id} shared with {partner}")


@partner_app.command("add")
def partner_add(name: str, park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    """Register a partner; its client secret is shown once."""
    from parkzero.footprint import partners

    with _store() as store:
        secret, rec = partners.create(store, SYSTEM, park, name)
    emit([{**rec, "client_secret": secret}], fmt, title="PACT partner (the secret is shown only now)")


@partner_app.command("list")
def partner_list(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    from parkzero.footprint import partners

    with _store() as store:
        emit(partners.list_partners(store, SYSTEM, park), fmt, title=f"PACT partners of {park}")


@partner_app.command("revoke")
def partner_revoke(client_id: str, park: ParkOpt) -> None:
    from parkzero.footprint import partners

    with _store() as store:
        partners.revoke(store, SYSTEM, park, client_id)
    err.print(f"partner {client_id} revoked")


# -- the supply chain over PACT -------------------------------------------------------------------------
@footprint_app.command("connect")
def connect_command(
    name: str,
    park: ParkOpt,
    url: Annotated[str, typer.Option(help="The other PACT host's base URL (https://…).")],
    client_id: Annotated[str, typer.Option(help="The client id that host issued to us.")],
    client_secret: Annotated[str, typer.Option(help="Its secret.", prompt=True, hide_input=True)],
    enterprise: Annotated[str, typer.Option(help="The tenant this connection serves.")],
    version: Annotated[str, typer.Option(help="PACT major version: 2 or 3.")] = "2",
    ca: Annotated[Path | None, typer.Option(help="A PEM certificate to trust for that host (self-signed).")] = None,
) -> None:
    """Keep a connection to another PACT host (a supplier to pull from, a customer to answer)."""
    from parkzero.footprint import exchange

    ca_pem = ca.read_text(encoding="utf-8") if ca else None
    with _store() as store:
        exchange.connect(store, SYSTEM, park, name, url, client_id, client_secret, version=version,
                         enterprise_code=enterprise, ca_pem=ca_pem)  # fmt: skip
    err.print(f"connection {name} to {url} kept")


@footprint_app.command("pull")
def pull_command(name: str, park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    """Read every footprint a supplier's host shares with us; keep the new ones as supplier footprints."""
    from parkzero.footprint import exchange

    with _store() as store:
        got = exchange.pull(store, SYSTEM, park, name)
    emit([{k: got[k] for k in ("received", "stored", "known")}], fmt, title=f"Pulled from {name}")


@footprint_app.command("request")
def request_command(
    name: str,
    park: ParkOpt,
    product: Annotated[list[str], typer.Option(help="A product id (URN) to ask for; repeat for more.")],
    events_url: Annotated[
        str, typer.Option(help="Our own events endpoint, where the answer comes (https://…/2/events).")
    ],
    comment: Annotated[str | None, typer.Option(help="A note for the supplier.")] = None,
) -> None:
    """Ask a supplier's host for footprints; its answer arrives asynchronously on our events endpoint."""
    from parkzero.footprint import exchange

    with _store() as store:
        event = exchange.request(store, SYSTEM, park, name, product, events_url, comment)
    err.print(f"request {event['id']} sent to {name}")


@footprint_app.command("requests")
def requests_command(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    """PACT events received and sent: requests and their state (open, sent, fulfilled, rejected)."""
    from parkzero.footprint import records

    with _store() as store:
        rows = records.requests(store, SYSTEM, park)
    cols = ("id", "direction", "spec", "type", "event_id", "enterprise_id", "state", "logged_at")
    emit([{k: r[k] for k in cols} for r in rows], fmt, title=f"PACT events of {park}")


@footprint_app.command("fulfil")
def fulfil_command(
    request_id: int,
    park: ParkOpt,
    footprint: Annotated[list[int], typer.Option(help="A published footprint id to send; repeat for more.")],
    via: Annotated[str, typer.Option(help="The connection to the customer's host.")],
) -> None:
    """Answer a customer's request with published footprints (a Fulfilled event)."""
    from parkzero.footprint import exchange

    with _store() as store:
        exchange.fulfil(store, SYSTEM, park, request_id, footprint, via)
    err.print(f"request {request_id} fulfilled with {len(footprint)} footprint(s)")


@footprint_app.command("reject")
def reject_command(
    request_id: int,
    park: ParkOpt,
    via: Annotated[str, typer.Option(help="The connection to the customer's host.")],
    message: Annotated[str, typer.Option(help="Why.")],
) -> None:
    """Answer a customer's request with a Rejected event."""
    from parkzero.footprint import exchange

    with _store() as store:
        exchange.reject(store, SYSTEM, park, request_id, via, message)
    err.print(f"request {request_id} rejected")


@footprint_app.command("suppliers")
def suppliers_command(park: ParkOpt, fmt: FormatOpt = Format.table) -> None:
    """The supply-chain view: suppliers and what they sent, requests waiting, primary-data share per footprint."""
    from parkzero.footprint import exchange

    with _store() as store:
        view = exchange.overview(store, SYSTEM, park)
    emit(view["suppliers"], fmt, title="Suppliers")
    emit(view["requests"], fmt, title="Requests waiting for an answer")
    emit(view["footprints"], fmt, title="Our footprints (primary-data share %)")


@footprint_app.command("label")
def label_command(
    footprint_id: int,
    park: ParkOpt,
    out: Annotated[Path, typer.Option(help="The PDF to write.")],
    url: Annotated[str, typer.Option(help="What the QR code points to (e.g. https://host/2/footprints/<pfId>).")],
    lang: Annotated[str, typer.Option(help="zh or en.")] = "zh",
) -> None:
    """The carbon label of a published footprint as a PDF (100 x 150 mm) with a QR code."""
    from parkzero.reports.label import carbon_label_pdf

    with _store() as store:
        pdf = carbon_label_pdf(store, SYSTEM, park, footprint_id, footprint_url=url, lang=lang)
    out.write_bytes(pdf)
    err.print(f"carbon label written to {out}")


@footprint_app.command("compute")
def compute_command(
    document: Annotated[
        Path, typer.Argument(help="A product-system document (TOML or JSON; see footprint/systems.py).")
    ],
    park: ParkOpt,
    product: Annotated[str | None, typer.Option(help="Show the contributions (hot spots) of this product.")] = None,
    inventory: Annotated[
        int | None, typer.Option(help="Allocate this inventory's facility emissions and reconcile.")
    ] = None,
    basis: Annotated[
        str, typer.Option(help="Allocation basis of the inventory: output_mass, energy or economic.")
    ] = "output_mass",
    monte_carlo: Annotated[int, typer.Option(help="Monte Carlo draws on the uncertain inputs (0: none).")] = 0,
    save: Annotated[
        bool, typer.Option(help="Record --product's footprint as a draft PACT footprint for review.")
    ] = False,
    sensitivity: Annotated[
        bool, typer.Option(help="--product's footprint under each allocation method its co-product processes allow.")
    ] = False,
    dqi: Annotated[
        str | None,
        typer.Option(help='PACT v2.3 data quality ratings as JSON (needed from 2025): {"coveragePercent": 100, ...}'),
    ] = None,
    fmt: FormatOpt = Format.table,
) -> None:
    """Footprints of every product of a system built from the tenant's metered energy, supplier footprints and
    secondary factors, all from one factorisation; with --inventory, facility emissions allocated and the sum
    reconciled with the inventory (the difference shown)."""
    from parkzero.footprint import engine, systems

    doc = systems.load_document(document)
    if save and not product:
        raise ValidationFailed("--save records the footprint of --product: name the product")
    try:
        ratings = json.loads(dqi) if dqi else None
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"--dqi is not JSON: {exc}") from None
    with _store() as store:
        if save:
            from parkzero.footprint import results

            saved = results.record_computed(store, SYSTEM, park, doc, product, inventory_id=inventory, basis=basis,
                                            dqi=ratings)  # fmt: skip
            err.print(f"recorded as draft footprint {saved['id']} ({saved['pf_id']}); submit it for verification")
        if inventory is not None:
            rec = systems.allocate_inventory(store, SYSTEM, park, doc, inventory, basis=basis)
            system = rec.system
        else:
            rec = None
            system, _ = systems.build_system(store, SYSTEM, park, doc)
    fact = engine.factorise(system)
    values = engine.footprints(fact)
    units = {p.code: p.declared_unit for p in system.products}
    spread = engine.monte_carlo(system, monte_carlo, seed=1) if monte_carlo else {}
    rows = []
    for code, value in values.items():
        row = {"product": code, "kgco2e_per_unit": round(value, 6), "declared_unit": units.get(code)}
        if code in spread:
            d = spread[code]
            row.update({"p2_5": round(d.p2_5, 6), "p97_5": round(d.p97_5, 6)})
        rows.append(row)
    emit(rows, fmt, title=f"Footprints of {document.name} (one factorisation)")
    if product:
        hot = engine.contributions(fact, product)
        emit([{"kind": c.kind, "input": c.code, "source": c.source, "kgco2e": round(c.kgco2e, 6),
               "share_pct": round(c.share_pct, 2)} for c in hot], fmt, title=f"Hot spots of {product}")  # fmt: skip
    if sensitivity and product:
        table = engine.allocation_sensitivity(system, product)
        emit([{"process": process, "method": method, "kgco2e_per_unit": round(value, 6)}
              for process, methods in table.items() for method, value in methods.items()],
             fmt, title=f"{product} under each allocation method")  # fmt: skip
    if rec is not None:
        emit([{"product": p.product, "output": p.output, "consumed_inside": p.consumed_inside,
               "facility_kgco2e_per_unit": round(p.facility_kgco2e, 6), "total_tco2e": round(p.total_tco2e, 3)}
              for p in rec.products], fmt, title=f"Facility emissions allocated by {rec.basis}")  # fmt: skip
        err.print(
            f"inventory {rec.inventory_tco2e:,.3f} tCO2e; allocated over products {rec.facility_tco2e:,.3f} tCO2e;"
            f" difference {rec.difference_tco2e:,.3f} tCO2e"
            + (f" ({rec.difference_pct:.2f} %)" if rec.difference_pct is not None else "")
            + f"; over delivered output {rec.facility_delivered_tco2e:,.3f} tCO2e"
        )

"""Report downloads: an inventory as PDF or Excel, the same numbers as the API, in the caller's scope."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Response

from parkzero.accounting import inventory
from parkzero.api.deps import CurrentScope, StoreDep
from parkzero.reports import inventory as report

router = APIRouter(tags=["reports"])
MEDIA = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


@router.get("/parks/{park}/inventories/{inventory_id}/report", operation_id="inventory_report")
def inventory_report(
    park: str,
    inventory_id: int,
    store: StoreDep,
    scope: CurrentScope,
    format: Literal["pdf", "xlsx"] = "pdf",
    layout: Literal["ghg", "cn"] = "ghg",
    lang: Literal["en", "zh"] | None = None,
) -> Response:
    """The inventory report: `ghg` (GHG Protocol) or `cn` (GB/T 32150 enterprise report) layout."""
    result = inventory.result(store, scope, park, inventory_id)  # a regulator's has no lines: nor has the report
    lang = lang or ("zh" if layout == "cn" else "en")
    body = (
        report.inventory_pdf(result, layout, lang) if format == "pdf" else report.inventory_xlsx(result, layout, lang)
    )
    name = f"{park}-{result['enterprise'] or 'park'}-{result['year']}-{result['regime']['code']}-v{result['inventory']['version']}-{layout}.{format}"
    return Response(body, media_type=MEDIA[format], headers={"Content-Disposition": f'attachment; filename="{name}"'})

"""Inventory reports in two layouts, PDF and Excel, built from the stored result and nothing else.

- ``ghg``: GHG Protocol Corporate Standard reporting — Scope 1 by category, Scope 2 location- and market-based
  side by side, Scope 3 by category, emissions by gas, intensities, factors with their sources, notes.
- ``cn``: the structure of a Chinese enterprise report (GB/T 32150-2015 §8 and the MEE guideline templates):
  报告主体基本信息, 核算边界, 排放量汇总, 活动数据及来源, 排放因子及来源, 数据质量管理.

Every figure is read from `parkzero.accounting.inventory.result` (totals, breakdowns, lines, factors), rounded
only for display; a report without lines (a regulator's) leaves the line-level sections out.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from parkzero.errors import ValidationFailed
from parkzero.reports.tables import add_sheet, fmt

LAYOUTS = ("ghg", "cn")
LANGS = ("en", "zh")
SCOPE1 = ("stationary_combustion", "mobile_combustion", "process", "fugitive")
SCOPE2 = ("electricity", "heat", "steam")
SCOPE3_NAMES = {
    "1": ("Purchased goods and services", "外购商品和服务"),
    "2": ("Capital goods", "资本货物"),
    "3": ("Fuel- and energy-related activities", "燃料和能源相关活动"),
    "4": ("Upstream transportation and distribution", "上游运输和配送"),
    "5": ("Waste generated in operations", "运营中产生的废弃物"),
    "6": ("Business travel", "商务差旅"),
    "7": ("Employee commuting", "员工通勤"),
    "8": ("Upstream leased assets", "上游租赁资产"),
    "9": ("Downstream transportation and distribution", "下游运输和配送"),
    "10": ("Processing of sold products", "售出产品的加工"),
    "11": ("Use of sold products", "售出产品的使用"),
    "12": ("End-of-life treatment of sold products", "售出产品的报废处理"),
    "13": ("Downstream leased assets", "下游租赁资产"),
    "14": ("Franchises", "特许经营"),
    "15": ("Investments", "投资"),
}
CATEGORY_NAMES = {
    "stationary_combustion": ("Stationary combustion", "化石燃料燃烧（固定源）"),
    "mobile_combustion": ("Mobile combustion", "化石燃料燃烧（移动源）"),
    "process": ("Process emissions", "工业生产过程排放"),
    "fugitive": ("Fugitive emissions", "逸散排放"),
    "electricity": ("Purchased electricity", "净购入电力"),
    "heat": ("Purchased heat", "净购入热力"),
    "steam": ("Purchased steam", "净购入蒸汽"),
}
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _check(layout: str, lang: str) -> None:
    if layout not in LAYOUTS:
        raise ValidationFailed(f"report layout must be one of {', '.join(LAYOUTS)}, not {layout!r}")
    if lang not in LANGS:
        raise ValidationFailed(f"report language must be one of {', '.join(LANGS)}, not {lang!r}")


def category_name(cat: str, lang: str) -> str:
    names = CATEGORY_NAMES.get(cat) or SCOPE3_NAMES.get(cat)
    if names is None:
        return cat
    label = names[1] if lang == "zh" else names[0]
    return f"{cat}. {label}" if cat in SCOPE3_NAMES else label


def report_model(result: dict, layout: str = "ghg", lang: str = "en") -> dict:
    """Everything a report shows, in display order, taken from the inventory result."""
    _check(layout, lang)
    methods = list(result["regime"]["scope2_methods"])
    by_cat = result["by_category"]
    lines = result.get("lines")

    def rows(categories) -> list[dict]:
        return [
            {"category": c, "name": category_name(c, lang), "values": [by_cat[c].get(m) for m in methods]}
            for c in categories
            if c in by_cat
        ]

    scope3 = sorted((c for c in by_cat if c in SCOPE3_NAMES), key=int)
    gases = []
    gas_t: dict[str, float] = defaultdict(float)
    if lines is not None:
        main = methods[-1]
        for ln in lines:
            if ln["scope"] != 2 or ln["scope2_method"] == main:
                gas_t[ln["gas"]] += ln["emissions_t"]
    for gas, v in result["by_gas"].items():
        gases.append(
            {"gas": gas, "t": gas_t.get(gas) if lines is not None else None, "values": [v.get(m) for m in methods]}
        )
    activity = _activity(lines, lang) if lines is not None else None
    inv = result.get("inventory", {})
    return {
        "layout": layout,
        "lang": lang,
        "subject": result["enterprise"] or result["park"],
        "park": result["park"],
        "enterprise": result["enterprise"],
        "year": result["year"],
        "regime": result["regime"],
        "methods": methods,
        "inventory": inv,
        "totals": result["totals"],
        "scope1": rows(SCOPE1),
        "scope2": rows(SCOPE2),
        "scope3": rows(scope3),
        "gases": gases,
        "months": [
            {"month": int(k), "values": [v.get(m) for m in methods]}
            for k, v in sorted(result["by_month"].items(), key=lambda kv: int(kv[0]))
            if k != "0"
        ],
        "by_enterprise": result.get("by_enterprise"),
        "intensities": result["intensities"],
        "denominators": result.get("denominators", {}),
        "activity": activity,
        "factors": result["factors_used"],
        "notes": result["notes"],
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def _activity(lines: list[dict], lang: str) -> list[dict]:
    """Annual activity per source (once per source and month, whatever the gases), with where it came from."""
    seen: set[tuple] = set()
    out: dict[str, dict] = {}
    for ln in lines:
        if ln["source"].startswith("market:"):
            continue
        rec = out.setdefault(
            ln["source"],
            {
                "source": ln["source"],
                "scope": ln["scope"],
                "category": category_name(ln["category"], lang),
                "amount": 0.0,
                "unit": ln["activity_unit"],
                "meters": set(),
                "entries": set(),
                "evidence": set(),
                "tco2e": defaultdict(float),
            },
        )
        rec["tco2e"][ln["scope2_method"]] += ln["tco2e"]
        key = (ln["source"], ln["month"])
        if key in seen or ln["scope2_method"] == "market":
            continue
        seen.add(key)
        rec["amount"] += ln["activity_amount"]
        trace = ln.get("trace", {})
        rec["meters"].update(c["channel"] for c in trace.get("channels", []))
        for e in trace.get("entries", []):
            rec["entries"].add(e["entry"])
            if e.get("evidence"):
                rec["evidence"].add(e["evidence"]["sha256"])
    for rec in out.values():
        parts = []
        if rec["meters"]:
            parts.append(("计量通道 " if lang == "zh" else "meters ") + ", ".join(sorted(rec["meters"])))
        if rec["entries"]:
            n, ev = len(rec["entries"]), len(rec["evidence"])
            parts.append(
                f"{n} 条手工录入（{ev} 份证据文件）" if lang == "zh" else f"{n} manual entries ({ev} evidence files)"
            )
        rec["origin"] = "; ".join(parts) or "–"
        rec["tco2e"] = sum(rec["tco2e"].values()) / max(len(rec["tco2e"]), 1)
        del rec["meters"], rec["entries"], rec["evidence"]
    return sorted(out.values(), key=lambda r: (r["scope"], r["category"], r["source"]))


def inventory_html(result: dict, layout: str = "ghg", lang: str = "en") -> str:
    model = report_model(result, layout, lang)
    return _env.get_template(f"inventory_{layout}.html").render(m=model, fmt=fmt, zh=lang == "zh")


def inventory_pdf(result: dict, layout: str = "ghg", lang: str = "en") -> bytes:
    """The report as PDF (A4), rendered from HTML by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=inventory_html(result, layout, lang)).write_pdf()


def inventory_xlsx(result: dict, layout: str = "ghg", lang: str | None = None) -> bytes:
    """The report as an Excel workbook: Summary, Scope 1, Scope 2, Scope 3, By month, Lines, Factors."""
    from openpyxl import Workbook

    lang = lang or ("zh" if layout == "cn" else "en")
    m = report_model(result, layout, lang)
    wb = Workbook()

    def sheet(title: str, header: list[str], body: list[list], first: bool = False):
        return add_sheet(wb, title, header, body, first=first)

    meth = [f"{x}-based (tCO2e)" for x in m["methods"]]
    t = m["totals"]
    summary = [
        ["subject", m["subject"]],
        ["year", m["year"]],
        ["regime", m["regime"]["code"]],
        ["regime title", m["regime"]["title"]],
        ["basis", m["regime"]["basis"]],
        ["status", m["inventory"].get("status")],
        ["version", m["inventory"].get("version")],
        ["result sha256", m["inventory"].get("result_sha256")],
    ]
    summary += [[f"{k} ({'tce' if k == 'energy_tce' else 'tCO2e'})", v] for k, v in t.items()]
    summary += [[f"intensity {k}", v] for k, v in m["intensities"].items() if k != "method"]
    sheet("Summary", ["item", "value"], summary, first=True)
    sheet("Scope 1", ["category", *meth], [[r["name"], *r["values"]] for r in m["scope1"]])
    sheet("Scope 2", ["category", *meth], [[r["name"], *r["values"]] for r in m["scope2"]])
    sheet("Scope 3", ["category", *meth], [[r["name"], *r["values"]] for r in m["scope3"]])
    sheet("By gas", ["gas", "t of gas", *meth], [[g["gas"], g["t"], *g["values"]] for g in m["gases"]])
    sheet("By month", ["month", *meth], [[r["month"], *r["values"]] for r in m["months"]])
    lines = result.get("lines")
    if lines is not None:
        sheet(
            "Lines",
            [
                "enterprise",
                "source",
                "scope",
                "category",
                "scope2 method",
                "gas",
                "month",
                "activity",
                "activity unit",
                "emissions (t of gas)",
                "GWP",
                "tCO2e",
                "formula",
            ],
            [
                [
                    ln["enterprise"],
                    ln["source"],
                    ln["scope"],
                    ln["category"],
                    ln["scope2_method"],
                    ln["gas"],
                    ln["month"],
                    ln["activity_amount"],
                    ln["activity_unit"],
                    ln["emissions_t"],
                    ln["gwp"],
                    ln["tco2e"],
                    ln["trace"].get("formula"),
                ]
                for ln in lines
            ],
        )
    sheet(
        "Factors",
        ["set", "version", "factor", "parameter", "gas", "value", "unit", "source", "table"],
        [
            [
                f["set"],
                f["version"],
                f["factor_id"],
                f["parameter"],
                f["gas"],
                f["value"],
                f["unit"],
                f["source"],
                f["table"],
            ]
            for f in m["factors"]
        ],
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()

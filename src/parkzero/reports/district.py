"""The district report: a regulator's comparison of parks, as PDF and Excel, built from `district.as_dict()` only.

The input is the list of `parkzero.pathway.district.ParkSummary.as_dict()` of the parks the caller may see: their
aggregates from closed park-level inventories (never a tenant's lines). The report shows

- one table of the parks side by side: latest closed year, total [tCO2e], energy use [tce], intensity
  [tCO2e per 10^4 CNY], the 910 core indicator [tCO2/tce] with its size class, threshold and pass/fail, the targets
  on track / off track, recognitions by kind and air pollutants [t];
- per park: its emission history, its targets with the arithmetic of their standing, the 910 arithmetic.

A threshold not confirmed in the notice's own text (``core_910.verified`` False) is flagged wherever it is shown.
`comparison_row` is the one place that turns a summary into the side-by-side row, so that the web page
(`parkzero.web.district_pages`) shows the same columns as the report.
"""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from parkzero.errors import ValidationFailed
from parkzero.reports.tables import add_sheet, fmt

LANGS = ("en", "zh")
TARGET_STATUSES = ("met", "on track", "off track", "missed", "not judged")
ON_TRACK = "on track"
OFF_TRACK = "off track"
POLLUTANTS = ("so2_t", "nox_t", "pm_t", "voc_t", "apeq_t")  # keys of `pollutants`, all in tonnes per year
UNVERIFIED_MARK = "*"  # next to a 910 threshold not confirmed in the notice's text

# key -> (English, Chinese); units in brackets in every column header
LABELS: dict[str, tuple[str, str]] = {
    "title": ("District comparison of parks", "园区对比报告（区域）"),
    "subtitle": ("Aggregates of the parks, side by side", "各园区汇总数据对比"),
    "note": (
        "Figures are from closed park-level inventories only (the latest closed version of each year): no drafts, "
        "no enterprise-level data.",
        "本报告数据仅来自已关闭的园区级温室气体清单（每年最新关闭版本），不含草稿，不含企业级数据。",
    ),
    "unverified_note": (
        "* threshold not confirmed in the text of the notice (read from secondary sources): the pass/fail is "
        "indicative.",
        "* 阈值未在通知原文中核实（取自二手资料），达标判断仅供参考。",
    ),
    "regime": ("Accounting regime", "核算规则"),
    "generated": ("Generated", "生成时间"),
    "parks": ("Parks side by side", "园区对比"),
    "park": ("Park", "园区"),
    "name": ("Name", "名称"),
    "latest_year": ("Latest closed year", "最新关闭年度"),
    "total_tco2e": ("Total [tCO2e]", "排放总量 [tCO2e]"),
    "energy_tce": ("Energy use [tce]", "综合能耗 [tce]"),
    "tco2e_per_10k_cny": ("Intensity [tCO2e per 10^4 CNY]", "单位产值碳排放 [tCO2e/万元]"),
    "core_year": ("910 year", "910 年度"),
    "core_energy_tco2": ("910 energy CO2 [tCO2]", "910 能源活动CO2 [tCO2]"),
    "core_energy_use_tce": ("910 energy use [tce]", "910 综合能耗 [tce]"),
    "core_value": ("910 core indicator [tCO2/tce]", "910 单位能耗碳排放 [tCO2/tce]"),
    "size_class": ("910 size class [tce/yr]", "910 规模档 [tce/年]"),
    "threshold": ("910 threshold [tCO2/tce]", "910 阈值 [tCO2/tce]"),
    "threshold_verified": ("910 threshold verified", "910 阈值已核实"),
    "core_result": ("910 result", "910 结果"),
    "targets_on_track": ("Targets on track [number]", "目标进度正常 [个]"),
    "targets_off_track": ("Targets off track [number]", "目标进度滞后 [个]"),
    "targets_on_off": ("Targets on track / off track [number]", "目标 进度正常 / 滞后 [个]"),
    "targets_met": ("Targets met [number]", "目标已达成 [个]"),
    "targets_missed": ("Targets missed [number]", "目标未达成 [个]"),
    "targets_not_judged": ("Targets not judged [number]", "目标未评判 [个]"),
    "recognitions": ("Recognitions [number by kind]", "认定称号 [按类别计数]"),
    "recognition_of": ("Recognitions: {kind} [number]", "认定称号：{kind} [个]"),
    "pollutant_year": ("Pollutants year", "污染物年度"),
    "so2_t": ("SO2 [t]", "SO2 [t]"),
    "nox_t": ("NOx [t]", "NOx [t]"),
    "pm_t": ("PM [t]", "颗粒物 [t]"),
    "voc_t": ("VOCs [t]", "VOCs [t]"),
    "apeq_t": ("Air pollutant equivalent APeq [t, SO2-normalised]", "大气污染物当量 APeq [t，以SO2计]"),
    "pollutants": ("Air pollutants [t]", "大气污染物 [t]"),
    "not_counted": ("Activity not counted (no factor)", "未计入的活动（无排放因子）"),
    "co_quadrant": ("Co-control quadrant", "协同控制象限"),
    "co_elasticity": ("Co-control elasticity [-]", "协同控制弹性系数 [-]"),
    "co_control": ("Co-control of pollutants and CO2", "减污降碳协同"),
    "history": ("Emission history", "历年排放"),
    "year": ("Year", "年度"),
    "targets": ("Targets", "目标"),
    "code": ("Target", "目标编号"),
    "kind": ("Kind", "类型"),
    "target_year": ("Target year", "目标年份"),
    "status": ("Status", "状态"),
    "explanation": ("Explanation", "说明"),
    "measure": ("Judged on", "评判依据"),
    "core_910": ("910 core indicator", "910 核心指标"),
    "no_targets": ("No targets recorded.", "未录入目标。"),
    "no_history": ("No closed inventory yet.", "尚无已关闭的清单。"),
    "no_pollutants": ("Not computed.", "未计算。"),
    "none": ("none", "无"),
    "pass": ("pass", "达标"),
    "fail": ("fail", "未达标"),
    "not_evaluated": ("not evaluated (no size class applies)", "未评价（不属于任何规模档）"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
    "met": ("met", "已达成"),
    "missed": ("missed", "未达成"),
    "on track": ("on track", "进度正常"),
    "off track": ("off track", "进度滞后"),
    "not judged": ("not judged", "未评判"),
}
RECOGNITION_NAMES = {
    "green_factory": ("green factory", "绿色工厂"),
    "green_supply_chain": ("green supply chain", "绿色供应链管理企业"),
    "green_product": ("green product", "绿色设计产品"),
    "green_park": ("green park", "绿色工业园区"),
    "green_data_centre": ("green data centre", "绿色数据中心"),
    "zero_carbon_factory": ("zero-carbon factory", "零碳工厂"),
    "zero_carbon_park": ("zero-carbon park", "零碳园区"),
    "zero_carbon_building": ("zero-carbon building", "零碳建筑"),
}
POLLUTANT_NAMES = {  # short names in the side-by-side table's pollutant cell (its header gives the unit)
    "so2_t": ("SO2", "SO2"),
    "nox_t": ("NOx", "NOx"),
    "pm_t": ("PM", "颗粒物"),
    "voc_t": ("VOCs", "VOCs"),
    "apeq_t": ("APeq", "污染物当量"),
}
QUADRANT_NAMES = {  # `parkzero.pathway.pollution.QUADRANTS`
    "both reduced": ("both reduced (co-control)", "协同减排"),
    "carbon only": ("carbon only", "仅降碳"),
    "pollutants only": ("pollutants only", "仅减污"),
    "neither": ("neither", "均未减少"),
}
TARGET_KIND_NAMES = {
    "absolute_peak": ("emissions peak", "碳达峰"),
    "neutral": ("carbon neutrality", "碳中和"),
    "absolute_cap": ("emissions cap", "排放总量上限"),
    "intensity_reduction": ("carbon intensity reduction", "碳排放强度下降"),
    "non_fossil_share": ("non-fossil energy share", "非化石能源占比"),
    "energy_intensity_reduction": ("energy intensity reduction", "能耗强度下降"),
}
_env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"), autoescape=select_autoescape(["html"]))


def _check(lang: str) -> None:
    if lang not in LANGS:
        raise ValidationFailed(f"report language must be one of {', '.join(LANGS)}, not {lang!r}")


def _name(table: dict[str, tuple[str, str]], key, lang: str):
    """`key`'s (English, Chinese) name in `table` for `lang`; the key itself when the table has none."""
    names = table.get(key or "")
    return key if names is None else names[lang == "zh"]


def label(key: str, lang: str = "en", **values: str) -> str:
    """The report's label of `key` in `lang` (the key itself when unknown)."""
    text = _name(LABELS, key, lang)
    return text.format(**values) if values else text


def recognition_name(kind: str, lang: str = "en") -> str:
    return _name(RECOGNITION_NAMES, kind, lang)


def target_kind_name(kind: str, lang: str = "en") -> str:
    return _name(TARGET_KIND_NAMES, kind, lang)


def pollutant_name(key: str, lang: str = "en") -> str:
    return _name(POLLUTANT_NAMES, key, lang)


def quadrant_name(quadrant: str | None, lang: str = "en") -> str | None:
    return _name(QUADRANT_NAMES, quadrant, lang)


def comparison_row(summary: dict) -> dict:
    """One park's figures for the side-by-side table, taken from `summary` (a `ParkSummary.as_dict()`).

    Returns
    -------
    dict
        ``park``, ``name``, ``latest_year``, ``total_tco2e`` [tCO2e], ``energy_tce`` [tce], ``tco2e_per_10k_cny``
        [tCO2e per 10^4 CNY]; the 910 core indicator ``core_year``, ``core_energy_tco2`` [tCO2],
        ``core_energy_use_tce`` [tce], ``core_value`` [tCO2/tce], ``size_class``, ``threshold`` [tCO2/tce],
        ``threshold_verified`` (None without a threshold), ``passed`` (True, False, None: no size class) and
        ``core_reason`` (why there is no indicator); ``targets`` {status: number} over `TARGET_STATUSES`;
        ``recognitions`` {kind: number}; ``pollutants`` (the summary's, possibly empty).
    """
    core = summary.get("core_910")
    counts = dict.fromkeys(TARGET_STATUSES, 0)
    for t in summary.get("targets", []):
        counts[t["status"]] = counts.get(t["status"], 0) + 1
    return {
        "park": summary["park"],
        "name": summary["name"],
        "latest_year": summary["latest_year"],
        "total_tco2e": summary["total_tco2e"],
        "energy_tce": summary["energy_tce"],
        "tco2e_per_10k_cny": summary["tco2e_per_10k_cny"],
        "has_core": core is not None,
        "core_year": None if core is None else core.get("year"),
        "core_energy_tco2": None if core is None else core["energy_tco2"],
        "core_energy_use_tce": None if core is None else core["energy_use_tce"],
        "core_value": None if core is None else core["tco2_per_tce"],
        "size_class": None if core is None else core["size_class"],
        "threshold": None if core is None else core["threshold_tco2_per_tce"],
        "threshold_verified": None if core is None or core["threshold_tco2_per_tce"] is None else core["verified"],
        "passed": None if core is None else core["passed"],
        "core_explanation": "" if core is None else core["explanation"],
        "core_reason": summary.get("core_910_reason", ""),
        "targets": counts,
        "recognitions": dict(summary.get("recognitions") or {}),
        "pollutants": dict(summary.get("pollutants") or {}),
    }


def core_result(row: dict, lang: str = "en") -> str:
    """'pass' / 'fail' / 'not evaluated' of a `comparison_row` ('–' without an indicator)."""
    if not row["has_core"]:
        return "–"
    if row["passed"] is None:
        return label("not_evaluated", lang)
    return label("pass" if row["passed"] else "fail", lang)


def _history(summary: dict) -> list[tuple[int, float]]:
    """(year, tCO2e) of the park's closed years in order (years may be strings after a JSON round trip)."""
    return sorted((int(y), v) for y, v in (summary.get("history_tco2e") or {}).items())


def report_model(summaries: list[dict], lang: str = "en", regime: str | None = None) -> dict:
    """Everything the report shows, in display order, from the parks' `as_dict()` summaries."""
    _check(lang)
    rows = [comparison_row(s) for s in summaries]
    years = [r["latest_year"] for r in rows if r["latest_year"] is not None]
    regimes = sorted({s["regime"] for s in summaries if s.get("regime")})
    regime = regime or (", ".join(regimes) if regimes else "ghg-protocol")
    return {
        "lang": lang,
        # read by _style.html's page footer
        "subject": label("title", lang),
        "year": max(years) if years else "–",
        "regime": {"code": regime},
        "rows": rows,
        "parks": [
            {
                "row": row,
                "summary": s,
                "history": _history(s),
            }
            for row, s in zip(rows, summaries, strict=True)
        ],
        "unverified": any(r["threshold_verified"] is False for r in rows),
        "generated": datetime.now().astimezone().isoformat(timespec="seconds"),
    }


def district_html(summaries: list[dict], lang: str = "en") -> str:
    model = report_model(summaries, lang)
    return _env.get_template("district.html").render(
        m=model,
        fmt=fmt,
        zh=lang == "zh",
        L=lambda key, **v: label(key, lang, **v),
        result=lambda row: core_result(row, lang),
        recognition=lambda kind: recognition_name(kind, lang),
        target_kind=lambda kind: target_kind_name(kind, lang),
        pollutant=lambda key: pollutant_name(key, lang),
        quadrant=lambda q: quadrant_name(q, lang),
        pollutants=POLLUTANTS,
        mark=UNVERIFIED_MARK,
    )


def district_pdf(summaries: list[dict], lang: str = "en") -> bytes:
    """The comparison report as PDF (A4 landscape), rendered from HTML by WeasyPrint."""
    from weasyprint import HTML

    return HTML(string=district_html(summaries, lang)).write_pdf()


def district_xlsx(summaries: list[dict], lang: str = "en") -> bytes:
    """The comparison as an Excel workbook: sheets "parks" (side by side), "history" and "targets".

    Figures are the summaries' own floats, unrounded (a display format only); headers carry their units.
    """
    from openpyxl import Workbook

    _check(lang)
    rows = [comparison_row(s) for s in summaries]
    kinds = sorted({k for r in rows for k in r["recognitions"]})
    wb = Workbook()

    def L(key: str, **values: str) -> str:  # noqa: N802 - the template's name for the labels
        return label(key, lang, **values)

    def sheet(title: str, header: list[str], body: list[list], first: bool = False) -> None:
        add_sheet(wb, title, header, body, first=first, freeze="B2")

    def yes_no(value: bool | None) -> str | None:
        return None if value is None else L("yes" if value else "no")

    def co(r: dict, key: str):
        control = r["pollutants"].get("co_control") or {}
        return control.get(key)

    header = [
        L("park"), L("name"), L("regime"), L("latest_year"), L("total_tco2e"), L("energy_tce"),
        L("tco2e_per_10k_cny"), L("core_year"), L("core_energy_tco2"), L("core_energy_use_tce"), L("core_value"),
        L("size_class"), L("threshold"), L("threshold_verified"), L("core_result"),
        L("targets_on_track"), L("targets_off_track"), L("targets_met"), L("targets_missed"),
        L("targets_not_judged"), *(L("recognition_of", kind=recognition_name(k, lang)) for k in kinds),
        L("pollutant_year"), *(L(p) for p in POLLUTANTS), L("not_counted"), L("co_quadrant"), L("co_elasticity"),
    ]  # fmt: skip
    body = [
        [
            r["park"],
            s["name"],
            s["regime"],
            r["latest_year"],
            r["total_tco2e"],
            r["energy_tce"],
            r["tco2e_per_10k_cny"],
            r["core_year"],
            r["core_energy_tco2"],
            r["core_energy_use_tce"],
            r["core_value"],
            r["size_class"],
            r["threshold"],
            yes_no(r["threshold_verified"]),
            core_result(r, lang) if r["has_core"] else None,
            r["targets"][ON_TRACK],
            r["targets"][OFF_TRACK],
            r["targets"]["met"],
            r["targets"]["missed"],
            r["targets"]["not judged"],
            *(r["recognitions"].get(k, 0) for k in kinds),
            r["pollutants"].get("year"),
            *(r["pollutants"].get(p) for p in POLLUTANTS),
            "; ".join(r["pollutants"].get("not_counted") or []) or None,
            quadrant_name(co(r, "quadrant"), lang),
            co(r, "elasticity"),
        ]
        for r, s in zip(rows, summaries, strict=True)
    ]
    sheet("parks", header, body, first=True)
    sheet(
        "history",
        [L("park"), L("year"), L("total_tco2e")],
        [[s["park"], y, v] for s in summaries for y, v in _history(s)],
    )
    sheet(
        "targets",
        [L("park"), L("code"), L("kind"), L("target_year"), L("status"), L("explanation"), L("measure")],
        [
            [
                s["park"],
                t["code"],
                target_kind_name(t["kind"], lang),
                t["target_year"],
                L(t["status"]),
                t["explanation"],
                t["measure"],
            ]
            for s in summaries
            for t in s.get("targets", [])
        ],
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


__all__ = [
    "LANGS",
    "comparison_row",
    "core_result",
    "district_html",
    "district_pdf",
    "district_xlsx",
    "label",
    "pollutant_name",
    "quadrant_name",
    "recognition_name",
    "report_model",
    "target_kind_name",
]

"""The carbon label of a published footprint: what it says is the stored footprint and its review trail, the QR
code it carries encodes exactly the URL given, and only a published footprint of one's own gets one."""

from __future__ import annotations

import base64
import io
import re
from zoneinfo import ZoneInfo

import pytest
from PIL import Image
from pypdf import PdfReader

from parkzero.errors import Conflict, NotFound, ValidationFailed
from parkzero.footprint import records
from parkzero.reports import label
from parkzero.reports.label import carbon_label_html, carbon_label_pdf, qr_matrix, qr_png, significant
from tests.cli.test_footprint_cli import _coil
from tests.conftest import enterprise_scope
from tests.footprint.test_records import verifier

MM_PT = 72 / 25.4


def publish(park, value: float) -> dict:
    steel = enterprise_scope(park, "steel")
    rec = records.create(park, steel, "p1", _coil(value), product_code="coil")
    records.transition(park, steel, "p1", rec["id"], "submit")
    records.transition(park, verifier(park), "p1", rec["id"], "verify", "evidence checked")
    return records.transition(park, steel, "p1", rec["id"], "publish")


def url_of(rec: dict) -> str:
    return f"https://pz.example.com/2/footprints/{rec['pf_id']}"


def pdf_text(data: bytes) -> str:
    """The text of the PDF with no whitespace at all (pypdf drops or adds spaces between runs of other sizes)."""
    return "".join("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages).split())


def flat(text: str) -> str:
    return "".join(text.split())


def modules(image: Image.Image, size: int) -> tuple[tuple[bool, ...], ...]:
    """The QR modules read off a picture of a `size` x `size` symbol with its 4-module quiet zone: the colour at
    the centre of each module; the quiet zone must be light all round."""
    grey = image.convert("L")
    width, height = grey.size
    assert width == height, "the QR picture is square"
    total = size + 2 * label.QR_BORDER_MODULES
    px = width / total

    def dark(row: int, col: int) -> bool:
        return grey.getpixel((int((col + 0.5) * px), int((row + 0.5) * px))) < 128

    for i in range(total):
        for j in range(label.QR_BORDER_MODULES):
            assert not (dark(i, j) or dark(j, i) or dark(i, total - 1 - j) or dark(total - 1 - j, i)), "quiet zone"
    b = label.QR_BORDER_MODULES
    return tuple(tuple(dark(b + r, b + c) for c in range(size)) for r in range(size))


def test_label_shows_the_stored_footprint_in_english(park):
    rec = publish(park, 1.85)
    steel = enterprise_scope(park, "steel")
    stored = records.get(park, steel, "p1", rec["id"])
    assert stored["pcf_kgco2e"] == 1.85 and stored["declared_unit"] == "kilogram"  # 1.85 kgCO2e/kg as stored
    data = carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url_of(rec), lang="en")
    reader = PdfReader(io.BytesIO(data))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width) / MM_PT), round(float(box.height) / MM_PT)) == (100, 150)
    text = pdf_text(data)
    doc = stored["document"]
    for shown in (
        "Product Carbon Footprint",
        doc["productNameCompany"],
        doc["productDescription"],
        doc["companyName"],
        f"{stored['pcf_kgco2e']:.3g} kg CO₂e per kilogram",  # 3 significant digits of 1.85 = "1.85"
        "Declared unit 1 kilogram",
        "Reference period 2025-01-01 – 2025-12-31",  # referencePeriodEnd 2026-01-01 is exclusive
        "Geography CN",
        "Method ISO 14067; GHG Protocol Product Standard",  # crossSectoralStandards ISO14067, GHGP Product
        "IPCC AR6 GWP100",
        "System boundary cradle-to-gate",
        f"Primary data share {doc['pcf']['primaryDataShare']:.1f} %",
        stored["pf_id"],
        url_of(rec),
    ):
        assert flat(shown) in text, shown
    trail = records.events(park, steel, "p1", rec["id"])
    (verify,) = [e for e in trail if e["action"] == "verify"]
    assert verify["actor"] == "verifier-1"
    tz = ZoneInfo("Asia/Shanghai")
    verified_on = verify["logged_at"].astimezone(tz).date().isoformat()
    published_on = stored["published_at"].astimezone(tz).date().isoformat()
    assert flat(f"Verified by verifier-1 · {verified_on}") in text
    assert flat(f"Published {published_on}") in text
    assert "DEPRECATED" not in text


def test_label_in_chinese(park):
    rec = publish(park, 1.85)
    steel = enterprise_scope(park, "steel")
    text = pdf_text(carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url_of(rec), lang="zh"))
    for shown in (
        "产品碳足迹标识",
        "Hot-rolled coil",
        "生产企业：Steel Processing Co.",
        "1.85 kg CO₂e 每千克",
        "声明单位 1 千克 (kilogram)",
        "基准期 2025-01-01 – 2025-12-31",
        "核算方法 ISO 14067; GHG Protocol Product Standard",
        "特征化因子 IPCC AR6 GWP100",
        "系统边界 从摇篮到大门（cradle-to-gate）",
        "初级数据占比 55.0 %",
        "核查方 verifier-1",
        "碳足迹编号" + rec["pf_id"],
    ):
        assert flat(shown) in text, shown


def test_large_values_are_in_tonnes_to_three_significant_digits(park):
    rec = publish(park, 2154.3)  # kgCO2e per kilogram, as stored: 2154.3 / 1000 = 2.1543 t -> "2.15"
    steel = enterprise_scope(park, "steel")
    assert records.get(park, steel, "p1", rec["id"])["pcf_kgco2e"] == 2154.3
    text = pdf_text(carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url_of(rec), lang="en"))
    assert flat("2.15 t CO₂e per kilogram") in text and flat("= 2,150 kg CO₂e") in text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1.85, "1.85"), (1.854, "1.85"), (1.855, "1.86"), (12, "12.0"), (0.012345, "0.0123"), (9.996, "10.0"),
     (999.6, "1,000"), (1234.5, "1,230"), (0, "0")],
)  # fmt: skip
def test_three_significant_digits(value, text):
    assert significant(value) == text


def test_qr_code_in_the_pdf_encodes_exactly_the_url(park):
    rec = publish(park, 1.85)
    steel = enterprise_scope(park, "steel")
    url = url_of(rec)
    data = carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url, lang="zh")
    (embedded,) = PdfReader(io.BytesIO(data)).pages[0].images  # the QR code is the one picture of the label
    image = embedded.image
    matrix = qr_matrix(url)
    assert image.size[0] == (len(matrix) + 2 * label.QR_BORDER_MODULES) * label.QR_SCALE_PX
    assert modules(image, len(matrix)) == matrix
    assert qr_matrix(url + "x") != matrix  # the comparison tells URLs apart
    import zxingcpp  # an independent decoder (the test extra installs it)

    (decoded,) = zxingcpp.read_barcodes(image)
    assert decoded.format == zxingcpp.BarcodeFormat.QRCode and decoded.text == url


def test_qr_code_in_the_html_is_the_rendering_of_the_matrix(park):
    rec = publish(park, 1.85)
    steel = enterprise_scope(park, "steel")
    url = "https://pz.example.com/footprints/label?id=" + rec["pf_id"] + "&lang=zh"
    html = carbon_label_html(park, steel, "p1", rec["id"], footprint_url=url, lang="zh")
    (uri,) = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', html)
    png = base64.b64decode(uri)
    assert png == qr_png(url)
    image = Image.open(io.BytesIO(png))
    matrix = qr_matrix(url)
    assert modules(image, len(matrix)) == matrix
    assert "https://pz.example.com/footprints/label?id=" + rec["pf_id"] + "&amp;lang=zh" in html  # printed too


def test_only_a_published_footprint_gets_a_label(park):
    steel = enterprise_scope(park, "steel")
    rec = records.create(park, steel, "p1", _coil(1.85))
    url = url_of(rec)
    for action, who in ((None, None), ("submit", steel), ("verify", verifier(park))):
        if action:
            records.transition(park, who, "p1", rec["id"], action)
        with pytest.raises(Conflict, match="verified and published first"):
            carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url)
    records.transition(park, steel, "p1", rec["id"], "publish")
    assert carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url).startswith(b"%PDF")


def test_a_tenant_cannot_label_another_tenants_footprint(park):
    rec = publish(park, 1.85)
    office = enterprise_scope(park, "office")
    with pytest.raises(NotFound):
        carbon_label_pdf(park, office, "p1", rec["id"], footprint_url=url_of(rec))


def test_bad_language_or_url_is_refused(park):
    rec = publish(park, 1.85)
    steel = enterprise_scope(park, "steel")
    with pytest.raises(ValidationFailed, match="language"):
        carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=url_of(rec), lang="fr")
    for bad in ("", "/2/footprints/x", "ftp://host/x", "https://host/a b", "https://h/" + "x" * 1000):
        with pytest.raises(ValidationFailed, match="absolute http"):
            carbon_label_pdf(park, steel, "p1", rec["id"], footprint_url=bad)


def test_a_deprecated_footprint_is_marked_and_names_its_successor(park):
    steel = enterprise_scope(park, "steel")
    old = publish(park, 1.85)
    new = records.new_version(park, steel, "p1", old["id"], _coil(1.70))
    for action, who in (("submit", steel), ("verify", verifier(park)), ("publish", steel)):
        records.transition(park, who, "p1", new["id"], action)
    assert records.get(park, steel, "p1", old["id"])["pact_status"] == "Deprecated"
    for lang, successor in (("en", "Superseded by footprint"), ("zh", "已由以下碳足迹取代：")):
        text = pdf_text(carbon_label_pdf(park, steel, "p1", old["id"], footprint_url=url_of(old), lang=lang))
        assert flat("DEPRECATED / 已废止") in text and flat(successor + new["pf_id"]) in text
        assert "1.85kgCO₂e" in text  # its figure is the one it was published with
        current = pdf_text(carbon_label_pdf(park, steel, "p1", new["id"], footprint_url=url_of(new), lang=lang))
        assert "DEPRECATED" not in current and "1.70kgCO₂e" in current  # 1.70 kgCO2e/kg, 3 significant digits

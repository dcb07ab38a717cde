"""What every report formats the same way: figures shown in PDFs, and sheets of Excel workbooks."""

from __future__ import annotations

NUMBER_FORMAT = "#,##0.000"  # Excel display of floats; the cell keeps the full value


def fmt(value, digits: int = 2) -> str:
    """A figure for display: thousands separators and `digits` decimals; '–' for no value."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def add_sheet(wb, title: str, header: list[str], body: list[list], *, first: bool = False, freeze: str | None = None):
    """A sheet of `wb` (the workbook's first when `first`): a bold header, the rows, floats shown with
    `NUMBER_FORMAT`, columns as wide as their text (12 to 60), panes frozen at `freeze` (e.g. "B2")."""
    from openpyxl.styles import Font

    ws = wb.active if first else wb.create_sheet()
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for line in body:
        ws.append(line)
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            if isinstance(cell.value, float):
                cell.number_format = NUMBER_FORMAT
    for col in ws.columns:
        ws.column_dimensions[col[0].column_letter].width = min(60, max(12, *(len(str(c.value or "")) for c in col)))
    if freeze:
        ws.freeze_panes = freeze
    return ws

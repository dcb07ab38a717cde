"""Reports: the same numbers as the API, as PDF (HTML rendered by WeasyPrint) and Excel (openpyxl)."""

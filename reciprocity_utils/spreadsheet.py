"""CSV files that are safe to open in a spreadsheet.

Spreadsheets run a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and some also
after a leading tab or carriage return), so an account handle such as ``=cmd|' /C calc'!A0``
written verbatim into a CSV becomes code when the owner opens the file. Following the OWASP
rule, such text cells get a leading apostrophe, which spreadsheets show as plain text. Only
text is touched: numbers (negative ones included) keep their value.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .paths import open_for_writing

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def defuse_formula(value: object) -> object:
    """``value`` with a leading apostrophe when it is text a spreadsheet would run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def spreadsheet_safe(table: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``table`` whose text cells (and column names) cannot start a formula."""
    safe = table.copy()
    for column in safe.columns:
        if not (pd.api.types.is_numeric_dtype(safe[column]) or pd.api.types.is_bool_dtype(safe[column])):
            safe[column] = safe[column].map(defuse_formula, na_action="ignore")
    safe.columns = [defuse_formula(str(name)) for name in safe.columns]
    return safe


def write_safe_csv(table: pd.DataFrame, path: str | Path) -> Path:
    """Write ``table`` as CSV with formula-like text cells quoted, owner-only (0600)."""
    path = Path(path)
    with open_for_writing(path, private=True) as handle:
        spreadsheet_safe(table).to_csv(handle, index=False, lineterminator="\r\n")  # RFC 4180: a lone CR in a cell is quoted too
    return path

"""Account ids as integer codes: the first step of every whole-network computation.

Every id column of a dataset (followers, followees, actors, targets) is turned into positions in
the accounts table once, by hash lookups. Ids are text: ``"007"``, ``"0x7"`` and ``"7"`` are three
accounts, and 19-digit ids stay exact (never floats).

Platform ids are mostly plain decimal numbers (X, Instagram, Mastodon). When every account id is
written canonically -- ASCII digits, no leading zero -- text and number are one-to-one, so a column
of such values is parsed to int64 and looked up in an integer hash table: twice as fast as hashing
the text on 15 million ids (``benchmarks/bench_dyads.py``). Anything else (handles, DIDs, a single
``"0x10"`` or ``"007"``) takes the text lookup, so a non-canonical value never matches an account
by its numeric value (see :func:`_may_match_canonical_numbers`). Several columns are coded in two threads (Arrow and
pandas release the GIL in these loops).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def arrow_strings(values: pd.Series) -> pa.ChunkedArray | pa.Array:
    """The column as Arrow strings, without copying when it already is one."""
    array = values.array
    if hasattr(array, "__arrow_array__"):
        arrow = array.__arrow_array__()
        if pa.types.is_string(arrow.type) or pa.types.is_large_string(arrow.type):
            return arrow
    return pa.array(values.astype("string").to_numpy(dtype=object, na_value=None), type=pa.string())


def _canonical_numbers(ids: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    """The account ids as int64 when every one is ASCII digits without a leading zero, else None.

    Then text and number are one-to-one, and ``"0"`` is not among them.
    """
    if len(ids) == 0 or ids.null_count:
        return None
    if not pc.all(pc.ascii_is_decimal(ids)).as_py() or pc.any(pc.starts_with(ids, "0")).as_py():
        return None
    return _parsed(ids)


def _parsed(values: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
    try:
        return pc.cast(values, pa.int64(), safe=True).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:  # not a number, or beyond int64
        return None


def _may_match_canonical_numbers(values: pa.ChunkedArray | pa.Array) -> bool:
    """Whether the values can be looked up as int64 among canonical account numbers.

    Arrow parses a few texts that are not canonical: leading zeros (``"007"``), hexadecimal
    (``"0x10"``), and a minus sign. The first two start with ``"0"`` and are sent to the text
    lookup; a negative number, or ``"-0"``, cannot equal a canonical id (positive), so it stays
    unmatched. Everything else Arrow refuses (``"+7"``, spaces, other digits), which also means the
    text lookup (see :meth:`AccountCodes.of`). Cheaper than checking every value's characters first.
    """
    return not values.null_count and not pc.any(pc.starts_with(values, "0")).as_py()


# Values parsed and looked up per slice: 8 MiB temporaries, which the allocator recycles, where
# whole-column ones would be fresh memory every time (costly on machines that back memory lazily).
_SLICE = 1 << 20


class AccountCodes:
    """Integer positions of account ids in an accounts table (position = code)."""

    def __init__(self, account_ids: pd.Series):
        self.ids = account_ids.astype("string").reset_index(drop=True)
        self.n = len(self.ids)
        if self.ids.isna().any():
            raise ValueError(f"accounts table: account_id is empty in row {int(np.flatnonzero(self.ids.isna())[0]) + 1}")
        repeated = self.ids.duplicated()
        if repeated.any():
            row = int(np.flatnonzero(repeated)[0])
            raise ValueError(
                f"accounts table: account_id {self.ids.iloc[row]!r} in row {row + 1} repeats an earlier row "
                f"({int(repeated.sum()):,} repeats in all); account ids must be unique (build_dataset removes repeats)"
            )
        arrow_ids = arrow_strings(self.ids)
        self._arrow_ids = arrow_ids.combine_chunks() if isinstance(arrow_ids, pa.ChunkedArray) else arrow_ids
        self.dtype = np.int32 if self.n < np.iinfo(np.int32).max else np.int64
        numbers = _canonical_numbers(self._arrow_ids)
        self._numbers = None if numbers is None else pd.Index(numbers)
        if self._numbers is not None:
            # Build the hash table now, once, so that lookups from two threads only read it.
            self._numbers.get_indexer(numbers[:1])

    def index(self) -> pd.Index:
        """The account ids as a pandas Index (for looking up single ids)."""
        return pd.Index(self.ids.array)

    def of(self, values: pd.Series, what: str) -> np.ndarray:
        """The code of each value (int32 below 2**31 accounts); an id not in the table is an error naming its row."""
        if len(values) == 0:
            return np.empty(0, dtype=self.dtype)
        arrow_values = arrow_strings(values)
        if arrow_values.type != self._arrow_ids.type:
            arrow_values = arrow_values.cast(self._arrow_ids.type)
        codes = None
        if self._numbers is not None and _may_match_canonical_numbers(arrow_values):
            codes = self._numeric_codes(arrow_values)
        if codes is None:
            found = pc.index_in(arrow_values, value_set=self._arrow_ids)
            codes = found.fill_null(-1).to_numpy().astype(self.dtype, copy=False)
        unknown = codes < 0
        missing = int(unknown.sum())
        if missing:
            first = int(np.flatnonzero(unknown)[0])
            raise ValueError(
                f"{what}, row {first + 1}: account id {values.iloc[first]!r} is not in the accounts table "
                f"({missing:,} such rows in all); build the dataset with build_dataset, which adds or removes them"
            )
        return codes

    def _numeric_codes(self, values: pa.ChunkedArray | pa.Array) -> np.ndarray | None:
        """Codes by int64 lookup, slice by slice (-1: not an account); None when a value does not parse."""
        codes = np.empty(len(values), dtype=self.dtype)
        for first in range(0, len(values), _SLICE):
            numbers = _parsed(values.slice(first, _SLICE))
            if numbers is None:
                return None
            codes[first:first + len(numbers)] = self._numbers.get_indexer(numbers)
        return codes

    def of_columns(self, columns: Sequence[tuple[pd.Series, str]]) -> list[np.ndarray]:
        """:meth:`of` for several ``(values, what)`` columns, two at a time."""
        if len(columns) < 2:
            return [self.of(values, what) for values, what in columns]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda item: self.of(*item), columns))

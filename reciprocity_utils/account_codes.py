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
            codes[first : first + len(numbers)] = self._numbers.get_indexer(numbers)
        return codes

    def of_columns(self, columns: Sequence[tuple[pd.Series, str]]) -> list[np.ndarray]:
        """:meth:`of` for several ``(values, what)`` columns, two at a time."""
        if len(columns) < 2:
            return [self.of(values, what) for values, what in columns]
        with ThreadPoolExecutor(max_workers=2) as pool:
            return list(pool.map(lambda item: self.of(*item), columns))


# ---------------------------------------------------------------------------------------------
# Arcs as integer pairs: which follows are returned (shared by the dataset's counts, the
# measures of study 02 and the dyad table of study 03)

# Pair keys (min*N + max)*2 + 1 must fit in a signed 64-bit integer.
MAX_ACCOUNTS = 2**31 - 1


def _pair_keys(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> np.ndarray:
    """One 64-bit key per arc: the unordered pair (min*N + max) times two, plus 1 when the arc points downward."""
    follower = np.asarray(follower, dtype=np.int64)
    followee = np.asarray(followee, dtype=np.int64)
    if follower.shape != followee.shape or follower.ndim != 1:
        raise ValueError(
            f"follower and followee codes must be one-dimensional and equally long, got shapes {follower.shape} and {followee.shape}"
        )
    if not 0 <= n_accounts <= MAX_ACCOUNTS:
        raise ValueError(f"n_accounts must be between 0 and {MAX_ACCOUNTS:,}, got {n_accounts!r}")
    if len(follower) == 0:
        return np.empty(0, dtype=np.int64)
    lowest = min(follower.min(), followee.min())
    highest = max(follower.max(), followee.max())
    if lowest < 0 or highest >= n_accounts:
        raise ValueError(f"account codes must lie in [0, {n_accounts}), found values from {lowest} to {highest}")
    loops = np.flatnonzero(follower == followee)
    if len(loops):
        raise ValueError(
            f"arc {loops[0]} is a self-loop (account code {follower[loops[0]]}); {len(loops):,} in all. Remove self-follows first"
        )
    # In place, one array: each temporary of 10M follows costs its page faults.
    keys = np.minimum(follower, followee)
    keys *= n_accounts
    keys += np.maximum(follower, followee)
    keys <<= 1
    keys += follower > followee
    return keys


def _refuse_repeated_arcs(sorted_keys: np.ndarray, n_accounts: int) -> None:
    repeated = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
    if len(repeated):
        key = sorted_keys[repeated[0]]
        low, high = divmod(int(key >> 1), n_accounts)
        source, target = (high, low) if key & 1 else (low, high)
        raise ValueError(
            f"follow arcs must be distinct: arc {source}->{target} (account codes) appears more than once ({len(repeated):,} repeats)"
        )


def reverse_arcs(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> np.ndarray:
    """For each arc, the position of its reverse arc, or -1 when the follow is not returned."""
    keys = _pair_keys(follower, followee, n_accounts)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    _refuse_repeated_arcs(sorted_keys, n_accounts)
    pairs = sorted_keys >> 1
    first = np.flatnonzero(pairs[1:] == pairs[:-1])
    reverse = np.full(len(keys), -1, dtype=np.int64)
    reverse[order[first]] = order[first + 1]
    reverse[order[first + 1]] = order[first]
    return reverse


def count_returned_arcs(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> int:
    """How many arcs have their reverse among the arcs (twice the mutual pairs); arcs must be distinct."""
    keys = _pair_keys(follower, followee, n_accounts)
    keys.sort()
    _refuse_repeated_arcs(keys, n_accounts)
    pairs = keys >> 1
    return 2 * int(np.count_nonzero(pairs[1:] == pairs[:-1]))

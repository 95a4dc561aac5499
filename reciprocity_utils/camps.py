"""The "two camps" question of study 02: do accounts split into those that follow back nearly all
of their followers and those that follow back nearly none?

This module sits beside :mod:`.metrics` (which re-exports its public names) and imports nothing
from the package: the per-account table it reads comes from ``metrics.account_behaviour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from .metrics import AccountBehaviour

__all__ = ["ALL_ACCOUNTS", "TwoCamps", "camps_in_words", "two_camps"]

ALL_ACCOUNTS = "all accounts"
HIGH_FOLLOW_BACK = 0.8  # Weng et al. (2010): 72.4% of users follow back more than 80% of their followers
LOW_FOLLOW_BACK = 0.2
MIN_DIP_TEST_ACCOUNTS = 4  # the dip test is not defined for 3 values or fewer


@dataclass(frozen=True)
class TwoCamps:
    """Shares of accounts following back nearly all / nearly none of their followers, and a dip test.

    ``table`` has one row for all eligible accounts and one per ``kind`` label: accounts,
    share above ``high``, share below ``low``, share between, median follow-back rate, Hartigan's
    dip statistic and its p-value (small p: the rates are not unimodal).
    """

    table: pd.DataFrame
    min_followers: int
    high: float
    low: float
    kind_test_p: float
    notes: tuple[str, ...] = ()

    def readable(self) -> pd.DataFrame:
        """The table with column names a reader understands."""
        return self.table.rename(columns={
            "share_above": f"follow back > {self.high:.0%}",
            "share_between": f"{self.low:.0%}–{self.high:.0%}",
            "share_below": f"follow back < {self.low:.0%}",
            "median_follow_back_rate": "median rate",
            "dip": "dip statistic",
            "dip_p_value": "dip test p",
        })

    def overall(self) -> dict[str, Any]:
        rows = self.table[self.table["group"] == ALL_ACCOUNTS]
        if rows.empty:
            return {"accounts": 0, "share_above": np.nan, "share_below": np.nan, "dip_p_value": np.nan}
        return rows.iloc[0].to_dict()


def _camp_row(group: str, rates: np.ndarray, high: float, low: float) -> dict[str, Any]:
    import diptest

    n = len(rates)
    dip, dip_p = (np.nan, np.nan)
    if n >= MIN_DIP_TEST_ACCOUNTS:
        # p-value by interpolation of Hartigan's tabulated critical values: deterministic.
        dip, dip_p = diptest.diptest(np.sort(rates), sort_x=False)
    return {
        "group": group,
        "accounts": n,
        "share_above": float((rates > high).mean()) if n else np.nan,
        "share_between": float(((rates >= low) & (rates <= high)).mean()) if n else np.nan,
        "share_below": float((rates < low).mean()) if n else np.nan,
        "median_follow_back_rate": float(np.median(rates)) if n else np.nan,
        "dip": float(dip),
        "dip_p_value": float(dip_p),
    }


def two_camps(behaviour: AccountBehaviour, min_followers: int = 5, high: float = HIGH_FOLLOW_BACK, low: float = LOW_FOLLOW_BACK) -> TwoCamps:
    """Test "accounts either follow back nearly everybody or nearly nobody" on accounts with enough followers."""
    from scipy import stats

    columns = ["group", "accounts", "share_above", "share_between", "share_below", "median_follow_back_rate", "dip", "dip_p_value"]
    notes = []
    table = behaviour.table
    if not behaviour.observable or behaviour.owner_only or len(table) < 2:
        reason = "it needs the followers of many accounts" if behaviour.owner_only or behaviour.observable else "mutual follows are not observable"
        return TwoCamps(pd.DataFrame(columns=columns), min_followers, high, low, float("nan"), (f"The two-camps test is not computed: {reason}.",))
    eligible = table[table["followers"] >= min_followers]
    notes.append(f"{len(eligible):,} of {len(table):,} accounts have at least {min_followers} followers and enter the test; "
                 "fewer followers make the rate too coarse (1 of 2 is already 50%).")
    rows = [_camp_row(ALL_ACCOUNTS, eligible["follow_back_rate"].to_numpy(float), high, low)]
    kinds = eligible.dropna(subset=["kind"]).groupby("kind", sort=True)["follow_back_rate"]
    groups = {kind: rates.to_numpy(float) for kind, rates in kinds}  # one entry per kind label: a handful
    rows += [_camp_row(str(kind), rates, high, low) for kind, rates in groups.items()]
    kind_p = float("nan")
    comparable = [rates for rates in groups.values() if len(rates) >= 2]
    if len(comparable) >= 2 and np.ptp(np.concatenate(comparable)) > 0:
        kind_p = float(stats.kruskal(*comparable).pvalue)
    if not groups:
        notes.append("No account carries a kind label (brand, person, ...), so kinds are not compared.")
    if rows[0]["accounts"] < MIN_DIP_TEST_ACCOUNTS:
        notes.append(f"Fewer than {MIN_DIP_TEST_ACCOUNTS} accounts qualify: the dip test is not computed.")
    return TwoCamps(pd.DataFrame(rows, columns=columns), min_followers, high, low, kind_p, tuple(notes))


# ---------------------------------------------------------------------------------------------
# In words


def _percent(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "undefined"


def camps_in_words(camps: TwoCamps) -> str:
    """The shares at both ends, the dip test and the kinds, in words; empty when nothing was measured."""
    overall = camps.overall()
    if not overall["accounts"]:
        return ""
    text = (f"Of {overall['accounts']:,} accounts with at least {camps.min_followers} followers, {_percent(overall['share_above'])} follow "
            f"back more than {camps.high:.0%} of their followers and {_percent(overall['share_below'])} fewer than {camps.low:.0%} "
            f"(Weng et al. 2010 found 72.4% above 80% on Twitter).")
    if np.isfinite(overall["dip_p_value"]):
        verdict = "rejects" if overall["dip_p_value"] < 0.05 else "does not reject"
        text += f" Hartigan's dip test {verdict} a single-peaked distribution of follow-back rates (p = {overall['dip_p_value']:.3g})."
    kinds = camps.table[camps.table["group"] != ALL_ACCOUNTS]
    if len(kinds):
        text += " By kind: " + "; ".join(f"{g}: {_percent(a)} above, {_percent(b)} below ({n:,} accounts)"
                                         for g, a, b, n in zip(kinds["group"], kinds["share_above"], kinds["share_below"], kinds["accounts"])) + "."
        if np.isfinite(camps.kind_test_p):
            text += f" Kruskal–Wallis test of equal follow-back rates across kinds: p = {camps.kind_test_p:.3g}."
    return text

"""Tables and sentences for notebook 04, computed from the runs."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..wording import percent
from .policies import Policy
from .replay import ReplayResult
from .scenarios import Scenario
from .simulator import SimulationResult, interval, paired_difference, summary_table

# ---------------------------------------------------------------------------------------------
# Tables and sentences for the notebook


def policy_table(policies: list[Policy]) -> pd.DataFrame:
    """One row per policy: its name and what it does, in words."""
    return pd.DataFrame({"policy": [p.name for p in policies], "what it does": [p.describe() for p in policies]})


SCENARIO_FIELDS = {
    "n_initial_followers": "followers on day 0",
    "n_new_followers": "new followers over the horizon",
    "attention_budget": "posts the owner can read per day",
    "churn_hazard": "daily chance a follower not followed back leaves",
    "mutual_rate_ratio": "engagement multiplier while both follow each other",
    "spam_share": "share of followers that are spam",
    "post_rate_median": "posts per day of the median account",
    "owner_engagement_per_read": "owner's engagement per post read (x affinity)",
    "follower_engagement_rate": "a follower's engagement per day with the owner (x affinity)",
    "reciprocation_boost": "extra engagement from an account the owner engaged lately",
    "owner_reply_probability": "chance the owner answers an account that engaged it",
    "relationship_window_days": "days within which engagement counts as two-way",
    "reach_weight": "utility of one follower",
    "signal_weight": "utility of one post a day read from a two-way account",
    "noise_weight": "cost of one post a day read from anyone else",
    "list_cost": "attention a reading list takes (posts' worth per day)",
}


def scenario_table(scenarios: dict[str, Scenario]) -> pd.DataFrame:
    """The main parameters of each scenario side by side, with what each means."""
    rows = [
        {"parameter": name, "meaning": meaning, **{key: getattr(s, name) for key, s in scenarios.items()}}
        for name, meaning in SCENARIO_FIELDS.items()
    ]
    return pd.DataFrame(rows)


def interval_table(results: dict[str, SimulationResult], measures: tuple[str, ...], digits: int = 3) -> pd.DataFrame:
    """Policies by horizon measures, each cell ``mean (low to high)`` with the 95% interval of the mean."""
    frame = summary_table(results, measures)

    def number(value: float) -> str:
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.1f}" if abs(value) >= 10 else f"{value:.{digits}f}".rstrip("0").rstrip(".") if value else "0"

    def cell(row: pd.Series) -> str:
        if math.isnan(row["ci_low"]) or number(row["ci_low"]) == number(row["ci_high"]):
            return number(row["mean"])
        return f"{number(row['mean'])} ({number(row['ci_low'])} to {number(row['ci_high'])})"

    frame = frame.assign(text=frame.apply(cell, axis=1))  # one row per policy and measure (tens)
    wide = frame.pivot(index="policy", columns="measure", values="text").reindex(index=list(results), columns=list(measures))
    wide.columns.name = None
    return wide.reset_index()


def winner(results: dict[str, SimulationResult]) -> tuple[str, dict[str, float]]:
    """The policy with the highest mean utility and the paired interval of its lead over the runner-up."""
    means = {name: float(r.horizon["utility"].mean()) for name, r in results.items()}
    ranked = sorted(means, key=means.get, reverse=True)
    lead = paired_difference(results, "utility", ranked[0], ranked[1]) if len(ranked) > 1 else interval(np.zeros(1))
    return ranked[0], lead


def win_shares(results: dict[str, SimulationResult]) -> dict[str, float]:
    """The share of replications in which each policy has the highest utility (runs are paired across policies)."""
    names = list(results)
    utilities = np.vstack([results[name].horizon["utility"] for name in names])
    best = utilities.argmax(axis=0)
    return {name: float((best == i).mean()) for i, name in enumerate(names)}


def win_share_table(results: dict[str, dict[str, SimulationResult]]) -> pd.DataFrame:
    """One row per policy, one column per scenario: the share of runs it wins."""
    shares = {
        f"share of {scenario} runs won": {name: percent(share) for name, share in win_shares(by_policy).items()}
        for scenario, by_policy in results.items()
    }
    return pd.DataFrame(shares).rename_axis("policy").reset_index()


def weights_sentence(scenarios: dict[str, Scenario]) -> str:
    """The utility weights of each scenario in words."""
    parts = [
        f"for the {name}, one follower is worth {s.reach_weight:g}, one post a day read from a two-way account "
        f"{s.signal_weight:g}, and one other post a day costs {s.noise_weight:g}"
        for name, s in scenarios.items()
    ]
    return "Utility weights: " + "; ".join(parts) + "."


def map_sentence(winners: pd.DataFrame, policy: str, contest: str, weighting: str) -> str:
    """How much of the sensitivity map one policy wins, and at which budgets."""
    won = winners[winners["winner"] == policy]
    cells = len(winners)
    if won.empty:
        return f"{contest.capitalize()}, valued as a {weighting}: '{policy}' wins none of the {cells} cells of the map."
    budgets = ", ".join(f"{b:,.0f}" for b in sorted(won["attention_budget"].unique()))
    hazards = ", ".join(f"{h:.4f}" for h in sorted(won["churn_hazard"].unique()))
    clear = int(won["clear"].sum())
    return (
        f"{contest.capitalize()}, valued as a {weighting}: '{policy}' wins {len(won)} of the {cells} cells "
        f"({clear} clearly), at attention budgets of {budgets} posts a day and churn hazards of {hazards} per day."
    )


def replay_sentence(replay: ReplayResult, choosy: str, everyone: str = "follow everyone") -> str:
    """What the replay found for the choosy policy against following everyone, or why it could not."""
    table = replay.table.set_index("policy") if len(replay.table) else replay.table
    if replay.table.empty or everyone not in table.index:
        return "The replay could not score any policy on this input (see the notes above)."
    base = table.loc[everyone]
    sentence = (
        f"On the {int(base['followed']):,} real followers, following everyone reads every account the owner later "
        f"engaged with, at a precision of {base['precision']:.2f}."
    )
    if choosy in table.index and not math.isnan(table.loc[choosy, "recall"]):
        row = table.loc[choosy]
        precision = "no precision (it reads no one)" if math.isnan(row["precision"]) else f"a precision of {row['precision']:.2f}"
        sentence += f" '{choosy}' reads {int(row['read']):,} of them with {precision} and a recall of {row['recall']:.2f}."
    return sentence


def conclusion(results: dict[str, dict[str, SimulationResult]], everyone: str, choosy: str) -> str:
    """Plain sentences comparing following everyone with a choosy policy in each scenario."""
    sentences = []
    for name, by_policy in results.items():
        best, lead = winner(by_policy)
        a, b = by_policy[everyone].horizon, by_policy[choosy].horizon
        scenario = by_policy[everyone].scenario
        share = win_shares(by_policy)[best]
        sentences.append(
            f"**{name.capitalize()}** (reads {scenario.attention_budget:,.0f} posts a day): '{best}' has the highest utility "
            f"(lead over the runner-up {lead['mean']:.3g}, 95% interval {lead['ci_low']:.3g} to {lead['ci_high']:.3g}) and wins "
            f"{share:.0%} of the {by_policy[best].replications} paired runs. "
            f"Following everyone keeps {a['followers'].mean():,.0f} followers against {b['followers'].mean():,.0f} for '{choosy}', "
            f"but {100 * a['signal_share'].mean():.0f}% of what it reads is signal against {100 * b['signal_share'].mean():.0f}%."
        )
    return "\n\n".join(sentences)

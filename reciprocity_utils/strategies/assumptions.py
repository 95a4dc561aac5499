"""Which assumption moves the ranking: each one varied alone across a stated range (a tornado).

The sensitivity map varies attention budget and churn together; this varies every assumption
that carries the argument one at a time, the rest held at the scenario's values, and records
the lead of the scenario's winner over the best other policy at both ends. A lead that falls
below zero means the assumption alone changes the winner. The two numbers taken from the data
(the engagement multiplier and the churn hazard) are marked, so the page can say whether the
winner depends on the data at all or only on assumptions built into the model.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .policies import Policy, _check_whole
from .scenarios import Scenario
from .simulator import compare_policies, interval
from .wording import winner


@dataclass(frozen=True)
class Assumption:
    """One scenario field varied from ``low`` to ``high``; ``from_data`` when its value is calibrated on the data."""

    field: str
    label: str
    low: float
    high: float
    from_data: bool = False


def default_assumptions(scenario: Scenario, from_data: tuple[str, ...] = ()) -> list[Assumption]:
    """The assumptions that carry the argument, with ranges around the scenario's values.

    ``from_data``: the fields whose values were measured on the data (e.g. ``mutual_rate_ratio``
    when study 03 gave an estimate, ``churn_hazard`` when snapshots did).
    """
    ratio_high = max(scenario.rate_ratio_high or scenario.mutual_rate_ratio, scenario.mutual_rate_ratio, 2.0)
    churn = scenario.churn_hazard
    assumptions = [
        Assumption("mutual_rate_ratio", "engagement multiplier while both follow each other", 1.0, ratio_high),
        Assumption("churn_hazard", "daily churn of followers not followed back", churn / 3, min(3 * churn, 1.0)),
        Assumption("mutual_churn_hazard", "daily churn of followers followed back", 0.0, churn),
        Assumption("spam_share", "share of followers who are spam", 0.03, 0.30),
        Assumption(
            "attention_budget", "attention budget (posts read per day)", scenario.attention_budget / 4, scenario.attention_budget * 4
        ),
        Assumption("list_cost", "attention a reading list takes (posts' worth per day)", 0.0, scenario.attention_budget / 2),
        Assumption("noise_weight", "cost of reading a post from a one-way account", scenario.noise_weight / 3, scenario.noise_weight * 3),
    ]
    return [dataclasses.replace(a, from_data=a.field in from_data) for a in assumptions]


def _fixed(scenario: Scenario, field: str, value: float) -> Scenario:
    """The scenario with one field set; a fixed multiplier drops the calibration's interval."""
    changes = {field: value}
    if field == "mutual_rate_ratio":
        changes |= {"rate_ratio_low": None, "rate_ratio_high": None, "rate_ratio_from_one": False}
    return dataclasses.replace(scenario, **changes)


def assumption_sensitivity(
    policies: list[Policy], scenario: Scenario, assumptions: list[Assumption] | None = None, replications: int = 12, seed: int = 0
) -> pd.DataFrame:
    """For each assumption at its low and high end: the winner, and the lead of the scenario's winner over the best other.

    The lead is paired by replication (the same worlds and draws for every policy); its 95% interval is
    of the mean paired difference. Columns: assumption, field, from_data, end, value, winner, lead,
    lead_ci_low, lead_ci_high, winner_changes.
    """
    _check_whole("replications", replications, 2)
    base_results = compare_policies(policies, scenario, replications, seed)
    base, lead_now = winner(base_results)
    rows = []
    for assumption in assumptions if assumptions is not None else default_assumptions(scenario):
        for end, value in (("low", assumption.low), ("high", assumption.high)):
            results = compare_policies(policies, _fixed(scenario, assumption.field, value), replications, seed)
            best, _ = winner(results)
            others = np.vstack([r.horizon["utility"] for name, r in results.items() if name != base])
            lead = interval(results[base].horizon["utility"] - others[others.mean(axis=1).argmax()])
            rows.append(
                {
                    "assumption": assumption.label,
                    "field": assumption.field,
                    "from_data": assumption.from_data,
                    "end": end,
                    "value": float(value),
                    "winner": best,
                    "lead": lead["mean"],
                    "lead_ci_low": lead["ci_low"],
                    "lead_ci_high": lead["ci_high"],
                    "winner_changes": best != base,
                }
            )
    table = pd.DataFrame(rows)
    table.attrs["base_winner"] = base
    table.attrs["base_lead"] = lead_now["mean"]
    table.attrs["scenario"] = scenario.name
    return table


def assumption_sentence(table: pd.DataFrame) -> str:
    """What moves the ranking, named from the runs: the assumptions that change the winner, and whether the data's do."""
    base = table.attrs.get("base_winner", "the winner")
    swing = table.groupby("assumption", sort=False)["lead"].agg(lambda lead: lead.max() - lead.min())
    strongest = swing.idxmax()
    changed = table[table["winner_changes"]]
    measured = sorted(table.loc[table["from_data"], "assumption"].unique())
    if changed.empty:
        sentence = (
            f"No single assumption changes the winner within its range: “{base}” stays ahead at both ends of every "
            f"one. Its lead moves most with the {strongest}. "
        )
        if measured:
            return sentence + (
                f"So the winner does not depend on what was measured on these data ({', '.join(measured)}): it "
                "follows from the model's assumptions and the scenario's weights."
            )
        return sentence + (
            "None of these numbers was measured on these data, so the ranking says what the model assumes, not what these data show."
        )
    parts = [f"the {row['assumption']} at {row['value']:.3g} makes “{row['winner']}” win" for row in changed.to_dict("records")]
    data_moves = bool(changed["from_data"].any())
    return (
        f"With the {table.attrs.get('scenario', 'scenario')}'s values “{base}” wins, but "
        + "; ".join(parts)
        + f". The lead moves most with the {strongest}. "
        + (
            "The winner therefore depends on a number measured on these data."
            if data_moves
            else "None of these was measured on these data: the winner depends on assumptions, not on what was measured."
        )
    )

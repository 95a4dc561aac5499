"""Sensitivity of the ranking over attention budget and churn hazard: which policy wins in each cell."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .churn import literature_churn_hazard
from .policies import Policy, StrategyError, _check_number, _check_whole
from .scenarios import Scenario
from .simulator import _run, interval, utility

# ---------------------------------------------------------------------------------------------
# Sensitivity over attention budget x churn hazard


GRID_MEASURES = (
    "followers",
    "followers_share",
    "signal_share",
    "signal_read",
    "noise_read",
    "spam_share",
    "two_way_relationships",
    "engagement_received",
)


@dataclass
class SensitivityResult:
    """Horizon outcomes per policy, scenario cell and replication (``frame``), from one paired run."""

    frame: pd.DataFrame
    budgets: list[float]
    hazards: list[float]
    scenario: Scenario

    def winners(self, reach_weight: float, signal_weight: float, noise_weight: float, policies: list[str] | None = None) -> pd.DataFrame:
        """Per cell: the policy with the highest mean utility, the runner-up and whether the win is clear.

        A win is *clear* when the 95% interval of the paired utility difference (winner minus
        runner-up, over replications that share worlds and draws) lies above zero. ``policies``
        restricts the contest to some of the simulated policies (by name).
        """
        frame = self.frame
        if policies is not None:
            unknown = sorted(set(policies) - set(frame["policy"]))
            if unknown:
                raise StrategyError(f"policies {unknown} were not simulated; simulated: {sorted(frame['policy'].unique())}")
            frame = frame[frame["policy"].isin(policies)]
        frame = frame.assign(utility=utility(frame, reach_weight, signal_weight, noise_weight))
        # One row per cell and replication, one column per policy: replications are paired.
        wide = frame.pivot_table(index=["attention_budget", "churn_hazard", "replication"], columns="policy", values="utility", sort=False)
        rows = []
        for (budget, hazard), cell in wide.groupby(level=["attention_budget", "churn_hazard"], sort=False):  # tens of cells
            ranked = cell.mean().sort_values(ascending=False, kind="stable")
            row = {"attention_budget": budget, "churn_hazard": hazard, "winner": ranked.index[0], "winner_utility": ranked.iloc[0]}
            if len(ranked) > 1:
                summary = interval((cell[ranked.index[0]] - cell[ranked.index[1]]).to_numpy())
                row |= {
                    "runner_up": ranked.index[1],
                    "runner_up_utility": ranked.iloc[1],
                    "margin": summary["mean"],
                    "margin_ci_low": summary["ci_low"],
                    "margin_ci_high": summary["ci_high"],
                    "clear": bool(summary["ci_low"] > 0),
                }
            else:
                row |= {
                    "runner_up": None,
                    "runner_up_utility": np.nan,
                    "margin": np.nan,
                    "margin_ci_low": np.nan,
                    "margin_ci_high": np.nan,
                    "clear": True,
                }
            rows.append(row)
        return pd.DataFrame(rows)

    def cell_means(self) -> pd.DataFrame:
        """Mean horizon outcomes per cell and policy (for the scenario grid)."""
        measures = list(GRID_MEASURES)
        return self.frame.groupby(["attention_budget", "churn_hazard", "policy"], sort=False)[measures].mean().reset_index()


def sensitivity(
    policies: list[Policy], scenario: Scenario, budgets: list[float], hazards: list[float], replications: int = 8, seed: int = 0
) -> SensitivityResult:
    """Every policy in every (attention budget, churn hazard) cell, all cells simulated in one vectorised run."""
    _check_whole("replications", replications, 1)
    _check_whole("seed", seed, 0)
    budgets = [float(b) for b in budgets]
    hazards = [float(h) for h in hazards]
    if not budgets or not hazards:
        raise StrategyError("the sensitivity grid needs at least one attention budget and one churn hazard")
    for b in budgets:
        _check_number("attention budget in the grid", b, low=0.0, allow_inf=True)
    for h in hazards:
        _check_number("churn hazard in the grid", h, low=0.0, high=1.0)
    names = [p.name for p in policies]
    if len(set(names)) != len(names):
        raise StrategyError(f"policy names must be distinct: {names}")
    grid_budget, grid_hazard = (a.ravel() for a in np.meshgrid(budgets, hazards, indexing="ij"))
    frames = []
    for policy in policies:
        _, horizon = _run(policy, scenario, replications, seed, grid_budget, grid_hazard)
        cells, reps = horizon["followers"].shape
        frame = pd.DataFrame(
            {
                "policy": policy.name,
                "attention_budget": np.repeat(grid_budget, reps),
                "churn_hazard": np.repeat(grid_hazard, reps),
                "replication": np.tile(np.arange(reps), cells),
            }
        )
        for measure in GRID_MEASURES:
            frame[measure] = horizon[measure].ravel()
        frames.append(frame)
    return SensitivityResult(pd.concat(frames, ignore_index=True), budgets, hazards, scenario)


def default_grid(size: int = 5, churn_hazard: float | None = None) -> tuple[list[float], list[float]]:
    """Attention budgets from 10 to 3,000 posts a day (log-spaced) and churn hazards from 0 to 4x ``churn_hazard``.

    ``churn_hazard`` defaults to the literature value; a zero hazard spans up to 4x the literature value.
    """
    _check_whole("grid size", size, 2)
    reference = literature_churn_hazard() if not churn_hazard else churn_hazard
    _check_number("churn_hazard", reference, low=0.0, high=0.25)
    budgets = [float(round(b, 1)) for b in np.geomspace(10, 3000, size)]
    hazards = [float(h) for h in np.linspace(0.0, 4 * reference, size)]
    return budgets, hazards

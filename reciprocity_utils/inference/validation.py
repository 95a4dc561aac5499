"""The estimators on generated networks with planted truth: bias, coverage, size."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..dyads import build_dyads, engagement_segments
from .checks import permutation_test
from .covariance import COVARIANCE_LABELS, HEADLINE_COVARIANCE, Z_95
from .event_study import timing_design
from .models import ACTIVITY_CONTROLS, DEGREE_CONTROLS, ModelSpec, fit_model, model_frame


# ---------------------------------------------------------------------------------------------
# Validation on generated networks with a planted ratio


VALIDATION_ESTIMATORS = {
    "raw": ModelSpec("raw: no controls"),
    "observed controls": ModelSpec("degrees and activity of both accounts", controls=DEGREE_CONTROLS + ACTIVITY_CONTROLS + ("a_kind", "b_kind")),
    "adjusted (fixed effects)": ModelSpec("adjusted: fixed effects for every a and b", fixed_effects=True),
}


def heterogeneous_effects(network, concentration: float, seed: int):
    """Make the follow-back effect differ between returning accounts by thinning the generator's events.

    The generator gives every pair the same mutual-vs-one-way ratio, and with fixed effects for
    both accounts nothing is then left that ties dyads of one account together, so ordinary
    intervals happen to be right. Real effects differ between accounts. Here each account b
    draws ``keep_b ~ Beta(c/2, c/2)`` (mean 1/2) and every event toward b in a mutual state is
    kept with probability ``keep_b``; one-way events are all kept. The ratio for pairs returned
    by b becomes ``planted ratio x keep_b``: across accounts it averages half the planted ratio,
    which is the truth the estimators are then scored against. Returns the thinned dataset.
    """
    from ..synthetic import network_dataset

    dataset = network_dataset(network)
    rng = np.random.default_rng([seed, 20240101])
    accounts = dataset.accounts["account_id"].astype(str)
    keep_probability = pd.Series(rng.beta(concentration / 2, concentration / 2, len(accounts)), index=accounts.to_numpy())
    events = dataset.interactions
    arcs = network.arc_truth[["follower_id", "followee_id", "mutual_since"]].astype({"follower_id": str, "followee_id": str})
    merged = events[["actor_id", "target_id", "at"]].astype({"actor_id": str, "target_id": str}).merge(
        arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="left"
    )
    in_mutual_state = (merged["mutual_since"].notna() & (merged["at"] >= merged["mutual_since"])).to_numpy()
    keep = ~in_mutual_state | (rng.random(len(events)) < keep_probability.reindex(merged["target_id"]).to_numpy())
    dataset.interactions = events[keep].reset_index(drop=True)
    return dataset


def validation_replication(
    seed: int,
    mutual_rate_ratio: float = 2.0,
    heterogeneity: float | None = None,
    n_accounts: int = 300,
    n_permutations: int = 0,
    timing: bool = False,
    **generator_overrides: Any,
) -> dict[str, Any]:
    """Generate one network with a planted ratio, run every validation estimator, return flat results.

    ``mutual_rate_ratio`` is the truth scored against. With ``heterogeneity`` (a Beta
    concentration; smaller is more heterogeneous) the effect differs between returning accounts
    (:func:`heterogeneous_effects`) and the generator is given twice the ratio, so that the
    average over accounts is still ``mutual_rate_ratio``. Generator confounding (active persons
    follow back more, brands follow back almost always) is the generator's default. ``timing``
    adds the within-pair timing design; ``n_permutations`` the permutation test's p-value.
    """
    from ..synthetic import generate_network, network_dataset

    planted = mutual_rate_ratio * (2.0 if heterogeneity else 1.0)
    network = generate_network(n_accounts=n_accounts, seed=seed, mutual_rate_ratio=planted, **generator_overrides)
    dataset = heterogeneous_effects(network, heterogeneity, seed) if heterogeneity else network_dataset(network)
    dyads = build_dyads(dataset)
    segments, _ = engagement_segments(dataset, dyads)
    frame = model_frame(dyads, segments)
    row: dict[str, Any] = {"seed": seed, "truth": mutual_rate_ratio, "heterogeneity": heterogeneity or 0.0, "observations": len(frame)}
    row["lead_truth"] = float(generator_overrides.get("pre_followback_ratio", 1.0))
    for name, spec in VALIDATION_ESTIMATORS.items():
        fit = fit_model(frame, spec)
        row[f"{name}|log_estimate"] = fit.mutual.log_value
        for method, se in fit.mutual.standard_errors.items():
            row[f"{name}|se|{method}"] = se
    if timing:
        result = timing_design(dataset, dyads)
        row["within-pair timing|log_estimate"] = result.mutual.log_value
        for method, se in result.mutual.standard_errors.items():
            row[f"within-pair timing|se|{method}"] = se
        row["within-pair timing|lead_log_estimate"] = result.lead.log_value
        row["within-pair timing|lead_se"] = result.lead.standard_errors[HEADLINE_COVARIANCE]
    if n_permutations:
        row["permutation_p"] = permutation_test(model_frame(dyads), n_permutations=n_permutations, seed=seed).p_value
    return row


def _replicate(task: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    seed, options = task
    return validation_replication(seed, **options)


def run_validation(
    n_replications: int, scenarios: dict[str, dict[str, Any]], first_seed: int = 0, processes: int = 1, progress: bool = False
) -> pd.DataFrame:
    """Replications of :func:`validation_replication` for each scenario (name -> options), one row each.

    Seeds ``first_seed .. first_seed + n_replications - 1`` are shared across scenarios, so the
    scenarios differ only in what they plant. ``processes`` > 1 spreads replications over processes.
    """
    tasks = [(first_seed + i, options) for options in scenarios.values() for i in range(n_replications)]
    names = [name for name in scenarios for _ in range(n_replications)]
    if processes > 1:
        import multiprocessing

        with multiprocessing.get_context("fork").Pool(processes) as pool:
            rows = list(pool.imap(_replicate, tasks, chunksize=4))
    else:
        rows = []
        for task in tasks:
            rows.append(_replicate(task))
            if progress and len(rows) % 10 == 0:
                print(f"{len(rows)} of {len(tasks)} replications", flush=True)
    return pd.DataFrame(rows).assign(scenario=names)


def summarise_validation(results: pd.DataFrame, methods: tuple[str, ...] = ("model", "two_way", "dyadic")) -> pd.DataFrame:
    """Per scenario, estimator and interval: bias, coverage of the truth, rejection of ratio 1 at 5%.

    ``bias`` is the mean log estimate minus the log truth; ``coverage`` the share of 95% intervals
    containing the truth (should be near 0.95); ``rejects_1`` the share of intervals excluding 1:
    the size of the test when the truth is 1 (should be near 0.05), its power otherwise;
    ``se_ratio`` the mean standard error over the standard deviation of the estimates (near 1
    when intervals have the right width).
    """
    rows = []
    for (scenario, truth), group in results.groupby(["scenario", "truth"], sort=False):
        log_truth = math.log(truth)
        estimators = [e for e in (*VALIDATION_ESTIMATORS, "within-pair timing") if f"{e}|log_estimate" in group]
        for estimator in estimators:
            estimates = group[f"{estimator}|log_estimate"].dropna()
            if estimates.empty:
                continue
            spread = float(estimates.std(ddof=1)) if len(estimates) > 1 else float("nan")
            for method in methods:
                se = group.loc[estimates.index, f"{estimator}|se|{method}"]
                rows.append(
                    {
                        "scenario": scenario,
                        "truth": truth,
                        "estimator": estimator,
                        "interval": COVARIANCE_LABELS[method],
                        "replications": len(group),
                        "mean_estimate": float(np.exp(estimates.mean())),
                        "bias": float(estimates.mean() - log_truth),
                        "coverage": float(((estimates - Z_95 * se <= log_truth) & (log_truth <= estimates + Z_95 * se)).mean()),
                        "rejects_1": float(((estimates - Z_95 * se > 0) | (estimates + Z_95 * se < 0)).mean()),
                        "se_ratio": float(se.mean() / spread) if spread > 0 else float("nan"),
                    }
                )
        if "within-pair timing|lead_log_estimate" in group and group["within-pair timing|lead_log_estimate"].notna().any():
            # The pre-trend check: the lead window's ratio, against the planted pre-follow-back rise (1: none).
            lead = group["within-pair timing|lead_log_estimate"].dropna()
            se = group.loc[lead.index, "within-pair timing|lead_se"]
            log_lead_truth = math.log(float(group["lead_truth"].iloc[0])) if "lead_truth" in group else 0.0
            rows.append(
                {
                    "scenario": scenario, "truth": truth, "estimator": "pre-trend check (lead window of the timing design)",
                    "interval": COVARIANCE_LABELS[HEADLINE_COVARIANCE], "replications": len(lead),
                    "mean_estimate": float(np.exp(lead.mean())), "bias": float(lead.mean() - log_lead_truth),
                    "coverage": float(((lead - Z_95 * se <= log_lead_truth) & (log_lead_truth <= lead + Z_95 * se)).mean()),
                    "rejects_1": float(((lead - Z_95 * se > 0) | (lead + Z_95 * se < 0)).mean()),
                    "se_ratio": float(se.mean() / lead.std(ddof=1)) if len(lead) > 1 and lead.std(ddof=1) > 0 else float("nan"),
                }
            )
        if "permutation_p" in group and group["permutation_p"].notna().any():
            p = group["permutation_p"].dropna()
            rows.append(
                {
                    "scenario": scenario, "truth": truth, "estimator": "permutation test (within followees)", "interval": "-",
                    "replications": len(p), "rejects_1": float((p <= 0.05).mean()),
                }
            )
    return pd.DataFrame(rows)


VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0},
    "as generated (ratio 1)": {"mutual_rate_ratio": 1.0},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
    "effect differs by account (ratio 1)": {"mutual_rate_ratio": 1.0, "heterogeneity": 10.0},
    # Reverse causality: b follows back in answer to a's engagement, which triples in the week before.
    "engagement rises before the follow-back (ratio 2)": {"mutual_rate_ratio": 2.0, "pre_followback_ratio": 3.0},
}

# A few replications for the notebook: one scenario as generated, one where the effect differs by account.
NOTEBOOK_VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
}

"""The estimators on generated networks with planted truth: bias, coverage, size."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ..dyads import build_dyads
from ..segments import engagement_segments
from ..stopwatch import timed_step
from .checks import permutation_test
from .covariance import COVARIANCE_LABELS, Z_95
from .designs import pair_adjusted_specs
from .event_study import timing_design
from .models import ACTIVITY_CONTROLS, DEGREE_CONTROLS, ModelSpec, fit_model, model_frame

# ---------------------------------------------------------------------------------------------
# Validation on generated networks with a planted ratio


NO_TIMES_ESTIMATOR = "adjusted, no times (mutual at the end, equal exposure)"
EVENT_STUDY = "event study (after the follow-back, same pairs)"
PAIR_CONTROLLED_ESTIMATOR = "adjusted, and what the data records about the pair (community, common followees, both brands)"

VALIDATION_ESTIMATORS = {
    "raw": ModelSpec("raw: no controls"),
    "observed controls": ModelSpec(
        "degrees and activity of both accounts", controls=DEGREE_CONTROLS + ACTIVITY_CONTROLS + ("a_kind", "b_kind")
    ),
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
    merged = (
        events[["actor_id", "target_id", "at"]]
        .astype({"actor_id": str, "target_id": str})
        .merge(arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"], how="left")
    )
    in_mutual_state = (merged["mutual_since"].notna() & (merged["at"] >= merged["mutual_since"])).to_numpy()
    keep = ~in_mutual_state | (rng.random(len(events)) < keep_probability.reindex(merged["target_id"]).to_numpy())
    dataset.interactions = events[keep].reset_index(drop=True)
    return dataset


def without_times(dataset):
    """The dataset as a source without any time would give it: follows and engagement undated.

    Real networks such as the UCD groups record only totals over the collection; the estimators
    then compare arcs mutual at the end with arcs that are not, with equal exposure. Scoring that
    design against the planted ratio shows what it costs.
    """
    from ..model import Coverage, RawTable, build_dataset

    follows = dataset.follows.assign(followed_at=pd.NaT)
    interactions = dataset.interactions.assign(at=pd.NaT)
    return build_dataset(
        RawTable(follows, "generated follows without times"),
        RawTable(interactions, "generated engagement without times"),
        RawTable(dataset.accounts, "generated accounts"),
        coverage=Coverage(notes=["Generated data with its times removed."]),
        source="generated network without times",
    )


def validation_replication(
    seed: int,
    mutual_rate_ratio: float = 2.0,
    heterogeneity: float | None = None,
    n_accounts: int = 300,
    n_permutations: int = 0,
    timing: bool = False,
    no_times: bool = False,
    **generator_overrides: Any,
) -> dict[str, Any]:
    """Generate one network with a planted ratio, run every validation estimator, return flat results.

    ``mutual_rate_ratio`` is the truth scored against. With ``heterogeneity`` (a Beta
    concentration; smaller is more heterogeneous) the effect differs between returning accounts
    (:func:`heterogeneous_effects`) and the generator is given twice the ratio, so that the
    average over accounts is still ``mutual_rate_ratio``. Generator confounding (active persons
    follow back more, brands follow back almost always) is the generator's default; any other
    generator parameter (anticipation, slow follow-backs, pair affinity) comes through
    ``generator_overrides``. ``timing`` adds the event study (its after-effect, verdict and
    pre-trend test); ``no_times`` the adjusted estimator on the same network with every time
    removed (the design used on real networks without times); ``n_permutations`` the
    permutation test's p-value.
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

    def record(name: str, estimate) -> None:
        row[f"{name}|log_estimate"] = estimate.log_value
        for method, se in estimate.standard_errors.items():
            row[f"{name}|se|{method}"] = se
        for method, dof in estimate.degrees_of_freedom.items():
            row[f"{name}|dof|{method}"] = dof

    for name, spec in VALIDATION_ESTIMATORS.items():
        record(name, fit_model(frame, spec).mutual)
    for spec in pair_adjusted_specs(frame):  # where the generator gave accounts communities
        record(PAIR_CONTROLLED_ESTIMATOR, fit_model(frame, spec).mutual)
    if no_times:
        record(
            NO_TIMES_ESTIMATOR,
            fit_model(model_frame(build_dyads(without_times(dataset))), VALIDATION_ESTIMATORS["adjusted (fixed effects)"]).mutual,
        )
    if timing:
        result = timing_design(dataset, dyads)
        row[f"{EVENT_STUDY}|verdict"] = result.verdict
        row[f"{EVENT_STUDY}|pretrend_p"] = result.pretrend_p
        if result.after is not None:
            record(EVENT_STUDY, result.after)
    if n_permutations:
        row["permutation_p"] = permutation_test(model_frame(dyads), n_permutations=n_permutations, seed=seed).p_value
    return row


def summarise_event_study(results: pd.DataFrame) -> pd.DataFrame:
    """Per scenario: how often the event study claims an effect, of which sign, flags a pre-trend or abstains.

    A *wrong-sign claim* is a causal reading whose after-effect points the other way from the
    planted ratio (or any causal reading when the planted ratio is 1).
    """
    column = f"{EVENT_STUDY}|verdict"
    if column not in results:
        return pd.DataFrame()
    rows = []
    for (scenario, truth), group in results.groupby(["scenario", "truth"], sort=False):
        verdicts = group[column]
        supports = verdicts == "supports"
        after = group.get(f"{EVENT_STUDY}|log_estimate", pd.Series(np.nan, index=group.index))
        wrong = supports & ((after < 0) if truth > 1 else (after > 0) if truth < 1 else True)
        rows.append(
            {
                "scenario": scenario,
                "truth": truth,
                "replications": len(group),
                "claims an effect": float(supports.mean()),
                "claims the wrong sign": float(wrong.mean()),
                "flags a pre-trend": float((verdicts == "pre-trend").mean()),
                "inconclusive": float(verdicts.isin(["inconclusive", "too few pairs", "no change"]).mean()),
                "mean ratio after": float(np.exp(after.mean())) if after.notna().any() else float("nan"),
            }
        )
    return pd.DataFrame(rows)


def _replicate(task: tuple[int, dict[str, Any]]) -> dict[str, Any]:
    seed, options = task
    return validation_replication(seed, **options)


@timed_step("the validation on planted data")
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


VALIDATION_INTERVAL_LABELS = {"two_way_normal": "two-way clustered, normal critical value (no effective-cluster correction)"}


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
        estimators = [
            e
            for e in (*VALIDATION_ESTIMATORS, PAIR_CONTROLLED_ESTIMATOR, NO_TIMES_ESTIMATOR, EVENT_STUDY)
            if f"{e}|log_estimate" in group and group[f"{e}|log_estimate"].notna().any()
        ]
        for estimator in estimators:
            estimates = group[f"{estimator}|log_estimate"].dropna()
            if estimates.empty:
                continue
            spread = float(estimates.std(ddof=1)) if len(estimates) > 1 else float("nan")
            for method in methods:
                # "two_way_normal": the two-way standard error referred to the normal, as before
                # the effective-cluster degrees of freedom, to show what they change.
                column = "two_way" if method == "two_way_normal" else method
                if f"{estimator}|se|{column}" not in group or group[f"{estimator}|se|{column}"].isna().all():
                    continue  # an interval this estimator does not have (no leverage for the small-cluster one)
                se = group.loc[estimates.index, f"{estimator}|se|{column}"]
                dof_column = f"{estimator}|dof|{column}"
                if method != "two_way_normal" and dof_column in group:
                    dof = group.loc[estimates.index, dof_column].to_numpy(dtype=float)
                    critical = np.where(np.isfinite(dof), stats.t.ppf(0.975, np.maximum(np.nan_to_num(dof, nan=1.0), 1.0)), Z_95)
                else:
                    critical = Z_95
                half_width = critical * se
                rows.append(
                    {
                        "scenario": scenario,
                        "truth": truth,
                        "estimator": estimator,
                        "interval": VALIDATION_INTERVAL_LABELS.get(method) or COVARIANCE_LABELS[method],
                        "replications": len(group),
                        "mean_estimate": float(np.exp(estimates.mean())),
                        "bias": float(estimates.mean() - log_truth),
                        "coverage": float(((estimates - half_width <= log_truth) & (log_truth <= estimates + half_width)).mean()),
                        "rejects_1": float(((estimates - half_width > 0) | (estimates + half_width < 0)).mean()),
                        "se_ratio": float(se.mean() / spread) if spread > 0 else float("nan"),
                    }
                )
        if "permutation_p" in group and group["permutation_p"].notna().any():
            p = group["permutation_p"].dropna()
            rows.append(
                {
                    "scenario": scenario,
                    "truth": truth,
                    "estimator": "permutation test (within followees)",
                    "interval": "-",
                    "replications": len(p),
                    "rejects_1": float((p <= 0.05).mean()),
                }
            )
    return pd.DataFrame(rows)


# Follow-backs after weeks rather than days, so that pairs are seen one-way long before the
# follow-back: without them the event study has no baseline and abstains.
SLOW_FOLLOW_BACKS = {"person_followback_latency_days": 60.0, "brand_followback_latency_days": 30.0}

PAIR_AFFINITY = {"pair_affinity_sigma": 1.0, "n_communities": 4, "same_community_affinity": 2.0, "within_community_follow_boost": 3.0}

VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0, "no_times": True},
    "as generated (ratio 1)": {"mutual_rate_ratio": 1.0, "no_times": True},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
    "effect differs by account (ratio 1)": {"mutual_rate_ratio": 1.0, "heterogeneity": 10.0},
    "slow follow-backs (ratio 2)": {"mutual_rate_ratio": 2.0, **SLOW_FOLLOW_BACKS},
    "slow follow-backs (ratio 1)": {"mutual_rate_ratio": 1.0, **SLOW_FOLLOW_BACKS},
    # Anticipation (reverse causality): b follows back in answer to a's engagement, which triples
    # over the days before. Within the leads the event study must flag it; beyond them it cannot.
    "anticipation 7 days (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 7.0,
        **SLOW_FOLLOW_BACKS,
    },
    "anticipation 30 days (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 30.0,
        **SLOW_FOLLOW_BACKS,
    },
    "anticipation 60 days (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 60.0,
        **SLOW_FOLLOW_BACKS,
    },
    "anticipation 30 days, no effect (ratio 1)": {
        "mutual_rate_ratio": 1.0,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 30.0,
        **SLOW_FOLLOW_BACKS,
    },
    "anticipation 120 days, beyond the leads (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 120.0,
        **SLOW_FOLLOW_BACKS,
    },
    # Pair-level confounding: an affinity between the two (partly a shared community, mostly
    # unobserved) raises both the chance of a follow-back and engagement, in every state. Fixed
    # effects for each account cannot remove it; the community control removes only its observed
    # part; a within-pair comparison removes it all.
    "pair affinity, no effect (ratio 1)": {"mutual_rate_ratio": 1.0, **PAIR_AFFINITY, **SLOW_FOLLOW_BACKS},
    "pair affinity (ratio 2)": {"mutual_rate_ratio": 2.0, **PAIR_AFFINITY, **SLOW_FOLLOW_BACKS},
    "pair affinity, no effect, 1,000 accounts (ratio 1)": {
        "mutual_rate_ratio": 1.0,
        "n_accounts": 1000,
        **PAIR_AFFINITY,
        **SLOW_FOLLOW_BACKS,
    },
    # Larger networks, where the event study has the precision to claim an effect at all.
    "slow follow-backs, 1,000 accounts (ratio 2)": {"mutual_rate_ratio": 2.0, "n_accounts": 1000, **SLOW_FOLLOW_BACKS},
    "anticipation 60 days, 1,000 accounts (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "n_accounts": 1000,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 60.0,
        **SLOW_FOLLOW_BACKS,
    },
    "anticipation 120 days, beyond the leads, 1,000 accounts (ratio 2)": {
        "mutual_rate_ratio": 2.0,
        "n_accounts": 1000,
        "pre_followback_ratio": 3.0,
        "pre_followback_days": 120.0,
        **SLOW_FOLLOW_BACKS,
    },
}

# A few replications for the notebook: as generated, effects that differ by account, and the
# case built to make the headline fail (pair affinity with no effect at all).
NOTEBOOK_VALIDATION_SCENARIOS = {
    "as generated (ratio 2)": {"mutual_rate_ratio": 2.0},
    "effect differs by account (ratio 2)": {"mutual_rate_ratio": 2.0, "heterogeneity": 10.0},
    "pair affinity, no effect (ratio 1)": {"mutual_rate_ratio": 1.0, **PAIR_AFFINITY},
}


VALIDATION_COLUMN_LABELS = {
    "scenario": "scenario",
    "truth": "planted ratio",
    "estimator": "estimator",
    "interval": "interval",
    "replications": "replications",
    "mean_estimate": "mean estimate",
    "bias": "bias (log scale)",
    "coverage": "coverage of the planted ratio",
    "rejects_1": "share excluding 1",
    "se_ratio": "standard error / spread of estimates",
}


def readable_validation(summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`summarise_validation`'s table with column names a reader understands."""
    return summary[[c for c in VALIDATION_COLUMN_LABELS if c in summary]].rename(columns=VALIDATION_COLUMN_LABELS)

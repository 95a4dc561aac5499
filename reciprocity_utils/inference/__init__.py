"""Models of engagement on follow arcs, with intervals that respect the dependence between dyads.

Study 03 asks: given that a follows b, is a's engagement toward b higher once b follows back? Two
facts shape every estimate here.

Confounding. Accounts that follow back are not a random draw: active people follow back more and
also post more, so they receive more engagement whether or not they follow back. Raw comparisons
therefore overstate the mutual effect. Controls measured in the data (follower and followee
counts, engagement sent and received *excluding the pair itself*) remove part of it; the
**adjusted estimator** goes further and gives every follower a and every followee b its own fixed
effect, which absorbs each account's activity, popularity and anything else constant about it,
observed or not. It is a Poisson (pseudo-)maximum-likelihood model with two-way fixed effects
(Santos Silva and Tenreyro 2006; with fixed effects on both sides of a network the Poisson
estimator is consistent and carries no incidental-parameter bias for these designs: Fernández-Val
and Weidner 2016, Weidner and Zylkin 2021). When follow and event times are known, each arc's
exposure is split at the follow-back, so the model compares the mutual and one-way *states*, each
with its own exposure; otherwise it compares arcs mutual at the end of the data with arcs that
are not, with equal or total exposure.

Dependence. Dyads sharing an account are not independent (Aronow, Samii and Assenova 2015), so
ordinary standard errors are too small. Every model here reports, for each coefficient,
the model-based (ordinary) interval, a heteroskedasticity-robust one, one-way clustered ones on a
and on b, the **two-way cluster-robust** interval on both accounts (Cameron, Gelbach and Miller
2011: ``V_a + V_b - V_ab``, the formula and small-sample factor of statsmodels'
``cov_cluster_2groups``, checked against it in the tests; negative eigenvalues are set to zero
and counted), and the dyadic-robust one (every pair of dyads sharing an account may covary,
including a as sender in one and receiver in another). Headline intervals are two-way.

Fitting. Models without fixed effects come from statsmodels (logit, the negative binomial's
dispersion) or from :func:`fit_count_regression`, which also absorbs the fixed effects of
thousands of accounts without dummy columns (the ``ppmlhdfe`` method) and equals statsmodels'
GLM with dummy columns on data small enough for the latter (checked in the tests).

Checks beside the intervals: a permutation test that reshuffles which of b's followers b
followed back (:func:`permutation_test`), a within-pair timing design with a pre-trend check
(:func:`timing_design`), an out-of-time predictive comparison (:func:`out_of_time_auc`), and
:func:`validation_replication` / :func:`summarise_validation`, which run the whole estimator on
generated networks with a planted ratio and measure bias, interval coverage and test size.

Layout, lowest first (each module imports only those above it): ``covariance`` (the
interval methods), ``estimators`` (count regressions with absorbed fixed effects), ``models``
(model frame, specifications, fits), ``designs`` (raw comparison, specifications side by side,
moderation, personal exports), ``checks`` (permutation and out-of-time prediction),
``event_study`` (within-pair timing), ``conclusions`` (the wording), ``validation`` (planted
truth) and ``study`` (what notebook 03 needs around them). Everything is importable from here.
"""

from __future__ import annotations

from ..model import INTERACTION_KINDS
from .checks import PermutationResult, PredictiveResult, _auc_by_level, out_of_time_auc, permutation_test, weighted_auc
from .conclusions import e_value, e_value_of_interval, owner_conclusion, plain_conclusion, sensitivity_sentence
from .covariance import (
    COVARIANCE_LABELS,
    COVARIANCE_METHODS,
    HEADLINE_COVARIANCE,
    SMALL_CLUSTER_METHODS,
    Z_95,
    Covariances,
    _dyadic_covariance,
    _positive_semidefinite,
    robust_covariances,
)
from .designs import (
    PAIR_ADJUSTED_PREFIX,
    ModerationResult,
    covariance_comparison,
    ego_comparison,
    ego_incoming_comparison,
    fit_all,
    is_pair_adjusted,
    moderated_effect,
    moderation_table,
    moderation_words,
    other_direction_specs,
    pair_adjusted_specs,
    raw_comparison,
    robustness_table,
    standard_specs,
)
from .estimators import CountRegression, NotEstimable, fit_count_regression
from .event_study import TimingResult, event_bins, event_time_segments, timing_design
from .models import (
    ACTIVITY_CONTROLS,
    DEGREE_CONTROLS,
    PAIR_CONTROLS,
    Estimate,
    ModelFit,
    ModelFrame,
    ModelSpec,
    _design,
    fit_model,
    model_frame,
)
from .pair_controls import PAIR_CONTROL_WORDS, shared_followees
from .study import (
    ADJUSTED_LABEL,
    RAW_LABEL,
    StudyData,
    check_study_parameters,
    fit_notes,
    fits_table,
    headline_fit,
    planted_truth,
    prepare_study,
    prepare_study_from_dyads,
    raw_by_kind,
)
from .validation import (
    EVENT_STUDY,
    NO_TIMES_ESTIMATOR,
    NOTEBOOK_VALIDATION_SCENARIOS,
    PAIR_AFFINITY,
    PAIR_CONTROLLED_ESTIMATOR,
    SLOW_FOLLOW_BACKS,
    VALIDATION_ESTIMATORS,
    VALIDATION_SCENARIOS,
    heterogeneous_effects,
    readable_validation,
    run_validation,
    summarise_event_study,
    summarise_validation,
    validation_replication,
    without_times,
)

__all__ = [
    "ACTIVITY_CONTROLS",
    "ADJUSTED_LABEL",
    "COVARIANCE_LABELS",
    "COVARIANCE_METHODS",
    "CountRegression",
    "DEGREE_CONTROLS",
    "Estimate",
    "HEADLINE_COVARIANCE",
    "INTERACTION_KINDS",
    "ModelFit",
    "ModelFrame",
    "ModelSpec",
    "NOTEBOOK_VALIDATION_SCENARIOS",
    "NotEstimable",
    "RAW_LABEL",
    "StudyData",
    "VALIDATION_SCENARIOS",
    "check_study_parameters",
    "covariance_comparison",
    "ego_comparison",
    "ego_incoming_comparison",
    "fit_all",
    "fit_count_regression",
    "fit_model",
    "fit_notes",
    "fits_table",
    "heterogeneous_effects",
    "model_frame",
    "moderated_effect",
    "other_direction_specs",
    "out_of_time_auc",
    "owner_conclusion",
    "permutation_test",
    "plain_conclusion",
    "planted_truth",
    "prepare_study",
    "prepare_study_from_dyads",
    "raw_by_kind",
    "raw_comparison",
    "robust_covariances",
    "robustness_table",
    "run_validation",
    "standard_specs",
    "summarise_validation",
    "timing_design",
    "validation_replication",
    "weighted_auc",
    "PAIR_ADJUSTED_PREFIX",
    "PAIR_CONTROLS",
    "PAIR_CONTROL_WORDS",
    "is_pair_adjusted",
    "shared_followees",
    "EVENT_STUDY",
    "NO_TIMES_ESTIMATOR",
    "SLOW_FOLLOW_BACKS",
    "e_value",
    "e_value_of_interval",
    "event_bins",
    "event_time_segments",
    "headline_fit",
    "pair_adjusted_specs",
    "sensitivity_sentence",
    "summarise_event_study",
    "without_times",
    "TimingResult",
    "moderation_table",
    "moderation_words",
    "readable_validation",
]

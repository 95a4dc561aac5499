"""Follow-back strategies: composable policies, a calibrated daily simulator, and their replay on real follows.

The essay's practical question is whether an account should follow back everyone who follows it.
This module makes the question testable. A *policy* says whom the owner follows back, whom it
unfollows and what it reads; the *simulator* plays a policy forward in daily steps for many
replications at once and reports reach, attention and engagement with intervals; the *replay*
applies the same policies to the followers in a real export and checks whom they would follow
against whom the owner actually engaged with.

Policies (small frozen dataclasses, combined in :class:`Policy`)
----------------------------------------------------------------

- :class:`FollowBack`: ``"everyone"``, ``"no_one"`` or ``"score"`` (follow back a current follower
  once its score reaches ``threshold``; re-evaluated every day, so evidence that accrues, such as
  engagement received, can trigger a follow-back later);
- :class:`Prune`: every ``every_days`` days unfollow the followees with no engagement in either
  direction in the last ``inactive_days`` days (a new followee gets that long before it can be pruned);
- :class:`Reset`: on ``day``, unfollow everyone, re-follow the ``keep`` current followers with the
  highest score, then follow back by the rule ``then``;
- :class:`ReadingList`: follow as the follow-back rule says but read only the ``size`` followees
  with the highest score (the list is refreshed every ``every_days`` days). Keeping it takes the
  scenario's ``list_cost`` (posts' worth of attention per day) from the budget: 0, free, by default.

Accounts the owner has unfollowed (pruned or reset) are never followed back again by the rule.
Scores (:data:`SCORES`) are oriented so that higher means more worth following.

The simulated world (one owner; all parameters in :class:`Scenario`)
---------------------------------------------------------------------

Candidates are the accounts that follow the owner during the horizon: ``n_initial_followers`` on
day 0 and ``n_new_followers`` arriving on days drawn uniformly over the rest of the horizon. Each
candidate has, drawn once per replication:

- an *affinity* with the owner (lognormal, median 1): how much the owner values its posts and how
  much it engages with the owner;
- a posting rate (lognormal posts per day); a share ``spam_share`` are spam accounts that post
  ``spam_post_multiplier`` times as much and carry almost no affinity (``spam_affinity``);
- observable features the scores read: mutual connections (Poisson, mean rising with affinity),
  the follower/following ratio (lognormal; low for spam), activity (the posting rate) and a noisy
  spam-likeness indicator.

Every day, in this order:

1. candidates whose day has come follow the owner; the policy makes its follow-back, pruning,
   reset and reading-list decisions;
2. the timeline is what the followees post; the owner reads at most ``attention_budget`` posts,
   each post of the readable timeline (the reading list, or all followees) being read with the same
   probability ``rho = min(1, budget / expected volume)``: a sample proportional to what each
   account posts. Posts read and spam read are recorded as their expectations given the day's
   state (Rao-Blackwellised: no sampling noise, same mean);
3. each follower engages with the owner that day with probability
   ``1 - exp(-follower_engagement_rate * affinity * M * (1 + reciprocation_boost * R))``, where ``R``
   is 1 when the owner engaged with it within the relationship window (engagement is returned),
   and the owner engages with a candidate
   with probability ``1 - exp(-posts_read_from_it * owner_engagement_per_read * affinity * M)``,
   or replies to one that engaged it that day with ``owner_reply_probability``. ``M`` is the
   mutual rate ratio while both follow each other, 1 otherwise: calibrated from study 03's adjusted
   incidence-rate ratio and its interval when they are recorded (:func:`calibrate_rate_ratio`: drawn
   per replication, from the interval when study 03's timing design supports an effect, else from 1
   up to the association). Events are counted
   as engagement-days (at most one per pair, direction and day);
4. a follower the owner does not follow leaves with probability ``churn_hazard`` per day
   (followers followed back with ``mutual_churn_hazard``, 0 by default).

A *two-way relationship* is a candidate with engagement in both directions within the last
``relationship_window_days`` days; the *signal share* is the share of what is read that comes from
such accounts. Daily draws are the same for every policy given a seed (common random numbers), so
policies are compared on the same worlds and the same luck, and their differences are paired.

Defaults and their sources: the churn hazard converts Kwak, Chun and Moon (2011, CHI, "Fragile
online relationship"), who followed 1.2 million Korean-speaking Twitter users in daily snapshots
over 51 days and found one-way relationships broken with probability 0.1228, into a daily hazard
``1 - (1 - 0.1228) ** (1 / 51) = 0.00257`` (reading the 0.1228 as the share over the 51 observed
days; reciprocal ties broke less often). The spam share 0.12 lies in the 9-15% of active Twitter
accounts Varol et al. (2017, ICWSM) estimated to be bots. Reading lists and the re-follow step keep
100 accounts, the lower end of the 100-200 stable relationships Gonçalves, Perra and Vespignani
(2011, PLoS ONE) found Twitter users maintain. Attention budgets and engagement rates are
assumptions; the sensitivity map varies the budget and the churn hazard.

Replay (:func:`replay_policies`)
--------------------------------

The same policies applied to the owner's actual followers in an export: scores are computed from
the data before a cutoff time, the value of an account is whether the owner engaged with it after
the cutoff, and each policy's chosen set is scored by precision and recall against that value.

Modules (everything is importable from ``reciprocity_utils.strategies``):

- ``policies``: the policy dataclasses and the standard set compared;
- ``scenarios``: the simulated world's parameters, the presets, and the engagement ratio's source;
- ``simulator``: the daily simulator, outcomes with intervals, the utility;
- ``sensitivity``: which policy wins over attention budget and churn hazard;
- ``assumptions``: which single assumption moves the ranking (a tornado);
- ``churn``: the literature hazard and the hazard observed between snapshots;
- ``replay``: the policies applied to the real followers of one account;
- ``wording``: the notebook's tables and sentences, computed from the runs.
"""

from __future__ import annotations

from .assumptions import (  # noqa: F401
    Assumption,
    assumption_sensitivity,
    assumption_sentence,
    default_assumptions,
)
from .churn import (  # noqa: F401
    KWAK_OBSERVED_DAYS,
    KWAK_ONE_WAY_BROKEN_SHARE,
    _hazard_fit,
    choose_churn_hazard,
    churn_from_follow_events,
    churn_from_snapshots,
    literature_churn_hazard,
    snapshot_time,
)
from .policies import (  # noqa: F401
    DEFAULT_THRESHOLDS,
    FOLLOW_BACK_RULES,
    SCORES,
    SIMULATED_SCORES,
    FollowBack,
    Policy,
    Prune,
    ReadingList,
    Reset,
    StrategyError,
    follow_everyone,
    follow_no_one,
    great_unfollow,
    read_only_list,
    score_policies,
    selective,
    standard_policies,
    with_pruning,
)
from .replay import (  # noqa: F401
    ReplayResult,
    choose_replay_owner,
    replay_account_table,
    replay_candidates,
    replay_policies,
    replay_policy,
    replay_precision_recall,
)
from .scenarios import (  # noqa: F401
    PRESETS,
    RateRatioCalibration,
    Scenario,
    calibrate_rate_ratio,
    check_study_parameters,
    preset,
)
from .sensitivity import (  # noqa: F401
    GRID_MEASURES,
    SensitivityResult,
    default_grid,
    sensitivity,
)
from .simulator import (  # noqa: F401
    HORIZON_OUTCOMES,
    OUTCOMES,
    SimulationResult,
    compare_policies,
    interval,
    measure_bounds,
    paired_difference,
    simulate,
    summary_table,
    utility,
)
from .wording import (  # noqa: F401
    SCENARIO_FIELDS,
    conclusion,
    interval_table,
    map_sentence,
    policy_table,
    replay_sentence,
    scenario_table,
    weights_sentence,
    win_share_table,
    win_shares,
    winner,
)

__all__ = [
    "Assumption",
    "assumption_sensitivity",
    "assumption_sentence",
    "default_assumptions",
    "DEFAULT_THRESHOLDS",
    "HORIZON_OUTCOMES",
    "OUTCOMES",
    "PRESETS",
    "SCORES",
    "FollowBack",
    "Policy",
    "Prune",
    "ReadingList",
    "ReplayResult",
    "Reset",
    "Scenario",
    "SensitivityResult",
    "SimulationResult",
    "StrategyError",
    "RateRatioCalibration",
    "calibrate_rate_ratio",
    "check_study_parameters",
    "choose_churn_hazard",
    "choose_replay_owner",
    "churn_from_follow_events",
    "churn_from_snapshots",
    "compare_policies",
    "conclusion",
    "default_grid",
    "follow_everyone",
    "follow_no_one",
    "great_unfollow",
    "interval",
    "interval_table",
    "map_sentence",
    "literature_churn_hazard",
    "measure_bounds",
    "paired_difference",
    "policy_table",
    "preset",
    "read_only_list",
    "replay_account_table",
    "replay_candidates",
    "replay_policies",
    "replay_policy",
    "replay_precision_recall",
    "replay_sentence",
    "scenario_table",
    "score_policies",
    "selective",
    "sensitivity",
    "simulate",
    "snapshot_time",
    "standard_policies",
    "summary_table",
    "utility",
    "weights_sentence",
    "win_share_table",
    "win_shares",
    "winner",
    "with_pruning",
]

"""The "two camps" question of study 02: do accounts split into those that follow back nearly all
of their followers and those that follow back nearly none?

A follow-back rate is a fraction k/n (k of an account's n followers followed back). With small
n these rates pile up on a few values and at exactly 0% and 100%. Hartigan's dip test reads its
p-value from a table built for continuous data, and on such fractions it rejects a single peak
far too often: simulating single-peaked beta-binomial rates with the follower counts of the UCD
football, rugby and olympics networks, its 5% test rejects in 41%, 37% and 74% of draws.

So the dip statistic is kept and its p-value is calibrated by a parametric bootstrap
(:func:`calibrated_dip_test`): fit a single-peaked model to the observed (k, n) by maximum
likelihood, draw k* ~ Binomial(n_i, p*) with p* from the fitted model and each account's own
n_i, and count how often the dip of k*/n_i reaches the observed one:
p = (1 + #{dip* >= dip}) / (1 + B). Two single-peaked families are fitted, the beta
(beta-binomial counts) and the logit-normal, and the larger p is reported: the test rejects only
when both are rejected. With the beta alone, a single logit-normal peak with rugby's follower
counts was rejected in 20-45% of draws (its shoulders are not beta-shaped): the shape of one
peak must not pass for a second one.

``benchmarks/validate_camps.py`` measures it with the follower counts of the three networks (500
replications each): single peaks from either fitted family are rejected in 0-6% of draws (the
larger of two p-values makes the test cautious); a single peak of a third shape (a truncated
normal) in 8-14%, so a rejection alone means "fits neither model", not "two peaks"; two equal
planted camps in 100%, camps of 20% and 80% in 73-100%. "Two camps" was said for at most 6% of
single-peaked networks.

The conclusion says "two camps" (:func:`verdict`) only when the calibrated test rejects at 5%
**and** each end holds a camp: at least :data:`MIN_CAMP_SHARE` (10%) of the eligible accounts and
at least :data:`MIN_CAMP_ACCOUNTS` (10 accounts) follow back fewer than ``low`` (20%) of their
followers, and the same holds above ``high`` (80%). A rejection with a thin end says the rates
fit neither single-peaked model, not that there are two camps. A test that does not reject is reported as no evidence of
two camps at this sample size, never as proof of a single peak.

This module sits beside :mod:`.metrics` (which re-exports its public names) and imports nothing
from the package: the per-account table it reads comes from ``metrics.account_behaviour``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .wording import p_words

if TYPE_CHECKING:
    from .metrics import AccountBehaviour

__all__ = [
    "ALL_ACCOUNTS",
    "DEFAULT_BOOTSTRAP_DRAWS",
    "MIN_BOOTSTRAP_DRAWS",
    "MIN_CAMP_ACCOUNTS",
    "MIN_CAMP_SHARE",
    "DipCalibration",
    "NullFit",
    "TwoCamps",
    "calibrated_dip_test",
    "camps_in_words",
    "eligible_counts",
    "fit_unimodal_beta_binomial",
    "fit_unimodal_logit_normal_binomial",
    "simulate_successes",
    "two_camps",
    "verdict",
]

ALL_ACCOUNTS = "all accounts"
HIGH_FOLLOW_BACK = 0.8  # Weng et al. (2010): 72.4% of users follow back more than 80% of their followers
LOW_FOLLOW_BACK = 0.2
SIGNIFICANCE = 0.05
MIN_DIP_TEST_ACCOUNTS = 4  # the dip test is not defined for 3 values or fewer
# A camp is a sizeable group, not a tail: at least a tenth of the accounts tested, and at least
# ten accounts so that in a small network a handful of accounts is not called a camp.
MIN_CAMP_SHARE = 0.10
MIN_CAMP_ACCOUNTS = 10
# 9,999 draws per null put the Monte Carlo standard error of a p-value near 0.05 at 0.002 and
# cost one to two seconds per null on a thousand accounts. With 999 (error 0.007) a p-value near
# 0.05 lands on either side depending on the seed (football's beta-null p, about 0.04, came out
# above 0.05 for one seed in ten). 99 is the fewest that still resolve a p-value of 1%.
DEFAULT_BOOTSTRAP_DRAWS = 9_999
# The calibrated test costs time in proportion to accounts x draws (about 13 s per 1,000 draws at
# 50,000 accounts here): beyond this many, it runs on a seeded random sample of them, said on the page.
DEFAULT_MAX_TEST_ACCOUNTS = 50_000
MIN_BOOTSTRAP_DRAWS = 99
# Bounds of the fitted alpha and beta: below 1e-3 the beta is two point masses, above 1e4 the
# beta-binomial is a binomial; both ends are reached only by data that are degenerate anyway.
_LOG_BOUNDS = (np.log(1e-3), np.log(1e4))
_VALUES_PER_CHUNK = 2_000_000  # simulated rates held at once (16 MB), whatever the network's size
_Z_RANGE = 6.0  # the logit-normal integral runs over mu +- 6 sigma (mass outside: 2e-9)
MAX_LOGIT_NORMAL_SIGMA = float(np.sqrt(2))
BETA = "beta"
LOGIT_NORMAL = "logit-normal"
FAMILIES = (BETA, LOGIT_NORMAL)

TWO_CAMPS = "two camps"
NOT_TWO_CAMPS = "fits neither single-peaked model, not two camps"
NO_EVIDENCE = "no evidence of two camps"
NOT_TESTED = "not tested"


# ---------------------------------------------------------------------------------------------
# The null models: single-peaked mixing distributions with the observed denominators


@dataclass(frozen=True)
class NullFit:
    """A fitted single-peaked null: k_i ~ Binomial(n_i, p_i) with p_i drawn from ``family``.

    ``parameters`` are (alpha, beta) for the beta, (mu, sigma) of logit(p) for the logit-normal;
    ``constrained`` when the single-peak constraint was binding.
    """

    family: str
    parameters: tuple[float, float]
    log_likelihood: float
    constrained: bool

    def probabilities(self, rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
        """Follow-back probabilities p drawn from the fitted mixing distribution."""
        if self.family == BETA:
            return rng.beta(*self.parameters, size=size)
        from scipy.special import expit

        mu, sigma = self.parameters
        return expit(mu + sigma * rng.standard_normal(size))


def _counted_pairs(successes: np.ndarray, trials: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (k, n) pairs and how many accounts have each: likelihoods cost one term per pair."""
    successes = np.asarray(successes, dtype=np.int64)
    trials = np.asarray(trials, dtype=np.int64)
    if successes.shape != trials.shape or successes.ndim != 1 or len(successes) == 0:
        raise ValueError(
            f"successes and trials must be equally long, non-empty one-dimensional arrays, got shapes {successes.shape} and {trials.shape}"
        )
    if (trials < 1).any() or (successes < 0).any() or (successes > trials).any():
        raise ValueError("each account needs at least one follower and 0 <= followed back <= followers")
    (k, n), counts = np.unique(np.stack([successes, trials]), axis=1, return_counts=True)
    return k, n, counts


def fit_unimodal_beta_binomial(successes: np.ndarray, trials: np.ndarray) -> NullFit:
    """Fit k_i ~ BetaBinomial(n_i, alpha, beta) by maximum likelihood, alpha >= 1 or beta >= 1.

    A beta with alpha < 1 and beta < 1 is U-shaped: its density rises toward both 0 and 1, which
    is the two-camps alternative itself. A null allowed to take that shape would absorb the very
    pattern under test and the test could never reject, so the null is restricted to betas with a
    single mode (alpha >= 1 or beta >= 1, J-shapes with the mode at 0% or 100% included). When the
    free maximum lies in the U-shaped region, the restricted maximum lies on its border, alpha = 1
    or beta = 1: both lines are searched and the better one kept.
    """
    from scipy import optimize, stats

    k, n, counts = _counted_pairs(successes, trials)

    def negative_log_likelihood(log_alpha: float, log_beta: float) -> float:
        return -float(counts @ stats.betabinom.logpmf(k, n, np.exp(log_alpha), np.exp(log_beta)))

    rates = k / n
    mean = float(np.clip(np.average(rates, weights=counts), 0.02, 0.98))
    variance = float(np.average((rates - mean) ** 2, weights=counts))
    # Method-of-moments start, ignoring the binomial part of the variance; concentration at least 1.
    concentration = max(mean * (1 - mean) / variance - 1, 1.0) if variance > 0 else 10.0
    start = np.clip(np.log([mean * concentration, (1 - mean) * concentration]), *_LOG_BOUNDS)
    free = optimize.minimize(lambda x: negative_log_likelihood(*x), start, method="L-BFGS-B", bounds=[_LOG_BOUNDS, _LOG_BOUNDS])
    alpha, beta = np.exp(free.x)
    if alpha >= 1 or beta >= 1:
        return NullFit(BETA, (float(alpha), float(beta)), -float(free.fun), False)
    on_alpha_one = optimize.minimize_scalar(lambda b: negative_log_likelihood(0.0, b), bounds=_LOG_BOUNDS, method="bounded")
    on_beta_one = optimize.minimize_scalar(lambda a: negative_log_likelihood(a, 0.0), bounds=_LOG_BOUNDS, method="bounded")
    if on_alpha_one.fun <= on_beta_one.fun:
        return NullFit(BETA, (1.0, float(np.exp(on_alpha_one.x))), -float(on_alpha_one.fun), True)
    return NullFit(BETA, (float(np.exp(on_beta_one.x)), 1.0), -float(on_beta_one.fun), True)


def fit_unimodal_logit_normal_binomial(successes: np.ndarray, trials: np.ndarray) -> NullFit:
    """Fit k_i ~ Binomial(n_i, p_i), logit(p_i) ~ Normal(mu, sigma), by maximum likelihood with sigma <= sqrt(2).

    The logit-normal density has one peak for every mu when sigma^2 <= 2: its turning points solve
    logit(p) - mu = sigma^2 (2p - 1), and a line steeper than tanh(y / 2) crosses it once. Wider
    sigmas pile mass at both ends (two peaks for mu near 0), the alternative itself, so they are
    left out of the null. The integral over logit(p) is a trapezoid sum on a grid fine enough for
    the largest follower count.
    """
    from scipy import optimize
    from scipy.special import expit, gammaln, log_expit, logsumexp

    k, n, counts = _counted_pairs(successes, trials)
    # A binomial likelihood is at least 2 / sqrt(n) wide on the logit scale, so at least
    # 1.4 / sqrt(n) in standard deviations (sigma <= 1.41): a step of 1 / sqrt(n) for the largest n
    # keeps the trapezoid sum accurate far beyond the optimiser's tolerance.
    step = float(np.clip(1 / np.sqrt(n.max()), 0.01, 0.1))
    z = np.arange(-_Z_RANGE, _Z_RANGE + step / 2, step)
    log_weights = -(z**2) / 2 + np.log(step / np.sqrt(2 * np.pi))

    log_choose = float(counts @ (gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)))

    def negative_log_likelihood(x: np.ndarray) -> tuple[float, np.ndarray]:
        """Minus the log-likelihood and its gradient in (mu, log sigma)."""
        mu, sigma = x[0], np.exp(x[1])
        logits = mu + sigma * z
        terms = np.outer(k, log_expit(logits)) + np.outer(n - k, log_expit(-logits)) + log_weights
        per_pair = logsumexp(terms, axis=1)
        # d/d logit of each term is k - n p; weighted by each grid point's share of the pair's likelihood.
        slope = np.exp(terms - per_pair[:, None]) * (k[:, None] - np.outer(n, expit(logits)))
        gradient = np.array([counts @ slope.sum(axis=1), counts @ (slope @ (sigma * z))])
        return -(float(counts @ per_pair) + log_choose), -gradient

    rates = np.clip(k / n, 0.5 / n, 1 - 0.5 / n)
    logit_rates = np.log(rates / (1 - rates))
    mean = float(np.average(logit_rates, weights=counts))
    spread = float(np.sqrt(np.average((logit_rates - mean) ** 2, weights=counts)))
    bounds = [(-_Z_RANGE, _Z_RANGE), (np.log(0.01), np.log(MAX_LOGIT_NORMAL_SIGMA))]
    start = [float(np.clip(mean, *bounds[0])), float(np.clip(np.log(max(spread, 0.05)), *bounds[1]))]
    fit = optimize.minimize(negative_log_likelihood, start, jac=True, method="L-BFGS-B", bounds=bounds)
    sigma = float(np.exp(fit.x[1]))
    return NullFit(LOGIT_NORMAL, (float(fit.x[0]), sigma), -float(fit.fun), sigma >= MAX_LOGIT_NORMAL_SIGMA * (1 - 1e-6))


NULL_FITS = (fit_unimodal_beta_binomial, fit_unimodal_logit_normal_binomial)


def _seed_sequence(seed: int | np.random.SeedSequence) -> np.random.SeedSequence:
    return seed if isinstance(seed, np.random.SeedSequence) else np.random.SeedSequence(seed)


def simulate_successes(trials: np.ndarray, fit: NullFit, draws: int, seed: int | np.random.SeedSequence = 0, chunk_rows: int | None = None):
    """Yield blocks of simulated successes k* ~ Binomial(n_i, p*), p* from ``fit``: one row per draw, one column per account.

    Blocks hold at most about two million values. The mixing and the binomial parts draw from two
    streams of their own, so the numbers depend on ``seed`` only, not on the block size.
    """
    trials = np.asarray(trials, dtype=np.int64)
    mixing_stream, binomial_stream = (np.random.default_rng(s) for s in _seed_sequence(seed).spawn(2))
    rows = chunk_rows or max(1, _VALUES_PER_CHUNK // max(len(trials), 1))
    for first in range(0, draws, rows):
        size = (min(rows, draws - first), len(trials))
        yield binomial_stream.binomial(trials, fit.probabilities(mixing_stream, size))


# ---------------------------------------------------------------------------------------------
# The calibrated dip test


@dataclass(frozen=True)
class DipCalibration:
    """Hartigan's dip of k/n with its tabulated (naive) p-value and p-values calibrated for k/n.

    ``p_values`` has one calibrated p per null family; ``calibrated_p`` is the largest: the test
    rejects only when every fitted single-peaked model is rejected. ``naive_rejection_share`` is
    how often the naive 5% test rejected among all simulated single-peaked draws: its false-alarm
    rate on rates like these.
    """

    dip: float
    naive_p: float
    p_values: dict[str, float]
    draws: int
    fits: tuple[NullFit, ...]
    naive_rejection_share: float

    @property
    def calibrated_p(self) -> float:
        return max(self.p_values.values())


def calibrated_dip_test(
    successes: np.ndarray, trials: np.ndarray, draws: int = DEFAULT_BOOTSTRAP_DRAWS, seed: int | np.random.SeedSequence = 0
) -> DipCalibration:
    """The dip of the rates k/n, calibrated by a parametric bootstrap under each fitted single-peaked null.

    For each null family (:data:`NULL_FITS`), with its own child of ``seed``:
    p = (1 + #{dip* >= dip}) / (1 + draws), never 0. Needs at least four accounts. When every
    account has the same rate the dip is 0, which every draw reaches: p = 1 without simulating.
    The result depends on the (k, n) pairs, ``draws`` and ``seed`` only, not on the accounts' order.
    """
    import diptest

    # Accounts in a fixed order (by n, then k), so the simulated draws and p depend on the accounts'
    # counts and the seed, never on the order rows arrive in.
    order = np.lexsort((np.asarray(successes), np.asarray(trials)))
    successes = np.asarray(successes, dtype=np.int64)[order]
    trials = np.asarray(trials, dtype=np.int64)[order]
    if len(successes) < MIN_DIP_TEST_ACCOUNTS:
        raise ValueError(f"the dip test needs at least {MIN_DIP_TEST_ACCOUNTS} accounts, got {len(successes)}")
    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a whole number of at least 1, got {draws!r}")
    rates = successes / trials
    dip, naive_p = diptest.diptest(rates)
    if np.ptp(rates) == 0:
        return DipCalibration(float(dip), float(naive_p), {family: 1.0 for family in FAMILIES}, int(draws), (), float("nan"))
    fits = tuple(fit(successes, trials) for fit in NULL_FITS)
    p_values = {}
    naive_rejections = 0
    for fit, child in zip(fits, _seed_sequence(seed).spawn(len(fits))):
        simulated_dips = np.empty(draws)
        done = 0
        for block in simulate_successes(trials, fit, draws, child):
            for row in block / trials:  # one dip per draw; the dip itself runs in C
                simulated_dips[done], simulated_p = diptest.diptest(row)
                naive_rejections += simulated_p < SIGNIFICANCE
                done += 1
        # A relative tolerance: dips computed from the same counts in another order may differ in the last bits.
        p_values[fit.family] = (1 + np.count_nonzero(simulated_dips >= dip * (1 - 1e-12))) / (1 + draws)
    return DipCalibration(float(dip), float(naive_p), p_values, int(draws), fits, naive_rejections / (draws * len(fits)))


# ---------------------------------------------------------------------------------------------
# Shares, the test per group, and the verdict


def verdict(row: dict[str, Any] | pd.Series) -> str:
    """The conclusion a row of :attr:`TwoCamps.table` supports.

    "two camps" needs the calibrated test to reject at 5% and both ends to hold a camp (see the
    module docstring); a rejection with a thin end is "more than one peak, not two camps"; no
    rejection is "no evidence of two camps" (at this sample size: absence is not shown).
    """
    p = row["calibrated_p"]
    if not np.isfinite(p):
        return NOT_TESTED
    if p > SIGNIFICANCE:
        return NO_EVIDENCE
    return (
        TWO_CAMPS
        if _camp_sized(row["accounts_below"], row["accounts"]) and _camp_sized(row["accounts_above"], row["accounts"])
        else NOT_TWO_CAMPS
    )


def _camp_sized(members: int, accounts: int) -> bool:
    return members >= MIN_CAMP_ACCOUNTS and members >= MIN_CAMP_SHARE * accounts


@dataclass(frozen=True)
class TwoCamps:
    """Shares of accounts following back nearly all / nearly none of their followers, and the calibrated test.

    ``table`` has one row for all eligible accounts and one per ``kind`` label: accounts, share
    (and number) above ``high`` and below ``low``, share between, median follow-back rate, the
    dip statistic, its calibrated p-value (the larger of those under the beta and the logit-normal
    null, both kept), the naive tabulated p-value (not valid for k/n, kept for comparison) with its
    false-alarm rate in the simulated draws, the fitted nulls' parameters, and the :func:`verdict`.
    """

    table: pd.DataFrame
    min_followers: int
    high: float
    low: float
    kind_test_p: float
    draws: int = DEFAULT_BOOTSTRAP_DRAWS
    seed: int = 0
    notes: tuple[str, ...] = ()

    def readable(self) -> pd.DataFrame:
        """The table a reader sees: shares, the dip, the calibrated p-value and the conclusion, under plain names."""
        columns = {
            "group": "group",
            "accounts": "accounts",
            "share_above": f"follow back > {self.high:.0%}",
            "share_between": f"{self.low:.0%}–{self.high:.0%}",
            "share_below": f"follow back < {self.low:.0%}",
            "median_follow_back_rate": "median rate",
            "dip": "dip statistic",
            "calibrated_p": "calibrated p",
            "verdict": "conclusion",
        }
        return self.table[list(columns)].rename(columns=columns)

    def overall(self) -> dict[str, Any]:
        rows = self.table[self.table["group"] == ALL_ACCOUNTS]
        if rows.empty:
            return {
                "accounts": 0,
                "share_above": np.nan,
                "share_below": np.nan,
                "dip_p_value": np.nan,
                "calibrated_p": np.nan,
                "naive_dip_p": np.nan,
                "verdict": NOT_TESTED,
            }
        return rows.iloc[0].to_dict()

    def as_dict(self) -> dict[str, Any]:
        """What study 02 records about the test, for tests and later studies."""
        return {
            "min_followers": self.min_followers,
            "high": self.high,
            "low": self.low,
            "kind_test_p": self.kind_test_p,
            "bootstrap_draws": self.draws,
            "seed": self.seed,
            "significance": SIGNIFICANCE,
            "min_camp_share": MIN_CAMP_SHARE,
            "min_camp_accounts": MIN_CAMP_ACCOUNTS,
            "verdict": self.overall()["verdict"],
            "table": self.table.to_dict("records"),
        }


COLUMNS = [
    "group",
    "accounts",
    "share_above",
    "share_between",
    "share_below",
    "accounts_above",
    "accounts_below",
    "median_follow_back_rate",
    "dip",
    "calibrated_p",
    "p_beta_null",
    "p_logit_normal_null",
    "naive_dip_p",
    "naive_rejection_share",
    "null_beta_alpha",
    "null_beta_beta",
    "null_logit_mean",
    "null_logit_sd",
    "verdict",
]


def _camp_row(
    group: str, followed_back: np.ndarray, followers: np.ndarray, high: float, low: float, draws: int, seed: np.random.SeedSequence
) -> dict[str, Any]:
    n = len(followers)
    rates = followed_back / followers if n else np.empty(0)
    test = calibrated_dip_test(followed_back, followers, draws, seed) if n >= MIN_DIP_TEST_ACCOUNTS else None
    row = {
        "group": group,
        "accounts": n,
        "share_above": float((rates > high).mean()) if n else np.nan,
        "share_between": float(((rates >= low) & (rates <= high)).mean()) if n else np.nan,
        "share_below": float((rates < low).mean()) if n else np.nan,
        "accounts_above": int((rates > high).sum()),
        "accounts_below": int((rates < low).sum()),
        "median_follow_back_rate": float(np.median(rates)) if n else np.nan,
        "dip": test.dip if test else np.nan,
        "calibrated_p": test.calibrated_p if test else np.nan,
        "p_beta_null": test.p_values[BETA] if test else np.nan,
        "p_logit_normal_null": test.p_values[LOGIT_NORMAL] if test else np.nan,
        "naive_dip_p": test.naive_p if test else np.nan,
        "naive_rejection_share": test.naive_rejection_share if test else np.nan,
    }
    fits = {fit.family: fit.parameters for fit in test.fits} if test else {}
    row["null_beta_alpha"], row["null_beta_beta"] = fits.get(BETA, (np.nan, np.nan))
    row["null_logit_mean"], row["null_logit_sd"] = fits.get(LOGIT_NORMAL, (np.nan, np.nan))
    return {**row, "verdict": verdict(row)}


def eligible_counts(behaviour: AccountBehaviour, min_followers: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """(k, n): followers followed back and followers of each account with at least ``min_followers`` followers."""
    eligible = behaviour.table[behaviour.table["followers"] >= min_followers]
    return eligible["mutual"].to_numpy(np.int64), eligible["followers"].to_numpy(np.int64)


def two_camps(
    behaviour: AccountBehaviour,
    min_followers: int = 5,
    high: float = HIGH_FOLLOW_BACK,
    low: float = LOW_FOLLOW_BACK,
    draws: int = DEFAULT_BOOTSTRAP_DRAWS,
    seed: int = 0,
    max_accounts: int | None = DEFAULT_MAX_TEST_ACCOUNTS,
) -> TwoCamps:
    """Test "accounts either follow back nearly everybody or nearly nobody" on accounts with enough followers.

    ``behaviour`` is ``metrics.account_behaviour(...)``: its ``mutual`` and ``followers`` columns
    are k and n. Each group (all accounts, then each kind in sorted order) gets its own child of
    ``numpy.random.SeedSequence(seed)``, so the numbers depend on ``seed`` and ``draws`` only.
    Beyond ``max_accounts`` eligible accounts (None: no limit), everything is computed on a random
    sample of that many (drawn with ``seed``): shares at both ends are then estimates, precise to
    well under a percentage point, and the test keeps its level on a random sample.
    """
    from scipy import stats

    if isinstance(draws, bool) or not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a whole number of at least 1, got {draws!r}")
    table = behaviour.table
    if not behaviour.observable or behaviour.owner_only or len(table) < 2:
        reason = (
            "it needs the followers of many accounts"
            if behaviour.owner_only or behaviour.observable
            else "mutual follows are not observable"
        )
        return TwoCamps(
            pd.DataFrame(columns=COLUMNS),
            min_followers,
            high,
            low,
            float("nan"),
            draws,
            seed,
            (f"The two-camps test is not computed: {reason}.",),
        )
    eligible = table[table["followers"] >= min_followers]
    notes = [
        f"{len(eligible):,} of {len(table):,} accounts have at least {min_followers} followers and enter the test; "
        "fewer followers make the rate too coarse (1 of 2 is already 50%)."
    ]
    if max_accounts is not None and len(eligible) > max_accounts:
        rng = np.random.default_rng([seed, 1])  # a stream apart from the groups' children of SeedSequence(seed)
        kept = np.sort(rng.choice(len(eligible), size=max_accounts, replace=False))
        notes.append(
            f"Testing so many accounts would take long (the time grows with accounts times simulated networks): the shares and "
            f"the test use a random sample of {max_accounts:,} of them, drawn with the seed (the camps_max_accounts parameter). "
            "A random sample keeps the test's level; the shares are estimates within about half a percentage point (95%)."
        )
        eligible = eligible.iloc[kept]
    groups = {ALL_ACCOUNTS: eligible}
    groups.update({str(kind): rows for kind, rows in eligible.dropna(subset=["kind"]).groupby("kind", sort=True)})  # a handful of kinds
    seeds = np.random.SeedSequence(seed).spawn(len(groups))
    rows = [
        _camp_row(name, rows["mutual"].to_numpy(np.int64), rows["followers"].to_numpy(np.int64), high, low, draws, child)
        for (name, rows), child in zip(groups.items(), seeds)
    ]
    kind_rates = [rows["follow_back_rate"].to_numpy(float) for name, rows in groups.items() if name != ALL_ACCOUNTS]
    kind_p = float("nan")
    comparable = [rates for rates in kind_rates if len(rates) >= 2]
    if len(comparable) >= 2 and np.ptp(np.concatenate(comparable)) > 0:
        kind_p = float(stats.kruskal(*comparable).pvalue)
    if len(groups) == 1:
        notes.append("No account carries a kind label (brand, person, ...), so kinds are not compared.")
    if rows[0]["accounts"] < MIN_DIP_TEST_ACCOUNTS:
        notes.append(f"Fewer than {MIN_DIP_TEST_ACCOUNTS} accounts qualify: the dip test is not computed.")
    return TwoCamps(pd.DataFrame(rows, columns=COLUMNS), min_followers, high, low, kind_p, draws, seed, tuple(notes))


# ---------------------------------------------------------------------------------------------
# In words


def _percent(value: float) -> str:
    return f"{value:.1%}" if np.isfinite(value) else "undefined"


def _ends(overall: dict[str, Any], high: float, low: float, camp_sized: bool) -> str:
    """The ends of the distribution that do (or do not) hold a camp, in words."""
    ends = [
        (overall["accounts_below"], overall["share_below"], f"fewer than {low:.0%}"),
        (overall["accounts_above"], overall["share_above"], f"more than {high:.0%}"),
    ]
    return " and ".join(
        f"{'' if camp_sized else 'only '}{share:.1%} ({count:,} account{'s' if count != 1 else ''}) follow back {what}"
        for count, share, what in ends
        if _camp_sized(count, overall["accounts"]) == camp_sized
    )


def camps_in_words(camps: TwoCamps) -> str:
    """The shares at both ends, the calibrated test's conclusion, and the kinds; empty when nothing was measured."""
    overall = camps.overall()
    if not overall["accounts"]:
        return ""
    text = (
        f"Of {overall['accounts']:,} accounts with at least {camps.min_followers} followers, {_percent(overall['share_above'])} follow "
        f"back more than {camps.high:.0%} of their followers and {_percent(overall['share_below'])} fewer than {camps.low:.0%} "
        f"(Weng et al. 2010 found 72.4% above 80% on Twitter)."
    )
    conclusion = overall["verdict"]
    p = overall["calibrated_p"]
    method = (
        f"{p_words(p)}, the larger of two p-values, each from {camps.draws:,} networks simulated with these follower "
        "counts from a fitted single-peaked model, one beta-shaped and one logit-normal"
    )
    camp = f"at least {MIN_CAMP_SHARE:.0%} of the accounts and at least {MIN_CAMP_ACCOUNTS} accounts"
    if conclusion == TWO_CAMPS:
        text += (
            f" The accounts split into two camps: the calibrated dip test rejects a single peak ({method}), "
            f"and each end holds {camp}: {_ends(overall, camps.high, camps.low, True)}."
        )
    elif conclusion == NOT_TWO_CAMPS:
        text += (
            f" The follow-back rates are not spread like either single-peaked model: the calibrated dip test rejects both "
            f"({method}). But the accounts do not split into two camps: {_ends(overall, camps.high, camps.low, False)}, "
            f"while each camp needs {camp}."
        )
    elif conclusion == NO_EVIDENCE:
        text += (
            f" No evidence of two camps at this sample size: the calibrated dip test does not reject a single peak "
            f"({method}). This does not show that the rates have a single peak: a smaller second camp could go undetected "
            f"among {overall['accounts']:,} accounts."
        )
    naive = overall["naive_dip_p"]
    if conclusion != NOT_TESTED and np.isfinite(naive) and (naive <= SIGNIFICANCE) != (p <= SIGNIFICANCE):
        text += (
            f" Hartigan's dip test read from its published table gives {p_words(naive)}, but that table assumes continuous data "
            "and is not valid for fractions of follower counts, with their ties at 0% and 100%"
        )
        share = overall["naive_rejection_share"]
        text += f": it rejected a single peak in {share:.0%} of the simulated single-peaked networks." if np.isfinite(share) else "."
    kinds = camps.table[camps.table["group"] != ALL_ACCOUNTS]
    if len(kinds):
        text += (
            " By kind: "
            + "; ".join(
                f"{g}: {_percent(a)} above, {_percent(b)} below ({n:,} accounts)"
                for g, a, b, n in zip(kinds["group"], kinds["share_above"], kinds["share_below"], kinds["accounts"])
            )
            + "."
        )
        if np.isfinite(camps.kind_test_p):
            text += f" Kruskal–Wallis test of equal follow-back rates across kinds: {p_words(camps.kind_test_p)}."
    return text

"""The study's conclusion in plain words, claiming no more than the designs support.

Three limits shape the wording, each shown on planted truth (``benchmarks/validate_inference.py``):

- Fixed effects for every account remove what is constant about each account, not what is
  particular to a pair: two accounts that already know each other both follow back and engage
  more. Where the data says something about the pair (a shared community) it is controlled for;
  what remains is put in numbers by the E-value (VanderWeele and Ding 2017): how strongly an
  unmeasured trait of the pair would have to raise both the chance of a follow-back and
  engagement to explain the association away.
- Anticipation (engagement rising before the follow-back) biases every comparison of states;
  only the event study can see it, and only within its leads.
- An interval that includes 1 means these data cannot tell the effect from none, never that
  there is none.
"""

from __future__ import annotations

import math

from ..wording import owner_comparison_sentences
from .event_study import TimingResult
from .models import Estimate, ModelFit
from .pair_controls import PAIR_CONTROLS, pair_controls_words


def _ratio_words(estimate: Estimate) -> str:
    low, high = estimate.interval()
    return f"{estimate.value:.2f} times (95% interval {low:.2f} to {high:.2f})"


def e_value(ratio: float) -> float:
    """VanderWeele and Ding's E-value of a ratio: ``RR + sqrt(RR (RR - 1))`` with RR taken above 1.

    The minimum strength (as a ratio, on both the treatment and the outcome) an unmeasured
    confounder would need to move the ratio to 1. For 1 itself it is 1.
    """
    if not (ratio > 0 and math.isfinite(ratio)):
        return math.nan
    rr = ratio if ratio >= 1 else 1 / ratio
    return rr + math.sqrt(rr * (rr - 1))


def e_value_of_interval(estimate: Estimate) -> float:
    """The E-value of the interval limit closest to 1 (1 when the interval includes 1)."""
    low, high = estimate.interval()
    if low <= 1 <= high:
        return 1.0
    return e_value(low if low > 1 else high)


def sensitivity_sentence(estimate: Estimate, pair_controls: tuple[str, ...] = ()) -> str:
    """What an unmeasured trait of the pair would have to do to explain the association away.

    ``pair_controls`` are the traits of the pair the model accounted for (:mod:`.pair_controls`).
    """
    words = pair_controls_words(pair_controls)
    measured = (
        f"{words[0].upper()}{words[1:]} {'is' if len(pair_controls) == 1 else 'are'} accounted for; other traits of the pair "
        "(already knowing each other, shared interests) are not"
        if pair_controls
        else "Nothing about the pair itself (such as a shared community or common followees) is in the data, so traits of the "
        "pair (already knowing each other, shared interests) are not accounted for"
    )
    low, high = estimate.interval()
    if low <= 1 <= high:
        return (
            measured + ". The interval includes 1: these data cannot tell the association from none, which is not "
            "evidence that there is none."
        )
    return (
        measured + ", and fixed effects for each account cannot remove them. A trait of the pair that multiplied both the "
        f"chance of a follow-back and engagement by {e_value(estimate.value):.2f} each could explain the whole association, "
        f"and one of {e_value_of_interval(estimate):.2f} could make it indistinguishable from none (E-values, VanderWeele "
        "and Ding 2017)."
    )


def plain_conclusion(
    adjusted: ModelFit,
    raw: ModelFit | None = None,
    timing: TimingResult | None = None,
    kinds_label: str = "engagement",
    timing_note: str = "",
) -> str:
    """Sentences stating the effect with guarded wording; causal words only when the event study supports them.

    ``timing_note`` says where the timing design ran when not on the same data as the models (a sentence).
    """
    estimate = adjusted.mutual
    low, high = estimate.interval()
    pair_controls = tuple(c for c in adjusted.spec.controls if c in PAIR_CONTROLS)
    accounted = "every account's own activity and popularity" + (f" and {pair_controls_words(pair_controls)}" if pair_controls else "")
    if low <= 1 <= high:
        sentences = [
            f"Once {accounted} are accounted for, a follow-back is not associated with a difference in the follower's "
            f"{kinds_label} toward the account that followed back that these data can distinguish from none: {_ratio_words(estimate)}."
        ]
    else:
        direction = "more" if estimate.value > 1 else "less"
        sentences = [
            f"A follow-back is associated with {direction} {kinds_label} from the follower toward the account that followed back: "
            f"{_ratio_words(estimate)} the rate of one-way follows, after accounting for {accounted} (two-way clustered interval)."
        ]
    if raw is not None:
        change = "lowers" if estimate.value < raw.mutual.value else "raises"
        sentences.append(
            f"Without any adjustment the ratio is {raw.mutual.value:.2f}: accounting for who follows back and who is followed {change} it."
        )
    sentences.append(sensitivity_sentence(estimate, pair_controls))
    if timing is not None:
        if timing_note:
            sentences.append(timing_note)
        sentences.append(timing.reason)
        if timing.verdict != "supports":
            sentences.append("The association above is therefore not read as an effect of the follow-back.")
    else:
        sentences.append("Without follow and engagement times the timing of the effect cannot be checked, so no causal claim is made.")
    return " ".join(sentences)


def owner_conclusion(outgoing: Estimate | None, incoming: Estimate | None) -> str:
    """The owner's comparisons in words: associations in each observed direction, never more.

    ``outgoing``: the owner's engagement toward followees, mutual against not; ``incoming``:
    followers' engagement toward the owner, mutual (the owner followed back) against not.
    Either may be ``None`` (not observed, or one group never engaged).
    """
    numbers = [(e.value, *e.interval()) if e is not None else None for e in (outgoing, incoming)]
    return " ".join(
        owner_comparison_sentences(*numbers)
        + [
            "Each is an association that cannot be adjusted for who follows back: the other accounts' own activity and popularity "
            "are not in the data."
        ]
    )

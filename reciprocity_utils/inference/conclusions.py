"""The study's conclusion in plain words, claiming no more than the designs support."""

from __future__ import annotations



from .event_study import TimingResult
from .models import Estimate, ModelFit


# ---------------------------------------------------------------------------------------------
# Plain conclusion


def _ratio_words(estimate: Estimate) -> str:
    low, high = estimate.interval()
    return f"{estimate.value:.2f} times (95% interval {low:.2f} to {high:.2f})"


def plain_conclusion(adjusted: ModelFit, raw: ModelFit | None = None, timing: TimingResult | None = None, kinds_label: str = "engagement") -> str:
    """Sentences stating the effect with guarded wording; causal words only when the timing design supports them."""
    estimate = adjusted.mutual
    low, high = estimate.interval()
    if low <= 1 <= high:
        sentences = [
            f"Once both accounts' own activity and popularity are accounted for, a follow-back is not associated with a "
            f"difference in the follower's {kinds_label} toward the account that followed back that these data can distinguish "
            f"from none: {_ratio_words(estimate)}."
        ]
    else:
        direction = "more" if estimate.value > 1 else "less"
        sentences = [
            f"A follow-back is associated with {direction} {kinds_label} from the follower toward the account that followed back: "
            f"{_ratio_words(estimate)} the rate of one-way follows, after accounting for every account's own activity and popularity "
            "(two-way clustered interval)."
        ]
    if raw is not None:
        change = "lowers" if estimate.value < raw.mutual.value else "raises"
        sentences.append(
            f"Without any adjustment the ratio is {raw.mutual.value:.2f}: accounting for who follows back and who is followed "
            f"{change} it."
        )
    if timing is not None:
        lead = timing.lead
        if timing.supports_causal_reading:
            sentences.append(
                f"The timing design supports a causal reading: within the same pairs, engagement changed by a factor "
                f"{_ratio_words(timing.mutual)} after the follow-back and did not rise in the {timing.lead_days:g} days before it "
                f"({_ratio_words(lead)})."
            )
        elif lead.interval()[0] > 1:
            sentences.append(
                f"Engagement was already higher in the {timing.lead_days:g} days before the follow-back ({_ratio_words(lead)}): "
                "follow-backs may partly answer engagement rather than cause it, so no causal claim is made."
            )
        elif lead.interval()[1] < 1:
            sentences.append(
                f"Engagement was lower in the {timing.lead_days:g} days before the follow-back than earlier ({_ratio_words(lead)}), "
                "a pre-trend the design cannot explain, so no causal claim is made."
            )
        else:
            sentences.append(
                "Within the same pairs, the change at the follow-back cannot be told apart from none "
                f"({_ratio_words(timing.mutual)}), so no causal claim is made."
            )
    else:
        sentences.append("Without follow and engagement times the timing of the effect cannot be checked, so no causal claim is made.")
    return " ".join(sentences)



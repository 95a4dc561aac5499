"""How numbers are written for readers, shared by every layer: p-values and shares in words, never
scientific notation."""

from __future__ import annotations

import math


def p_text(p: float) -> str:
    """A p-value as "< 0.001", "0.004" or "0.23" (no scientific notation; 'p = ' is the caller's)."""
    if p is None or not math.isfinite(p):
        return "not computed"
    if p < 0.001:
        return "< 0.001"
    return f"{p:.3f}" if p < 0.01 else f"{p:.2f}"


def p_words(p: float) -> str:
    """A p-value as "p < 0.001" or "p = 0.04"."""
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def decimal(value: float, places: int = 4) -> str:
    """A number with ``places`` decimals, or as many as two significant digits need (0.00011, never
    1.1e-04 nor 0.0000: randomized networks of a sparse network return almost nothing)."""
    if not math.isfinite(value) or value == 0 or abs(value) >= 10 ** -(places - 1):
        return f"{value:.{places}f}"
    digits = min(12, 1 - math.floor(math.log10(abs(value))))
    return f"{value:.{max(places, digits)}f}"


def percent(share: float) -> str:
    """A share as a reader says it: 52%, 3.4%, under 0.1%."""
    if share == 0:
        return "0%"
    if share < 0.001:
        return "under 0.1%"
    return f"{share:.0%}" if share >= 0.1 else f"{share:.1%}"


OWNER_COMPARISON_WORDS = (
    "The owner engages {r:.2f} times as much with accounts that follow back as with those that do not",
    "Followers engage {r:.2f} times as much with the owner when the owner follows them back as when not",
)


def owner_comparison_sentences(outgoing: tuple[float, float, float] | None, incoming: tuple[float, float, float] | None) -> list[str]:
    """The owner's two comparisons (ratio, interval low, high; ``None`` when not estimated), one sentence each."""
    sentences = []
    for numbers, words in zip((outgoing, incoming), OWNER_COMPARISON_WORDS):
        if numbers is None:
            continue
        ratio, low, high = numbers
        text = words.format(r=ratio) + f" (95% interval {low:.2f} to {high:.2f})"
        if low <= 1 <= high:
            text += ": no difference these data can distinguish from none, which is not evidence that there is none"
        sentences.append(text + ".")
    return sentences

"""What the data records about the pair itself, which fixed effects for each account cannot absorb.

Fixed effects for a and for b remove every trait of either account, measured or not, but not an
affinity between the two (knowing each other, shared interests), which can raise both the chance
of a follow-back and engagement. Three traits of the pair can be read from follow data:

- whether the two share a community, where the source labels communities;
- whether both are brands, where the source labels account kinds (one brand following another
  is a business relation, unlike a person and a brand);
- how many accounts both follow: common followees, a standard measure of how close two accounts
  are in a network (Adamic and Adar 2003). The pair itself is left out by construction: a
  follows b and perhaps b follows a, but neither follows itself, so neither counts as a
  followee of both, and whether b followed back does not enter its own control.

They remove only the part of the pair's affinity they record; every conclusion still carries an
E-value for what they do not.
"""

from __future__ import annotations

from ..followee_overlap import shared_followees

__all__ = ["PAIR_CONTROLS", "PAIR_CONTROL_WORDS", "pair_controls_words", "shared_followees"]

PAIR_CONTROLS = ("same_community", "both_brands", "log_shared_followees")
PAIR_CONTROL_WORDS = {
    "same_community": "whether the two share a community",
    "both_brands": "whether both are brands",
    "log_shared_followees": "how many accounts both follow",
}


def pair_controls_words(controls: tuple[str, ...]) -> str:
    """The pair controls of a model in words: "whether the two share a community and how many accounts both follow"."""
    words = [PAIR_CONTROL_WORDS[c] for c in controls if c in PAIR_CONTROL_WORDS]
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]

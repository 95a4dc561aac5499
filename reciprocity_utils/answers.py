"""Each study's answer to its question in plain sentences, for the front page.

Built from the recorded results (``<stem>.results.json``: headline and details), never from a
page's HTML and never fixed text about a figure. Every answer says how strong its evidence is
and, where the source cannot answer, says so and why; a quantity the source does not observe
is never written as zero.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from .model import Coverage, engine_name, follow_times_sentence
from .wording import owner_comparison_sentences, p_words, percent

QUESTIONS = {
    "01": "What do these data hold, and what could they observe?",
    "02": "How reciprocal is this network, and do follow-backs come with engagement both ways?",
    "03": "Does a follow-back predict more engagement?",
    "04": "Which follow strategy wins, and under which assumptions?",
}


@dataclass
class Answer:
    question: str
    sentences: list[str] = field(default_factory=list)
    # "measured", "associational", "causal reading supported", "not observable", "simulated"
    strength: str = "measured"

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _coverage(results: dict[str, Any]) -> dict[str, Any]:
    return (results.get("details") or {}).get("coverage") or {}


def _collected(results: dict[str, Any]) -> bool:
    """Whether the data were collected from a platform's API (``reciprocity collect``) rather than exported."""
    return ((results.get("details") or {}).get("provenance") or {}).get("loader") == "collected"


def _engine_without_engagement(coverage: dict[str, Any]) -> bool:
    """A whole network an engine measured from its follows alone: whether the source records engagement is not known from that."""
    return bool(coverage.get("engine")) and not coverage.get("engine_read_engagement")


def _missing_engagement_reason(coverage: dict[str, Any]) -> str:
    if _engine_without_engagement(coverage):
        return f"the {engine_name(coverage['engine'])} engine measured the whole network from its follows alone"
    if coverage.get("engagement_observed") == "none":
        return "the source records no engagement"
    if coverage.get("engagement_observed") == "owner_outgoing":
        return "a personal export records only what its owner did, not the engagement the owner received"
    return "the data do not allow it"


def answer_01(results: dict[str, Any]) -> Answer:
    head, coverage = results.get("headline") or {}, _coverage(results)
    answer = Answer(QUESTIONS["01"])
    accounts, follows = _number(head.get("accounts")), _number(head.get("follows"))
    if accounts is not None and follows is not None:
        answer.sentences.append(f"{accounts:,.0f} accounts and {follows:,.0f} follows.")
    scope = coverage.get("scope")
    if scope == "ego":
        known = [
            words
            for key, words in (("followers_known", "who follows the owner"), ("following_known", "whom the owner follows"))
            if coverage.get(key)
        ]
        what = "A collection around one owner from the platform's API" if _collected(results) else "A personal export"
        answer.sentences.append(
            what
            + ": it shows "
            + (" and ".join(known) if known else "neither follow direction")
            + ", not the follows among other accounts."
        )
    events = _number(head.get("engagement_events"))
    if _engine_without_engagement(coverage):
        answer.sentences.append(
            f"Engagement and follow times are not read: the {engine_name(coverage['engine'])} engine measured the follows alone."
        )
    elif coverage.get("engine") and events is not None and coverage.get("engagement_observed") == "everyone":
        answer.sentences.append(
            f"{events:,.0f} engagement events between accounts, counted over the whole network by the {engine_name(coverage['engine'])} engine."
        )
    elif coverage.get("engagement_observed") == "none" or events is None:
        answer.sentences.append("No engagement is recorded.")
    elif coverage.get("engagement_observed") == "owner_outgoing":
        answer.sentences.append(
            f"{events:,.0f} engagement events, all by the owner: what others did toward the owner is not in the export."
        )
    else:
        answer.sentences.append(f"{events:,.0f} engagement events between accounts.")
    if not coverage.get("engine"):
        answer.sentences.append(follow_times_sentence(bool(coverage.get("follow_times")), coverage.get("snapshots")))
    elif not _engine_without_engagement(coverage):
        known = {f.name for f in dataclasses.fields(Coverage)}
        answer.sentences.append(Coverage(**{k: v for k, v in coverage.items() if k in known}).follow_times_words())
    repaired = _number(head.get("rows_repaired"))
    answer.sentences.append(
        "No input row needed repair." if not repaired else f"{repaired:,.0f} input rows were repaired (listed on the page)."
    )
    return answer


def answer_02(results: dict[str, Any]) -> Answer:
    head, details = results.get("headline") or {}, results.get("details") or {}
    coverage = _coverage(results)
    answer = Answer(QUESTIONS["02"])
    r = _number(head.get("arc_reciprocity"))
    if r is None:
        answer.strength = "not observable"
        answer.sentences.append(f"Cannot be answered from this source, because {_follows_missing(coverage)}: a follow-back cannot be seen.")
        return answer
    sentence = f"{percent(r)} of follows are returned"
    rho = _number(head.get("rho"))
    if rho is not None:
        sentence += f" ({rho:.2f} on a scale where 0 is what the network's density alone would give and 1 is full reciprocity)"
    answer.sentences.append(sentence + ".")
    null = details.get("null_model") or {}
    z, p, mean = _number(head.get("null_z")), _number(head.get("null_p")), _number(null.get("null_mean_r"))
    if z is not None and p is not None and mean is not None:
        if p <= 0.05:
            direction = "more" if z > 0 else "fewer"
            answer.sentences.append(
                f"That is {direction} than chance: networks randomized with the same numbers of followers and "
                f"followees return {percent(mean)} ({p_words(p)})."
            )
        else:
            answer.sentences.append(
                f"Randomized networks with the same degrees return {percent(mean)}: these data cannot tell the "
                f"difference from chance ({p_words(p)}), which is not evidence that there is none."
            )
    camps = (details.get("two_camps") or {}).get("verdict")
    above, below = _number(head.get("share_follow_back_above_80")), _number(head.get("share_follow_back_below_20"))
    if camps and above is not None and below is not None:
        answer.sentences.append(
            f"{percent(above)} of accounts follow back over 80% of their followers and {percent(below)} under 20%; "
            f"the calibrated test finds {camps}."
        )
    both, one, none = (
        _number(head.get(k)) for k in ("mutual_pairs_engaged_both_ways", "mutual_pairs_engaged_one_way", "mutual_pairs_dormant")
    )
    mutuals, others = _number(head.get("owner_engages_mutuals")), _number(head.get("owner_engages_followees_not_following_back"))
    if coverage.get("engagement_observed") == "owner_outgoing" and mutuals is not None and others is not None:
        answer.sentences.append(
            f"The owner engaged with {percent(mutuals)} of the accounts who follow back and {percent(others)} of "
            "those who do not (what the owner did is all a personal export records)."
        )
    if coverage.get("engagement_observed") != "everyone" or both is None:
        answer.sentences.append(
            f"Whether mutual pairs engage both ways cannot be seen here, because {_missing_engagement_reason(coverage)}."
        )
    else:
        answer.sentences.append(
            f"Of mutual pairs, {percent(both)} engage both ways, {percent(one or 0.0)} one way only and {percent(none or 0.0)} not at all."
        )
    return answer


def answer_03(results: dict[str, Any]) -> Answer:
    head, details = results.get("headline") or {}, results.get("details") or {}
    coverage = _coverage(results)
    answer = Answer(QUESTIONS["03"])
    ratio, low, high = (_number(head.get(k)) for k in ("adjusted_irr", "adjusted_irr_ci_low", "adjusted_irr_ci_high"))
    owner_sentences = _owner_comparisons(head)
    if (ratio is None or low is None or high is None) and owner_sentences:
        answer.strength = "associational"
        answer.sentences.extend(owner_sentences)
        answer.sentences.append(
            "These are associations from one owner's contacts, not adjusted for the other accounts' own activity "
            "and popularity; whether the follow-back causes the difference cannot be checked from them."
        )
        if coverage.get("engagement_observed") == "owner_outgoing":
            answer.sentences.append(
                f"Whether others engage more with the owner once followed back cannot be seen, because "
                f"{_missing_engagement_reason(coverage)}."
            )
        return answer
    if ratio is None or low is None or high is None:
        answer.strength = "not observable"
        reason = (
            _follows_missing(coverage)
            if coverage.get("followers_known") is False or coverage.get("following_known") is False
            else _missing_engagement_reason(coverage)
        )
        answer.sentences.append(
            f"Cannot be answered from this source, because {reason}. It needs both follow directions among "
            "the accounts and the engagement between them."
        )
        return answer
    timing = details.get("timing") or {}
    verdict = str(timing.get("verdict") or "")
    if low <= 1 <= high:
        answer.strength = "associational"
        answer.sentences.append(
            f"No difference these data can distinguish from none: engagement toward an account that followed back "
            f"is {ratio:.2f} times that toward one that did not (95% interval {low:.2f} to {high:.2f}), which is not "
            "evidence that there is no effect."
        )
    else:
        answer.sentences.append(
            f"Yes, as an association: a follower engages {ratio:.2f} times as much with an account that "
            f"followed back as with one that did not (95% interval {low:.2f} to {high:.2f}), after accounting for "
            "each account's own activity and popularity."
            if ratio > 1
            else f"No, the opposite, as an association: a follower engages only {ratio:.2f} times as much with an "
            f"account that followed back as with one that did not (95% interval {low:.2f} to {high:.2f}), after "
            "accounting for each account's own activity and popularity."
        )
        answer.strength = "causal reading supported" if verdict.startswith("supports") else "associational"
    # On a whole network measured by an engine, the timing check runs on a random subgraph: said where it is used.
    where = " (checked on a random subgraph of the network: the check needs each event's time)" if timing.get("on_subgraph") else ""
    if answer.strength == "causal reading supported":
        answer.sentences.append(
            f"The timing of engagement around each follow-back supports reading it as an effect of the follow-back{where}, "
            "though a rise beginning long before the follow-back cannot be ruled out."
        )
    elif timing:
        reason = (timing.get("reason") or verdict).rstrip(".")
        answer.sentences.append(f"It is not shown to be an effect of the follow-back{where}: " + reason[:1].lower() + reason[1:] + ".")
    else:
        answer.sentences.append("Without follow and engagement times, whether it is an effect of the follow-back cannot be checked.")
    return answer


def _owner_comparisons(head: dict[str, Any]) -> list[str]:
    """The owner's comparisons (personal data), one sentence per direction that was estimated."""
    numbers = []
    for key in ("owner_irr", "toward_owner_irr"):
        values = tuple(_number(head.get(k)) for k in (key, f"{key}_ci_low", f"{key}_ci_high"))
        numbers.append(values if None not in values else None)
    return owner_comparison_sentences(*numbers)


def answer_04(results: dict[str, Any]) -> Answer:
    head, details = results.get("headline") or {}, results.get("details") or {}
    answer = Answer(QUESTIONS["04"], strength="simulated")
    person, brand = head.get("person_winner"), head.get("brand_winner")
    if not person and not brand:
        answer.strength = "not observable"
        answer.sentences.append("The simulation did not run on these data.")
        return answer
    replayed = _replay_sentences(details) if _coverage(results).get("scope") == "ego" else []
    if replayed:
        # A personal export's owner gets their own followers first; the simulation is generic, not theirs.
        answer.strength = "replayed"
        answer.sentences.extend(replayed)
    chosen = ([f"a person does best with “{person}”"] if person else []) + ([f"a brand with “{brand}”"] if brand else [])
    answer.sentences.append(
        ("In a generic simulation, not calibrated on this export, " if replayed else "In the simulation, ") + " and ".join(chosen) + "."
    )
    calibration = details.get("rate_ratio_calibration") or {}
    point, low, high = (_number(calibration.get(k)) for k in ("point", "low", "high"))
    case = calibration.get("case")
    shares = [_number(head.get(f"{who}_winner_share_of_runs")) for who in ("person", "brand")]
    if all(share is not None for share in shares):
        answer.sentences.append(f"Those strategies win {percent(shares[0])} and {percent(shares[1])} of the simulated runs.")
    if case == "effect" and None not in (point, low, high):
        answer.sentences.append(
            f"Each run takes a follow-back's effect on engagement from study 03 ({point:.2f}, 95% interval "
            f"{low:.2f} to {high:.2f}), whose timing design supports reading it as an effect."
        )
    elif case == "association" and point is not None:
        answer.sentences.append(
            f"Study 03 measured an association ({point:.2f}), not an effect, so each run takes a multiplier "
            "between 1 (no effect) and that association; the page shows how the winner changes with it and "
            "with the other assumptions."
        )
    elif point is not None:
        answer.sentences.append(
            f"It assumes a follow-back multiplies engagement by {point:.2f} (a default, not a value measured on "
            "these data); the page shows how the winner changes when that and the other assumptions change."
        )
    moves = (details.get("assumptions") or {}).get("sentence")
    if moves:
        answer.sentences.append(str(moves))
    return answer


def _follows_missing(coverage: dict[str, Any]) -> str:
    """Why follow-backs cannot be seen, from a recorded coverage (as Coverage.follows_missing_words)."""
    if coverage.get("followers_known") is False and coverage.get("following_known") is False:
        return "no follows are recorded"
    return "only one follow direction is known"


def _replay_sentences(details: dict[str, Any]) -> list[str]:
    """What following everyone and following back selectively would have kept, on the owner's real followers."""
    replay = details.get("replay") or {}
    rows = {row.get("policy"): row for row in replay.get("table") or []}
    everyone, choosy = rows.get("follow everyone"), rows.get("selective (engaged twice)")
    followers, valued = _number(replay.get("candidates")), _number(replay.get("valued"))
    if not everyone or not choosy or not followers or valued is None or not replay.get("cutoff"):
        return []
    cutoff = str(replay["cutoff"])[:10]
    # A personal export records only the owner's engagement: the replay then scores by it in place of engagement received.
    who = "the owner had engaged with" if "engagement_given" in str(choosy.get("how") or "") else "who had engaged with the owner"
    sentences = [f"On the owner's {followers:,.0f} real followers, {valued:,.0f} were engaged with by the owner after {cutoff}."]
    precision, recall, kept = (_number(choosy.get(k)) for k in ("precision", "recall", "followed"))
    if kept:
        sentences.append(
            f"Following back only those {who} twice before then would have kept {kept:,.0f} of "
            f"them, {percent(precision)} of whom the owner went on to engage with, but only {percent(recall)} of all "
            "those the owner engaged with later; following everyone keeps them all "
            f"({percent(_number(everyone.get('precision')) or 0)} of them engaged with later)."
        )
    else:
        sentences.append(f"Following back only those {who} twice before then would have kept none of them.")
    return sentences


ANSWERS = {"01": answer_01, "02": answer_02, "03": answer_03, "04": answer_04}


def data_in_words(results: dict[str, Any]) -> str:
    """What data the study ran on, in one sentence: whose, how much, and what it records."""
    details = results.get("details") or {}
    coverage, counts = _coverage(results), details.get("counts") or {}
    accounts, follows = _number(counts.get("accounts")), _number(counts.get("follows"))
    size = (
        f"{accounts:,.0f} accounts and {follows:,.0f} follows"
        if accounts is not None and follows is not None
        else "its accounts and follows"
    )
    kind = "a whole network (follows among all its accounts)"
    if coverage.get("sampled"):
        kind = "a random subgraph of a larger network (the follows among a random share of its accounts)"
    if coverage.get("scope") == "ego":
        kind = "a collection from the platform's API" if _collected(results) else "a personal export"
        kind += " (one owner's follows)"
    snapshots = coverage.get("snapshots") or []
    if snapshots:
        kind = f"{len(snapshots)} snapshots of one account's personal export"
    engagement = {
        "everyone": "engagement in both directions",
        "owner_outgoing": "only the owner's own engagement",
        "none": "no engagement",
    }.get(coverage.get("engagement_observed"), "engagement as the study page describes")
    if _engine_without_engagement(coverage):
        engagement = "engagement not read for the whole network"
    span = ""
    if coverage.get("time_start") and coverage.get("time_end"):
        span = f", from {str(coverage['time_start'])[:10]} to {str(coverage['time_end'])[:10]}"
    return f"{kind[0].upper()}{kind[1:]}: {size}, with {engagement}{span}."


def study_answer(stem: str, results: dict[str, Any]) -> Answer | None:
    """The answer for the study whose notebook is ``stem`` (e.g. ``02-reciprocity``); None for a study without one."""
    builder = ANSWERS.get(stem[:2])
    return builder(results) if builder else None

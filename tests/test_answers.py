"""The front page answers each study's question in plain sentences, computed from the recorded results."""

from __future__ import annotations

import re

from reciprocity_utils.answers import p_words, percent, study_answer
from reciprocity_utils.report import read_results
from reciprocity_utils.site_check import visible_text

NETWORK = {"scope": "network", "followers_known": True, "following_known": True, "engagement_observed": "everyone", "follow_times": True}
PERSONAL = {
    "scope": "ego",
    "followers_known": True,
    "following_known": True,
    "engagement_observed": "owner_outgoing",
    "follow_times": False,
}


def test_shares_and_p_values_read_as_words():
    assert [percent(s) for s in (0.52, 0.034, 0.0004, 0.0)] == ["52%", "3.4%", "under 0.1%", "0%"]
    assert [p_words(p) for p in (1e-9, 0.0042, 0.2345)] == ["p < 0.001", "p = 0.004", "p = 0.23"]


def test_reciprocity_answer_states_the_share_chance_and_engagement_both_ways():
    results = {
        "headline": {
            "arc_reciprocity": 0.52,
            "rho": 0.5,
            "null_z": 60.0,
            "null_p": 0.0099,
            "share_follow_back_above_80": 0.26,
            "share_follow_back_below_20": 0.12,
            "mutual_pairs_engaged_both_ways": 0.43,
            "mutual_pairs_engaged_one_way": 0.33,
            "mutual_pairs_dormant": 0.24,
        },
        "details": {"coverage": NETWORK, "null_model": {"null_mean_r": 0.15}, "two_camps": {"verdict": "no evidence of two camps"}},
    }
    answer = study_answer("02-reciprocity", results)
    assert answer.text.startswith("52% of follows are returned")
    assert "more than chance" in answer.text and "return 15% (p = 0.010)" in answer.text
    assert "no evidence of two camps" in answer.text and "43% engage both ways" in answer.text


def test_a_personal_export_never_reads_unobserved_engagement_as_zero():
    results = {
        "headline": {"arc_reciprocity": 0.3, "rho": 0.1, "mutual_pairs_engaged_both_ways": 0.0, "mutual_pairs_dormant": 1.0},
        "details": {"coverage": PERSONAL},
    }
    text = study_answer("02-reciprocity", results).text
    assert "cannot be seen here, because a personal export records only what its owner did" in text
    assert not re.search(r"(?<![\d.])0%", text) and "not at all" not in text
    one = study_answer(
        "01-load-and-validate",
        {"headline": {"accounts": 10, "follows": 12, "engagement_events": 5, "rows_repaired": 0}, "details": {"coverage": PERSONAL}},
    )
    assert "A personal export" in one.text and "all by the owner" in one.text and "Follow times are not known" in one.text
    collected = study_answer(
        "01-load-and-validate",
        {
            "headline": {"accounts": 10, "follows": 12, "engagement_events": 5},
            "details": {"coverage": {**PERSONAL, "engagement_observed": "everyone"}, "provenance": {"loader": "collected"}},
        },
    )
    assert collected.text.startswith("10 accounts") and "A collection around one owner from the platform's API" in collected.text
    assert "all by the owner" not in collected.text and "between accounts" in collected.text


def test_the_followback_answer_carries_its_strength_of_evidence():
    head = {"adjusted_irr": 1.93, "adjusted_irr_ci_low": 1.76, "adjusted_irr_ci_high": 2.11}
    inconclusive = {"verdict": "inconclusive: too few pairs", "reason": "Too few pairs were seen long before their follow-back."}
    answer = study_answer("03-followback-engagement", {"headline": head, "details": {"coverage": NETWORK, "timing": inconclusive}})
    assert answer.strength == "associational" and "Yes, as an association" in answer.text and "not shown to be an effect" in answer.text
    supports = {"verdict": "supports", "reason": ""}
    answer = study_answer("03-followback-engagement", {"headline": head, "details": {"coverage": NETWORK, "timing": supports}})
    assert answer.strength == "causal reading supported" and "random subgraph" not in answer.text
    # A whole network measured by an engine: the timing check ran on its random subgraph, and the answer says so.
    on_subgraph = {**inconclusive, "on_subgraph": True}
    answer = study_answer("03-followback-engagement", {"headline": head, "details": {"coverage": NETWORK, "timing": on_subgraph}})
    assert "not shown to be an effect of the follow-back (checked on a random subgraph of the network" in answer.text
    crossing = {**head, "adjusted_irr_ci_low": 0.9}
    answer = study_answer("03-followback-engagement", {"headline": crossing, "details": {"coverage": NETWORK}})
    assert "Cannot be answered" not in answer.text and "not evidence that there is no effect" in answer.text
    missing = study_answer("03-followback-engagement", {"headline": {"adjusted_irr": None}, "details": {"coverage": PERSONAL}})
    assert missing.strength == "not observable" and missing.text.startswith("Cannot be answered from this source, because")


def test_the_owners_comparisons_answer_in_both_directions_where_observed_and_never_more():
    collected = {**PERSONAL, "engagement_observed": "everyone"}
    head = {
        "adjusted_irr": None,
        "owner_irr": 2.5,
        "owner_irr_ci_low": 1.4,
        "owner_irr_ci_high": 4.4,
        "toward_owner_irr": 1.6,
        "toward_owner_irr_ci_low": 0.8,
        "toward_owner_irr_ci_high": 3.1,
    }
    answer = study_answer("03-followback-engagement", {"headline": head, "details": {"coverage": collected}})
    assert answer.strength == "associational"
    assert "The owner engages 2.50 times as much" in answer.text and "Followers engage 1.60 times as much" in answer.text
    assert "no difference these data can distinguish from none" in answer.text  # only the second interval covers 1
    assert answer.text.count("no difference these data can distinguish") == 1 and "cannot be checked" in answer.text
    assert "cannot be seen" not in answer.text
    outgoing_only = {k: v for k, v in head.items() if not k.startswith("toward")}
    archive = study_answer("03-followback-engagement", {"headline": outgoing_only, "details": {"coverage": PERSONAL}})
    assert "Followers engage" not in archive.text and "cannot be seen, because a personal export records only" in archive.text


def test_the_strategy_answer_says_it_is_a_simulation_and_where_its_ratio_came_from():
    head = {
        "person_winner": "selective",
        "brand_winner": "follow everyone",
        "person_winner_share_of_runs": 0.62,
        "brand_winner_share_of_runs": 1.0,
    }
    default = {"case": "default", "point": 2.0, "low": None, "high": None}
    answer = study_answer("04-follow-strategies", {"headline": head, "details": {"rate_ratio_calibration": default}})
    assert answer.strength == "simulated" and "a default, not a value measured on these data" in answer.text
    assert "“selective”" in answer.text and "“follow everyone”" in answer.text
    assert "win 62% and 100% of the simulated runs" in answer.text
    association = {"case": "association", "point": 3.73, "low": 2.63, "high": 5.29}
    text = study_answer("04-follow-strategies", {"headline": head, "details": {"rate_ratio_calibration": association}}).text
    assert "measured an association (3.73), not an effect" in text and "between 1 (no effect)" in text
    effect = {"case": "effect", "point": 1.8, "low": 1.2, "high": 2.7}
    text = study_answer("04-follow-strategies", {"headline": head, "details": {"rate_ratio_calibration": effect}}).text
    assert "timing design supports reading it as an effect" in text and "as if it were an effect" not in text


# Text a reader should never meet on a page: missing values, Python reprs, hidden tags, doubled stops
# ("None" as a value stands alone; "None of the …" opens an English sentence).
UNREADABLE = re.compile(r"(?<![\w-])(nan|None(?!\s+[a-z])|NaN|<NA>|NaT)(?![\w-])|\.\.(?!\.)|\d\.\d+e[-+]\d+|&lt;NA&gt;")


def test_the_sample_index_answers_every_question_in_readable_words(sample_report):
    index = sample_report.index.read_text(encoding="utf-8")
    text = visible_text(index)
    for stem in ("01-load-and-validate", "02-reciprocity", "03-followback-engagement", "04-follow-strategies"):
        answer = study_answer(stem, read_results(sample_report.output_dir, stem))
        assert answer.question in text and answer.text in text
    assert "Strength of evidence" in text and "<details>" in index
    assert not UNREADABLE.search(text), UNREADABLE.search(text)


def test_a_ratio_below_one_is_said_as_the_opposite_of_the_thesis():
    head = {"adjusted_irr": 0.6, "adjusted_irr_ci_low": 0.5, "adjusted_irr_ci_high": 0.7}
    text = study_answer("03-followback-engagement", {"headline": head, "details": {"coverage": NETWORK}}).text
    assert text.startswith("No, the opposite, as an association: a follower engages only 0.60 times as much")


def test_no_page_of_the_sample_report_shows_missing_values_reprs_or_exponents(sample_report):
    """What a reader would trip over, on every page: nan/None/<NA>, doubled full stops, 3.9e-09."""
    for page in sorted(sample_report.output_dir.glob("*.html")):
        text = visible_text(page.read_text(encoding="utf-8"))
        found = UNREADABLE.search(text)
        assert not found, f"{page.name}: {text[max(0, found.start() - 80) : found.end() + 40]!r}"
        assert "Not drawn." not in text or page.name != "index.html"


def test_every_study_page_opens_with_its_question_data_and_answer(sample_report):
    """A reader who opens a study page sees the answer first, before the method, figures and tables."""
    for stem in ("01-load-and-validate", "02-reciprocity", "03-followback-engagement", "04-follow-strategies"):
        page = (sample_report.output_dir / f"{stem}.html").read_text(encoding="utf-8")
        answer = study_answer(stem, read_results(sample_report.output_dir, stem))
        guide = page.find("class='reading-guide'")
        assert 0 <= guide < page.find("<h1"), f"{stem}: the reading guide must come before the page's title"
        top = " ".join(visible_text(page[guide : page.find("</aside>", guide)]).split())
        for term in ("Question", "Data", "Answer", "Strength of evidence"):
            assert term in top, f"{stem}: {term} is missing from the top of the page"
        assert " ".join(answer.text.split()) in top and answer.question in top
        assert re.search(r"[\d,]+ accounts and [\d,]+ follows", top), top


def test_a_source_without_follows_says_so_rather_than_one_direction():
    no_follows = {**NETWORK, "followers_known": False, "following_known": False}
    one_way = {**NETWORK, "followers_known": False}
    for coverage, reason in ((no_follows, "because no follows are recorded"), (one_way, "because only one follow direction is known")):
        for stem in ("02-reciprocity", "03-followback-engagement"):
            text = study_answer(stem, {"headline": {}, "details": {"coverage": coverage}}).text
            assert text.startswith("Cannot be answered from this source, " + reason), text

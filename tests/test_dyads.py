"""The dyad table and its segments: hand-made cases with known answers, and the sample against plain pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from reciprocity_utils import SAMPLE_DIR, Coverage, RawTable, build_dataset, load_dataset
from reciprocity_utils.dyads import COVARIATES, build_dyads
from reciprocity_utils.segments import engagement_segments

# Accounts 19 digits long, above 2**53: a float on the way would change them.
A, B, C, D = "1200000000000000001", "1200000000000000002", "1200000000000000003", "1200000000000000004"
DAY = pd.Timedelta(days=1)
T0 = pd.Timestamp("2024-01-01T00:00:00Z")


def iso(days: float) -> str:
    return (T0 + days * DAY).strftime("%Y-%m-%dT%H:%M:%SZ")


def small_dataset(coverage: Coverage | None = None, owner: str | None = None, with_times: bool = True):
    """A follows B (day 0), B follows back (day 10); A follows C (day 20, never returned);
    C follows D (no time); B follows B (a self-loop validation removes)."""
    follows = pd.DataFrame(
        {
            "follower_id": [A, B, A, C, B],
            "followee_id": [B, A, C, D, B],
            "followed_at": [iso(0), iso(10), iso(20), "", iso(5)] if with_times else [""] * 5,
        }
    )
    interactions = pd.DataFrame(
        {
            "actor_id": [A, A, A, A, B, A, C, D, B],
            "target_id": [B, B, B, B, A, C, A, C, D],
            "kind": ["reply", "mention", "like", "like", "like", "retweet", "mention", "reply", "quote"],
            # A->B: a reply before A followed B (day -1 is impossible: the window starts at the first time),
            # so the reply on day 0.5 is in window; mentions on day 5 (one-way), likes on days 15 and 30 (mutual).
            "at": [iso(0.5), iso(5), iso(15), iso(30), iso(12), iso(25), iso(40), iso(50), iso(60)] if with_times else [""] * 9,
            "count": ["1", "2", "1", "3", "1", "1", "1", "1", "1"],
        }
    )
    accounts = pd.DataFrame({"account_id": [A, B, C, D], "kind": ["person", "brand", "person", ""]})
    return build_dataset(
        RawTable(follows, "follows.csv", 2),
        RawTable(interactions, "interactions.csv", 2),
        RawTable(accounts, "accounts.csv", 2),
        coverage=coverage,
        owner_id=owner,
    )


def row(table, a, b):
    frame = table.frame
    found = frame[(frame["a_id"] == a) & (frame["b_id"] == b)]
    assert len(found) == 1
    return found.iloc[0]


def test_one_row_per_follow_with_mutual_status_and_times():
    dyads = build_dyads(small_dataset())
    frame = dyads.frame
    assert len(frame) == 4  # the self-loop is gone
    assert set(zip(frame["a_id"], frame["b_id"])) == {(A, B), (B, A), (A, C), (C, D)}
    ab, ba, ac = row(dyads, A, B), row(dyads, B, A), row(dyads, A, C)
    assert bool(ab["mutual"]) and bool(ba["mutual"]) and not bool(ac["mutual"])
    assert ab["followed_back_at"] == T0 + 10 * DAY and ab["mutual_since"] == T0 + 10 * DAY
    assert ba["mutual_since"] == T0 + 10 * DAY  # the later of the two follows, from either side
    assert pd.isna(ac["followed_back_at"]) and pd.isna(ac["mutual_since"])
    # Ids keep every digit.
    assert frame["a_id"].astype(str).str.len().eq(19).all()


def test_exposure_runs_from_the_follow_or_the_start_to_the_end_and_splits_at_the_follow_back():
    dyads = build_dyads(small_dataset())
    end_days = 60.0  # the last time in the data (B's quote on day 60)
    ab, ac, cd = row(dyads, A, B), row(dyads, A, C), row(dyads, C, D)
    assert dyads.window_start == T0 and dyads.window_end == T0 + end_days * DAY
    assert ab["exposure_days"] == pytest.approx(end_days)
    assert ab["one_way_days"] == pytest.approx(10) and ab["mutual_days"] == pytest.approx(50)
    assert ac["exposure_days"] == pytest.approx(40) and ac["one_way_days"] == pytest.approx(40) and ac["mutual_days"] == 0
    # A follow without time counts from the start of the data.
    assert cd["exposure_days"] == pytest.approx(end_days)
    assert any("no time" in note for note in dyads.notes)


def test_engagement_both_directions_by_kind_in_the_exposure_window():
    dyads = build_dyads(small_dataset())
    ab, ba, ac, cd = row(dyads, A, B), row(dyads, B, A), row(dyads, A, C), row(dyads, C, D)
    assert (ab["ab_reply"], ab["ab_mention"], ab["ab_like"], ab["ab_total"]) == (1, 2, 4, 7)
    assert (ab["ba_like"], ab["ba_total"]) == (1, 1)  # B liked A on day 12, after A followed B
    assert (ba["ab_like"], ba["ab_total"]) == (1, 1) and ba[
        "ba_total"
    ] == 4  # the B -> A window starts on day 10: A's reply and mentions predate it
    assert ac["ab_repost"] == 1 and ac["ba_mention"] == 1  # retweet is a repost; C mentioned A without following A
    assert cd["ab_total"] == 0 and cd["ba_reply"] == 1
    # Before/after the follow-back: mentions on day 5 and the reply on day 0.5 were one-way; the likes mutual.
    assert (ab["ab_one_way"], ab["ab_mutual"]) == (3, 4)
    # B's view of the pair: B followed A on day 10, already mutual then.
    assert (ba["ab_one_way"], ba["ab_mutual"]) == (0, 1)
    assert ab["ab_before_follow"] == 0
    assert ba["ab_before_follow"] == 0


def test_events_before_the_follow_are_kept_out_of_the_outcome_and_counted():
    dyads = build_dyads(small_dataset())
    ba = row(dyads, B, A)
    # For the arc B -> A (from day 10), B's like of A on day 12 is inside, nothing of B toward A before.
    assert ba["ab_total"] == 1
    # For the arc A -> C (from day 20) nothing of A toward C predates it; for C -> D (no time) nothing can.
    assert row(dyads, A, C)["ab_before_follow"] == 0
    moved = small_dataset()
    moved.follows.loc[moved.follows["followee_id"] == C, "followed_at"] = T0 + 30 * DAY
    late = row(build_dyads(moved), A, C)
    assert late["ab_before_follow"] == 1 and late["ab_total"] == 0  # the repost on day 25 predates the follow on day 30


def test_covariates_leave_the_pair_out():
    data = small_dataset()
    dyads = build_dyads(data)
    events = data.interactions
    sent = events.groupby("actor_id")["count"].sum()
    received = events.groupby("target_id")["count"].sum()
    ab = row(dyads, A, B)
    a_to_b = events[(events["actor_id"] == A) & (events["target_id"] == B)]["count"].sum()
    b_to_a = events[(events["actor_id"] == B) & (events["target_id"] == A)]["count"].sum()
    assert ab["a_sent_excl_b"] == sent[A] - a_to_b
    assert ab["b_received_excl_a"] == received[B] - a_to_b
    assert ab["b_sent_excl_a"] == sent[B] - b_to_a
    assert ab["a_received_excl_b"] == received[A] - b_to_a
    # Degrees without the pair's own follows: A follows B and C, is followed by B.
    assert (ab["a_following_excl_b"], ab["a_followers_excl_b"]) == (1, 0)
    assert (ab["b_followers_excl_a"], ab["b_following_excl_a"]) == (0, 0)
    assert row(dyads, A, C)["b_followback_rate"] == 0.0 and ab["b_followback_rate"] == 1.0
    assert set(COVARIATES) <= set(dyads.frame.columns)
    assert ab["a_kind"] == "person" and ab["b_kind"] == "brand"


def test_owner_outgoing_engagement_leaves_everything_else_unknown():
    dataset = small_dataset(Coverage(scope="ego", engagement_observed="owner_outgoing"), owner=A)
    dyads = build_dyads(dataset)
    ab, ba, cd = row(dyads, A, B), row(dyads, B, A), row(dyads, C, D)
    assert ab["ab_total"] == 7 and pd.isna(ab["ba_total"])
    assert pd.isna(ba["ab_total"]) and ba["ba_total"] == 4
    assert pd.isna(cd["ab_total"]) and pd.isna(cd["ba_total"])
    assert pd.isna(ab["a_sent_excl_b"]) and pd.isna(ab["b_followers_excl_a"])
    assert not pd.isna(ab["a_following_excl_b"])  # the owner's own degree is known
    assert any("owner's own engagement" in note for note in dyads.notes)


def test_without_times_exposure_and_split_are_unknown():
    dyads = build_dyads(small_dataset(with_times=False))
    frame = dyads.frame
    assert not dyads.has_times and not dyads.split_known
    assert frame["exposure_days"].isna().all() and frame["ab_one_way"].isna().all()
    assert row(dyads, A, B)["ab_total"] == 7  # undated events all count
    with pytest.raises(ValueError, match="needs times"):
        engagement_segments(small_dataset(with_times=False), dyads)


def test_text_ids_give_the_same_table_as_digit_ids():
    dataset = small_dataset()
    handles = {A: "@ann@example.social", B: "@bob@example.social", C: "@cy@example.social", D: "@dee@example.social"}
    renamed = small_dataset()
    for table, columns in (
        (renamed.follows, ("follower_id", "followee_id")),
        (renamed.interactions, ("actor_id", "target_id")),
        (renamed.accounts, ("account_id",)),
    ):
        for column in columns:
            table[column] = table[column].map(handles).astype("string")
    numeric, text = build_dyads(dataset).frame, build_dyads(renamed).frame
    assert list(text["a_id"].astype(str)) == [handles[i] for i in numeric["a_id"].astype(str)]
    pd.testing.assert_frame_equal(numeric.drop(columns=["a_id", "b_id"]), text.drop(columns=["a_id", "b_id"]))


def test_an_empty_network_gives_an_empty_table():
    follows = pd.DataFrame({"follower_id": pd.Series([], dtype=str), "followee_id": pd.Series([], dtype=str)})
    accounts = pd.DataFrame({"account_id": [A]})
    dyads = build_dyads(build_dataset(RawTable(follows, "f"), None, RawTable(accounts, "a")))
    assert len(dyads.frame) == 0 and "ab_total" in dyads.frame


@pytest.fixture(scope="module")
def sample():
    dataset = load_dataset(SAMPLE_DIR)
    return dataset, build_dyads(dataset)


def test_the_sample_matches_a_plain_pandas_computation(sample):
    dataset, dyads = sample
    frame = dyads.frame.assign(a_id=lambda f: f["a_id"].astype(str), b_id=lambda f: f["b_id"].astype(str))
    follows = dataset.follows[["follower_id", "followee_id", "followed_at"]].astype({"follower_id": str, "followee_id": str})
    reverse = follows.rename(columns={"follower_id": "followee_id", "followee_id": "follower_id", "followed_at": "back_at"})
    arcs = follows.merge(reverse, on=["follower_id", "followee_id"], how="left")
    events = dataset.interactions.astype({"actor_id": str, "target_id": str})
    joined = events.merge(arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"])
    in_window = joined[joined["at"] >= joined["followed_at"]]
    expected = in_window.groupby(["actor_id", "target_id"])["count"].sum()
    got = frame.set_index(["a_id", "b_id"])["ab_total"]
    assert got.sum() == expected.sum()
    assert (got.reindex(expected.index).to_numpy() == expected.to_numpy()).all()
    assert frame["mutual"].sum() == arcs["back_at"].notna().sum()
    assert list(frame["a_id"]) == list(follows["follower_id"])  # the follows' order


def test_segments_add_up_to_the_dyad_table(sample):
    dataset, dyads = sample
    segments, left_out = engagement_segments(dataset, dyads)
    frame = dyads.frame
    assert left_out == {"split_unknown": 0, "no_exposure": int((frame["exposure_days"] <= 0).sum())}
    by_arc = segments.groupby("arc")[["exposure_days", "ab_total", "ba_total"]].sum()
    kept = frame.loc[by_arc.index]
    assert np.allclose(by_arc["exposure_days"], kept["exposure_days"], rtol=1e-9, atol=1e-6)
    assert (by_arc["ab_total"].to_numpy() == kept["ab_total"].to_numpy()).all()
    mutual_part = segments[segments["state"] == "mutual"].groupby("arc")["ab_total"].sum()
    assert (mutual_part.to_numpy() == frame.loc[mutual_part.index, "ab_mutual"].to_numpy()).all()
    # Periods and a lead window cut the same totals finer.
    edges = list(pd.date_range(dyads.window_start, dyads.window_end, periods=5))
    finer, _ = engagement_segments(dataset, dyads, period_edges=edges, lead_days=7)
    assert finer["ab_total"].sum() == segments["ab_total"].sum()
    assert finer["exposure_days"].sum() == pytest.approx(segments["exposure_days"].sum())
    assert set(finer["state"].astype(str)) == {"one_way", "lead", "mutual"} and finer["period"].nunique() == 4
    lead = finer[finer["state"] == "lead"].groupby("arc")["exposure_days"].sum()
    assert (lead <= 7 + 1e-9).all()
    with pytest.raises(ValueError, match="lead_days"):
        engagement_segments(dataset, dyads, lead_days=-1)


def test_an_id_missing_from_the_accounts_table_is_named():
    dataset = load_dataset(SAMPLE_DIR)
    dataset.follows.loc[3, "follower_id"] = "not-an-account"
    with pytest.raises(ValueError, match="follows, follower_id, row 4: account id 'not-an-account' is not in the accounts table"):
        build_dyads(dataset)

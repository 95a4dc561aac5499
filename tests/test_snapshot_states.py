"""The owner's state at each snapshot, what changed between snapshots, and engagement judged by the status of its time."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data

from reciprocity_utils import RawTable, build_dataset, metrics
from reciprocity_utils.io.snapshots import load_snapshots
from reciprocity_utils.model import Coverage
from reciprocity_utils.snapshot_states import changes_in_words, nearest_state, owner_states, snapshot_changes

OWNER = "1000000000000000001"
A, B, C, D = (f"20000000000000000{i}" for i in range(10, 14))


def snapshot(followers, followees, taken, interactions=()):
    follows = [(f, OWNER) for f in followers] + [(OWNER, f) for f in followees]
    dataset = build_dataset(
        RawTable(pd.DataFrame(follows, columns=["follower_id", "followee_id"]).astype(str), "follows.csv", 2),
        RawTable(pd.DataFrame(list(interactions), columns=["actor_id", "target_id", "kind", "at"]).astype(str), "interactions.csv", 2),
        RawTable(pd.DataFrame([{"account_id": OWNER, "is_owner": "true"}]).astype(str), "accounts.csv", 2),
        coverage=Coverage(scope="ego", engagement_observed="owner_outgoing"),
    )
    dataset.provenance.parameters["generated_at"] = taken
    return dataset


def combined(*snapshots):
    taken = {f"{i}.js": s for i, s in enumerate(snapshots)}
    return load_snapshots(list(taken), loader=lambda path: taken[Path(path).name])


def three_snapshots():
    # January: A and B follow the owner, who follows A (A mutual). April: C arrived, B left, the
    # owner followed C back (A, C mutual). July: the owner unfollowed A; D followed.
    january = snapshot(
        [A, B], [A], "2024-01-01T00:00:00Z", [(OWNER, A, "reply", "2023-12-20T00:00:00Z"), (OWNER, B, "reply", "2023-12-21T00:00:00Z")]
    )
    april = snapshot([A, C], [A, C], "2024-04-10T00:00:00Z", [(OWNER, C, "reply", "2024-04-01T00:00:00Z")])
    july = snapshot([A, C, D], [C], "2024-07-19T00:00:00Z")
    return combined(january, april, july)


def test_states_at_each_snapshot_are_rebuilt_from_the_latest_and_the_events():
    states = owner_states(three_snapshots())
    assert [s.taken.strftime("%Y-%m-%d") for s in states] == ["2024-01-01", "2024-04-10", "2024-07-19"]
    assert [sorted(s.followers) for s in states] == [[A, B], [A, C], [A, C, D]]
    assert [sorted(s.mutuals) for s in states] == [[A], [A, C], [C]]
    assert owner_states(snapshot([A], [A], "2024-01-01T00:00:00Z")) == []  # one export: no states over time


def test_what_changed_between_snapshots_counts_accounts_gained_and_lost():
    changes = snapshot_changes(three_snapshots()).set_index("to")
    first, second = changes.loc["2024-04-10"], changes.loc["2024-07-19"]
    assert (first["new followers"], first["followers lost"], first["pairs that became mutual"], first["mutual pairs that ended"]) == (
        1,
        1,
        1,
        0,
    )
    assert (second["new followers"], second["accounts the owner unfollowed"], second["mutual pairs that ended"]) == (1, 1, 1)
    assert first["days"] == 100 and second["followers at the end"] == 3
    words = changes_in_words(snapshot_changes(three_snapshots()))
    assert words[0].startswith("From 2024-01-01 to 2024-04-10 (100 days): followers went from 2 to 2 (1 new, 1 lost)")


def test_nearest_snapshot_for_each_time_and_missing_times():
    states = owner_states(three_snapshots())
    times = pd.Series(pd.to_datetime(["2020-01-01", "2024-03-01", "2024-06-01", None], utc=True))
    assert nearest_state(states, times).tolist() == [0, 1, 2, -1]


def test_engagement_is_judged_by_the_follow_status_of_its_time_not_the_latest():
    # In December the owner replied to A (mutual then) and to B (a follower not followed back), in
    # April to C (mutual then). By July B is gone and the owner no longer follows A: judged by the
    # latest status, A would be a follower not followed back and B nobody.
    dataset = three_snapshots()
    table = metrics.engagement_reciprocity(dataset, window_days=None).owner_table.set_index("group")
    # January period: A mutual and engaged, B not followed back and engaged. April: A and C mutual, C engaged.
    assert table.loc["mutuals", "accounts"] == 1 + 2 and table.loc["mutuals", "owner_engaged"] == 1 + 1
    assert table.loc["followers not followed back", "accounts"] == 1 and table.loc["followers not followed back", "owner_engaged"] == 1
    notes = " ".join(metrics.engagement_reciprocity(dataset, window_days=None).notes)
    assert "snapshot nearest in time" in notes and "2024-01-01, 2024-04-10" in notes


def test_a_snapshot_without_engagement_in_its_period_adds_no_accounts():
    dataset = combined(
        snapshot([A], [A], "2024-01-01T00:00:00Z", [(OWNER, A, "like", "2023-12-31T00:00:00Z")]),
        snapshot([A, B], [A, B], "2024-06-01T00:00:00Z"),
    )
    table = metrics.engagement_reciprocity(dataset, window_days=None).owner_table.set_index("group")
    assert table.loc["mutuals", "accounts"] == 1 and table.loc["mutuals", "share_engaged"] == 1.0


@pytest.mark.shared_data
def test_x_archives_of_2021_and_2023_judge_2021_engagement_by_the_2021_follows():
    from reciprocity_utils import load_dataset

    paths = [needs_shared_data("exports", "twitter_archive", name) for name in ("larsbrinkhoff_2021-03-22", "larsbrinkhoff_2023-08-20")]
    both = load_snapshots(paths, loader=load_dataset)
    alone = load_dataset(paths[0])
    for window in (90, None):
        together = metrics.engagement_reciprocity(both, window_days=window).owner_table
        separately = metrics.engagement_reciprocity(alone, window_days=window).owner_table
        # The 2023 archive has no tweets: all engagement is 2021's, so the 2021 follows decide.
        pd.testing.assert_frame_equal(together, separately, check_dtype=False)
    changes = snapshot_changes(both).iloc[0]
    first, latest = owner_states(both)[0], owner_states(both)[-1]
    assert changes["followers at the start"] == len(first.followers) == 405
    assert changes["new followers"] - changes["followers lost"] == len(latest.followers) - len(first.followers)
    assert np.isclose(changes["days"], (latest.taken - first.taken).days, atol=1)

"""The owner's follows as each snapshot saw them, and what changed between snapshots.

A dataset combining several snapshots of one account (:func:`reciprocity_utils.io.load_snapshots`)
keeps the follows of the latest snapshot and the follow events between consecutive ones. Going
back from the latest, each interval undoes the follows that began in it and restores those that
ended, which gives the owner's followers and followees at every snapshot. The studies use that
state to judge engagement by the follow status *at the time of the engagement* (the snapshot
nearest in time), not by today's status years later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .model import StudyDataset


@dataclass(frozen=True)
class OwnerState:
    """Who followed the owner and whom the owner followed, as one snapshot recorded it."""

    taken: pd.Timestamp
    followers: pd.Index
    followees: pd.Index

    @property
    def mutuals(self) -> pd.Index:
        return self.followers.intersection(self.followees)

    @property
    def followees_not_following_back(self) -> pd.Index:
        return self.followees.difference(self.followers)

    @property
    def followers_not_followed_back(self) -> pd.Index:
        return self.followers.difference(self.followees)


def _ids(frame: pd.DataFrame, column: str) -> pd.Index:
    return pd.Index(frame[column].astype(str).unique())


def owner_states(dataset: StudyDataset) -> list[OwnerState]:
    """The owner's state at every snapshot, oldest first; empty unless the dataset combines snapshots."""
    events, owner = dataset.follow_events, dataset.owner_id
    if events is None or events.empty or owner is None:
        return []
    follows = dataset.follows
    followers = _ids(follows[follows["followee_id"] == owner], "follower_id")
    followees = _ids(follows[follows["follower_id"] == owner], "followee_id")
    windows = events[["observed_after", "observed_before"]].drop_duplicates().sort_values("observed_before", ascending=False)
    states = [OwnerState(windows["observed_before"].iloc[0], followers, followees)]
    for after, before in windows.itertuples(index=False):  # latest interval first
        inside = events[(events["observed_after"] == after) & (events["observed_before"] == before)]
        to_owner, by_owner = inside[inside["followee_id"] == owner], inside[inside["follower_id"] == owner]
        followers = followers.difference(_ids(to_owner[to_owner["event"] == "follow"], "follower_id"))
        followers = followers.union(_ids(to_owner[to_owner["event"] == "unfollow"], "follower_id"))
        followees = followees.difference(_ids(by_owner[by_owner["event"] == "follow"], "followee_id"))
        followees = followees.union(_ids(by_owner[by_owner["event"] == "unfollow"], "followee_id"))
        states.append(OwnerState(after, followers, followees))
    return states[::-1]


def nearest_state(states: list[OwnerState], times: pd.Series) -> np.ndarray:
    """For each time, the position in ``states`` of the snapshot nearest to it (-1 where the time is missing)."""
    taken = np.array([s.taken.value for s in states], dtype=np.int64)
    stamps = pd.to_datetime(pd.Series(times), utc=True)
    known = stamps.notna().to_numpy()
    values = stamps.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]").astype(np.int64)
    values = np.where(known, values, taken[0] if len(taken) else 0)  # a missing time (NaT) would overflow the distance
    distance = np.abs(values[:, None] - taken[None, :])
    nearest = distance.argmin(axis=1) if len(taken) else np.zeros(len(values), dtype=int)
    return np.where(known, nearest, -1)


CHANGE_COLUMNS = (
    "new followers",
    "followers lost",
    "accounts the owner followed",
    "accounts the owner unfollowed",
    "pairs that became mutual",
    "mutual pairs that ended",
)


def snapshot_changes(dataset: StudyDataset) -> pd.DataFrame:
    """One row per interval between consecutive snapshots: what was gained and lost, in accounts.

    A pair *became mutual* when it was not mutual at the earlier snapshot and is at the later one
    (a follow-back, or a new pair made mutual within the interval); the exact order of the two
    follows inside an interval is not known.
    """
    states = owner_states(dataset)
    rows = []
    for earlier, later in zip(states, states[1:]):
        rows.append(
            {
                "from": earlier.taken.strftime("%Y-%m-%d"),
                "to": later.taken.strftime("%Y-%m-%d"),
                "days": round((later.taken - earlier.taken).total_seconds() / 86_400),
                "followers at the start": len(earlier.followers),
                "new followers": len(later.followers.difference(earlier.followers)),
                "followers lost": len(earlier.followers.difference(later.followers)),
                "accounts the owner followed": len(later.followees.difference(earlier.followees)),
                "accounts the owner unfollowed": len(earlier.followees.difference(later.followees)),
                "pairs that became mutual": len(later.mutuals.difference(earlier.mutuals)),
                "mutual pairs that ended": len(earlier.mutuals.difference(later.mutuals)),
                "followers at the end": len(later.followers),
            }
        )
    return pd.DataFrame(rows)


def changes_in_words(changes: pd.DataFrame) -> list[str]:
    """One sentence per interval, for a reader."""
    sentences = []
    for row in changes.to_dict("records"):
        sentences.append(
            f"From {row['from']} to {row['to']} ({row['days']:,} days): followers went from {row['followers at the start']:,} "
            f"to {row['followers at the end']:,} ({row['new followers']:,} new, {row['followers lost']:,} lost); the owner "
            f"followed {row['accounts the owner followed']:,} accounts and unfollowed {row['accounts the owner unfollowed']:,}; "
            f"{row['pairs that became mutual']:,} pairs became mutual and {row['mutual pairs that ended']:,} mutual pairs ended."
        )
    return sentences

"""Several snapshots of one account (archives from different dates) -> follow and unfollow events.

Each snapshot is loaded on its own (any ego format: X archives, Instagram exports, ...), ordered
by the time it was taken, and every pair of consecutive snapshots is compared: a follow of or
by the owner present in the later snapshot only *began* between the two dates, one present in
the earlier only *ended* between them. The exact time is not known, so each event carries its
bounds ``observed_after`` / ``observed_before`` (the two snapshot times). A direction is compared
only when both snapshots observe it (an Instagram export without followers says nothing about
who stopped following).

The combined dataset holds the follows of the latest snapshot (the current state), every
account seen in any snapshot, the union of the engagement (a tweet present in two archives
counts once) and the events in ``follow_events``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pandas as pd

from ..model import Coverage, DatasetValidationError, Provenance, RawTable, StudyDataset, build_dataset, empty_follow_events


def snapshot_time(dataset: StudyDataset) -> tuple[pd.Timestamp, str]:
    """When a snapshot was taken, and how that was found."""
    generated = dataset.provenance.parameters.get("generated_at")
    if generated:
        return pd.Timestamp(generated).tz_convert("UTC"), "the export's generation date"
    if dataset.coverage.time_end:
        return pd.Timestamp(dataset.coverage.time_end).tz_convert("UTC"), "its latest recorded time (no generation date in the export)"
    raise DatasetValidationError(
        dataset.validation.source, "snapshot", "generated_at", "a generation date or dated records, to order the snapshots", None
    )


def _follow_keys(follows: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_frame(follows[["follower_id", "followee_id"]].astype("string"))


def follow_events(
    earlier: StudyDataset, later: StudyDataset, owner: str, after: pd.Timestamp, before: pd.Timestamp, source: str
) -> pd.DataFrame:
    """Follows that began or ended between two snapshots, in the directions both observe."""
    frames = []
    for outgoing, known in ((True, "following_known"), (False, "followers_known")):
        if not (getattr(earlier.coverage, known) and getattr(later.coverage, known)):
            continue
        column = "follower_id" if outgoing else "followee_id"
        old = earlier.follows[earlier.follows[column] == owner]
        new = later.follows[later.follows[column] == owner]
        old_keys, new_keys = _follow_keys(old), _follow_keys(new)
        frames.append(new[~new_keys.isin(old_keys)][["follower_id", "followee_id"]].assign(event="follow"))
        frames.append(old[~old_keys.isin(new_keys)][["follower_id", "followee_id"]].assign(event="unfollow"))
    if not frames:
        return pd.DataFrame(columns=["follower_id", "followee_id", "event", "observed_after", "observed_before", "source"])
    events = pd.concat(frames, ignore_index=True)
    return events.assign(observed_after=after, observed_before=before, source=source)


def _union_interactions(datasets: list[StudyDataset]) -> pd.DataFrame:
    """Engagement of all snapshots, each act once: a multiset union on (actor, target, kind, time).

    Two archives repeat the same tweets; counting occurrences per key within each snapshot and
    keeping each (key, occurrence) once keeps true repeats (two undated likes of one author).
    """
    key = ["actor_id", "target_id", "kind", "at"]
    frames = []
    for dataset in datasets:
        frame = dataset.interactions.copy()
        frame["occurrence"] = frame.groupby(key, dropna=False).cumcount()
        frames.append(frame)
    union = pd.concat(frames, ignore_index=True).drop_duplicates(key + ["occurrence"])
    return union.drop(columns="occurrence")


def load_snapshots(paths: list[str | Path], loader: Callable[[Path], StudyDataset], owner_id: str | None = None) -> StudyDataset:
    """Combine snapshots of one account; ``loader`` loads one path (e.g. :func:`~.load_dataset`)."""
    if len(paths) < 2:
        raise ValueError("snapshots need at least two exports of the same account")
    loaded = [(Path(p), loader(Path(p))) for p in paths]
    owners = {str(d.owner_id) for _, d in loaded}
    if len(owners) != 1 or None in {d.owner_id for _, d in loaded}:
        raise DatasetValidationError(
            ", ".join(str(p) for p, _ in loaded), "owner", "account_id", "snapshots of one and the same account", sorted(owners)
        )
    owner = owners.pop()
    if owner_id and owner_id != owner:
        raise DatasetValidationError(str(loaded[0][0]), "owner", "account_id", f"the owner given ({owner_id})", owner)
    timed = sorted(((snapshot_time(d), p, d) for p, d in loaded), key=lambda item: item[0][0])
    notes = [f"{len(timed)} snapshots of the same account, compared in date order; follows are those of the latest."]
    events = []
    for (time, how), path, dataset in timed:
        notes.append(f"Snapshot {path.name}: taken {time:%Y-%m-%d} ({how}); {len(dataset.follows):,} follows.")
    for (earlier_time, earlier_path, earlier), (later_time, later_path, later) in zip(timed, timed[1:]):
        (after, _), (before, _) = earlier_time, later_time
        events.append(follow_events(earlier, later, owner, after, before, f"{earlier_path.name} -> {later_path.name}"))
    events = pd.concat(events, ignore_index=True)
    counts = (
        events.groupby("event").size().reindex(["follow", "unfollow"], fill_value=0)
        if len(events)
        else pd.Series({"follow": 0, "unfollow": 0})
    )
    notes.append(
        f"Between snapshots: {int(counts['follow']):,} follows began and {int(counts['unfollow']):,} ended "
        "(each dated only between the two snapshot dates)."
    )
    latest = timed[-1][2]
    datasets = [d for _, _, d in timed]
    # The latest snapshot's value of each attribute wins; older ones fill what it lacks.
    accounts = pd.concat([d.accounts for d in reversed(datasets)], ignore_index=True)
    accounts = accounts.groupby("account_id", sort=False, dropna=False).first().reset_index()
    accounts["is_owner"] = accounts["account_id"] == owner
    interactions = _union_interactions(datasets)
    starts = [d.coverage.time_start for d in datasets if d.coverage.time_start]
    ends = [d.coverage.time_end for d in datasets if d.coverage.time_end] + [timed[-1][0][0].isoformat()]
    latest_time = timed[-1][0][0]
    notes.append(
        f"The follows listed are those of the latest snapshot ({latest_time:%Y-%m-%d}); engagement is pooled over all "
        "snapshots. Where the studies judge the owner's engagement by follow status, they take the status of the "
        "snapshot nearest in time to each engagement. The follows that began or ended between snapshots are "
        "listed with their date range."
    )
    coverage = Coverage(
        time_start=min(starts, key=lambda t: pd.Timestamp(t)) if starts else None,
        time_end=max(ends, key=lambda t: pd.Timestamp(t)),
        scope="ego",
        followers_known=latest.coverage.followers_known,
        following_known=latest.coverage.following_known,
        engagement_observed="owner_outgoing" if any(d.coverage.engagement_observed != "none" for d in datasets) else "none",
        notes=notes + [f"{path.name}: {note}" for _, path, d in timed for note in d.coverage.notes],
        snapshots=[time.isoformat() for (time, _), _, _ in timed],
    )
    provenance = Provenance(
        loader="snapshots",
        inputs=[item for d in datasets for item in d.provenance.inputs],
        parameters={"snapshots": [str(p) for _, p, _ in timed], "loaders": [d.provenance.loader for d in datasets]},
    )
    dataset = build_dataset(
        RawTable(latest.follows, f"{timed[-1][1]} (latest snapshot)"),
        RawTable(interactions, "engagement of all snapshots"),
        RawTable(accounts, "accounts of all snapshots"),
        coverage=coverage,
        provenance=provenance,
        owner_id=owner,
        source=f"{len(timed)} snapshots of {_owner_name(latest, owner)}",
    )
    dataset.follow_events = _typed_events(events)
    return dataset


def _owner_name(dataset: StudyDataset, owner: str) -> str:
    """The owner's handle where the export gives one, else the id."""
    handles = dataset.accounts.loc[dataset.accounts["is_owner"], "handle"].dropna()
    return str(handles.iloc[0]) if len(handles) and str(handles.iloc[0]) else owner


def _typed_events(events: pd.DataFrame) -> pd.DataFrame:
    if events.empty:
        return empty_follow_events()
    return pd.DataFrame(
        {
            "follower_id": events["follower_id"].astype("string"),
            "followee_id": events["followee_id"].astype("string"),
            "event": events["event"].astype("string"),
            "observed_after": pd.to_datetime(events["observed_after"], utc=True).dt.as_unit("us"),
            "observed_before": pd.to_datetime(events["observed_before"], utc=True).dt.as_unit("us"),
            "source": events["source"].astype("string"),
        }
    ).reset_index(drop=True)

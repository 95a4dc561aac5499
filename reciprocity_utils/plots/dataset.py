"""Figures of study 01: how follows are spread, activity over time, engagement by kind."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..model import INTERACTION_KINDS, StudyDataset, engine_name
from . import PALETTE, STYLE, Figure, draw_empty


def _account_degrees(dataset) -> tuple[np.ndarray, np.ndarray]:
    """Followers and following of every account (a measured network's come from its engine)."""
    if not hasattr(dataset, "follows"):
        table = dataset.account_table(["followers", "following"])
        return table["followers"].to_numpy(np.int64), table["following"].to_numpy(np.int64)
    accounts = dataset.accounts["account_id"]
    followers = dataset.follows.groupby("followee_id").size().reindex(accounts, fill_value=0)
    following = dataset.follows.groupby("follower_id").size().reindex(accounts, fill_value=0)
    return followers.to_numpy(np.int64), following.to_numpy(np.int64)


def _ccdf(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each distinct positive count and the share of accounts with at least it (one point per value, any size)."""
    values, frequency = np.unique(counts[counts > 0], return_counts=True)
    at_least = np.cumsum(frequency[::-1])[::-1] / max(len(counts[counts > 0]), 1)
    return values, at_least


def degree_distributions(dataset: StudyDataset) -> Figure:
    """Complementary cumulative distributions of followers and following per account."""
    followers, following = _account_degrees(dataset)
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        if not (followers > 0).any() and not (following > 0).any():
            draw_empty(ax, "No follows in this dataset")
        else:
            for (measure, counts), color in zip((("followers", followers), ("following", following)), sns.color_palette(n_colors=2)):
                values, at_least = _ccdf(counts)
                ax.step(values, at_least, where="post", label=measure, color=color)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.legend(title="measure")
            ax.set_xlabel("accounts followed / following (log scale)")
            ax.set_ylabel("share of accounts with at least x")
        ax.set_title("How follows are spread over accounts")
    zero_followers = int((followers == 0).sum())
    caption = (
        "Share of accounts with at least x followers (or followees), on log-log axes: a straight, slowly falling "
        "line means a heavy tail, a few accounts with far more followers than the rest. "
        f"{zero_followers:,} of {len(followers):,} accounts have no follower in the data and are not drawn."
    )
    return Figure(fig, caption)


def _weekly_activity(dataset: StudyDataset, freq: str) -> tuple[pd.Series, pd.DataFrame, pd.Series, str | None]:
    """New follows and engagement events by kind per week, the times bounding them, and why a part is missing."""
    engine = dataset.coverage.engine
    if engine:
        # Measured out of memory: the engine counted both per day where it read the engagement (the days add up to the
        # same weeks: a week is Monday to Sunday, UTC).
        summary = getattr(dataset, "engagement", None)
        if summary is None:
            return pd.Series(dtype="int64"), pd.DataFrame(), pd.Series(dtype="datetime64[us, UTC]"), "not read for the whole network"
        daily = summary.activity_by_day()
        follows = daily.loc[daily["follows"] > 0, "follows"].resample(freq).sum()
        kinds = [k for k in INTERACTION_KINDS if daily[k].sum()]
        events = daily.loc[daily[kinds].sum(axis=1) > 0, kinds].resample(freq).sum() if kinds else pd.DataFrame()
        span = pd.Series(pd.to_datetime([t for t in summary.time_span() if t], utc=True))
        return follows, events, span, None
    follows = dataset.follows.dropna(subset=["followed_at"])
    timed = dataset.interactions.dropna(subset=["at"])
    weekly = follows.set_index("followed_at").resample(freq).size() if len(follows) else pd.Series(dtype="int64")
    events = (
        timed.set_index("at").groupby("kind", observed=True)["count"].resample(freq).sum().unstack(0, fill_value=0)
        if len(timed)
        else pd.DataFrame()
    )
    return weekly, events, pd.concat([follows["followed_at"], timed["at"]], ignore_index=True), None


def activity_over_time(dataset: StudyDataset, freq: str = "W") -> Figure:
    """Weekly new follows and engagement events by kind, where times are known."""
    follows, events, times, missing = _weekly_activity(dataset, freq)
    with sns.axes_style(STYLE):
        fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), sharex=True)
        if follows.empty:
            draw_empty(top, f"Follow times {missing}" if missing else "No follow times in this dataset")
        else:
            top.plot(follows.index, follows.to_numpy(), color="0.25")
            top.set_ylabel("new follows")
        if events.empty:
            draw_empty(bottom, f"Engagement {missing}" if missing else "No engagement times in this dataset")
        else:
            for kind in [k for k in INTERACTION_KINDS if k in events]:
                bottom.plot(events.index, events[kind].to_numpy(), label=kind, color=PALETTE[kind])
            bottom.set_ylabel("engagement events")
            bottom.legend(ncols=5, fontsize="small", loc="upper left")
        top.set_title("Activity over time (per week)")
        fig.autofmt_xdate()
    caption = (
        "New follows (top) and engagement events by kind (bottom) per week. Studies that compare periods need "
        "activity in both; a ramp at the start often means the export only reaches back so far." + _partial_weeks(times)
    )
    if dataset.coverage.engine:
        caption += (
            f" Counted over the whole network by the {engine_name(dataset.coverage.engine)} engine."
            if missing is None
            else f" The {engine_name(dataset.coverage.engine)} engine measured the whole network from its follows alone."
        )
    return Figure(fig, caption)


def _partial_weeks(times: pd.Series) -> str:
    """A sentence on first and last weeks that the data cover only in part (they look lower than they were)."""
    times = times.dropna()
    if times.empty:
        return ""
    start, end = times.min(), times.max()
    # Weeks end on Sunday at midnight (pandas' "W"): days of data in the first and last week.
    first_week_end = (start.normalize() + pd.offsets.Week(weekday=6, normalize=True)) if start.weekday() != 6 else start.normalize()
    first_days = (first_week_end + pd.Timedelta(days=1) - start) / pd.Timedelta(days=1)
    last_days = (end - end.normalize() + pd.Timedelta(days=end.weekday())) / pd.Timedelta(days=1)  # since Monday 00:00
    parts = []
    if first_days < 6.5:
        parts.append(f"the first week holds {first_days:.1f} days of data")
    if last_days < 6.5 and end.normalize() != start.normalize():
        parts.append(f"the last week {last_days:.1f} days")
    if not parts:
        return ""
    return " " + " and ".join(parts).capitalize() + ", so they look lower than a whole week would."


def engagement_by_kind(dataset: StudyDataset) -> Figure:
    """Total engagement events of each kind."""
    engine = dataset.coverage.engine
    read_by_engine = bool(engine) and dataset.coverage.engine_read_engagement
    if engine:  # counted by the engine over the whole network (no events in memory)
        counts = dataset.counts()
        totals = pd.Series({kind: counts[f"events_{kind}"] for kind in INTERACTION_KINDS})
    else:
        totals = dataset.interactions.groupby("kind")["count"].sum().reindex(list(INTERACTION_KINDS), fill_value=0)
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6, 3.2))
        if engine and not read_by_engine:
            draw_empty(ax, "Engagement not read for the whole network")
        elif totals.sum() == 0:
            draw_empty(ax, "No engagement recorded in this dataset")
        else:
            ax.barh(totals.index, totals.to_numpy(), color=[PALETTE[k] for k in totals.index])
            ax.invert_yaxis()
            ax.set_xlabel("events")
        ax.set_title("Engagement by kind")
    observed = {
        "everyone": "in both directions",
        "owner_outgoing": "only from the owner to others",
        "none": "not at all",
    }[dataset.coverage.engagement_observed]
    caption = f"Engagement events of each kind, recorded {observed} by this source."
    if read_by_engine:
        caption += f" Counted over the whole network by the {engine_name(engine)} engine."
    elif engine:
        # The engine counted the follows alone: whether the source records engagement is not known from that.
        caption = (
            f"Engagement events of each kind: not read for the whole network, which the {engine_name(engine)} engine "
            "measured from its follows alone (study 03 reads the engagement where the input records it)."
        )
    return Figure(fig, caption)

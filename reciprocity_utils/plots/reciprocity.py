"""Figures of study 02: reciprocity against chance, follow-back rates, follow-back timing, engagement in pairs.

Each function takes a result of :mod:`reciprocity_utils.metrics`. When the result could not be
observed it returns a small placeholder saying so, so a notebook never branches on coverage.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.ticker import MaxNLocator

from ..metrics import (
    ALL_ACCOUNTS,
    AccountBehaviour,
    EgoLists,
    EngagementReciprocity,
    FollowBackTiming,
    NullModel,
    TwoCamps,
)
from ..wording import decimal, p_words
from . import STYLE, Figure, draw_empty, show_table

_PALETTE = sns.color_palette("colorblind")
_NEITHER = (0.8, 0.8, 0.8)
# Colours of the engagement figure: one per meaning, "neither" shared by both pair types.
PATTERN_COLOURS = {
    "both directions": _PALETTE[0],
    "one direction only": _PALETTE[1],
    "follower → followee only": _PALETTE[8],
    "followee → follower only": _PALETTE[2],
    "neither (dormant)": _NEITHER,
    "neither": _NEITHER,
}
PATTERN_LEGEND = {
    "both directions": "both directions",
    "one direction only": "one direction only (mutual)",
    "follower → followee only": "follower → followee only",
    "followee → follower only": "followee → follower only",
    "neither": "neither (dormant, for mutuals)",
}


def show_notes(notes: tuple[str, ...] | list[str]) -> None:
    """Plain sentences (answers, and what was left out and why) as a bullet list; empty ones skipped."""
    from IPython.display import Markdown, display

    sentences = [note for note in notes if note]
    if sentences:
        display(Markdown("\n".join(f"- {note}" for note in sentences)))


def show_rows(frame: pd.DataFrame) -> None:
    """A table, unless it has no rows (the notes above it then say why)."""
    if len(frame):
        show_table(frame)


def _for_display(table: pd.DataFrame) -> pd.DataFrame:
    """Columns with nothing known dropped, times as dates, days rounded: for reading, not for saving."""
    shown = table.loc[:, table.notna().any() | (table.columns == "account")].copy()
    for column in shown.columns:
        if pd.api.types.is_datetime64_any_dtype(shown[column]):
            shown[column] = shown[column].dt.strftime("%Y-%m-%d").astype(object).where(shown[column].notna(), None)
        elif column.startswith("days"):
            shown[column] = shown[column].round(0)
    return shown


def show_ego_lists(ego: EgoLists, rows: int = 20) -> None:
    """Each ego list with its size and its first ``rows`` rows (names as the lists carry them)."""
    from IPython.display import Markdown, display

    for name, table in ego.lists.items():  # four lists
        if table is None:
            continue
        shown = f", the first {rows}" if len(table) > rows else ""
        display(Markdown(f"**{name.capitalize()}**: {len(table):,} accounts{shown}."))
        if rows and len(table):
            show_table(_for_display(table.head(rows)))


def _not_drawn(title: str, message: str, caption: str) -> Figure:
    """A slim placeholder: the page says plainly that this figure could not be drawn."""
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 1.1))
        draw_empty(ax, message)
        ax.set_title(title)
    return Figure(fig, caption)


def _kind_hue(table: pd.DataFrame) -> str | None:
    return "kind" if table["kind"].notna().any() else None


def null_distribution(null: NullModel) -> Figure:
    """Histogram of r in the randomized networks with the observed r marked."""
    title = "Observed reciprocity against degree-preserving randomization"
    if null.n_networks == 0:
        return _not_drawn(
            title,
            "No null model for this dataset",
            "No degree-preserving null model could be computed for this dataset (see the notes above).",
        )
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        # No bar edges: when the observed r lies far away the bars are narrow and edges would hide them.
        ax.hist(
            null.null_values,
            bins=min(30, max(5, null.n_networks // 3)),
            color="0.45",
            linewidth=0,
            label=f"randomized networks: r = {decimal(null.mean, 3)} ± {decimal(null.sd, 3)}",
        )
        ax.axvline(null.observed, color="C3", linewidth=2, label=f"observed r = {null.observed:.3f}")
        marks = [null.null_values.min(), null.null_values.max(), null.observed]
        if np.isfinite(null.analytic) and null.subgraph is None:  # the formula is for the whole network
            ax.axvline(
                null.analytic,
                color="0.2",
                linewidth=1.2,
                linestyle="--",
                label=f"configuration model formula: r = {decimal(null.analytic, 3)}",
            )
            marks.append(null.analytic)
        low, high = min(marks), max(marks)
        margin = 0.05 * (high - low) or 0.01
        ax.set_xlim(low - margin, high + margin)
        ax.set_xlabel("arc reciprocity r")
        ax.set_ylabel("randomized networks")
        ax.legend(loc="upper center", fontsize="small")
        ax.set_title(title)
        spread = float(np.ptp(null.null_values))
        zoomed = high - low > 20 * max(spread, 1e-12)
        if zoomed:
            # The observed r so far away that the bars are a sliver: the same bars again, zoomed.
            inset = ax.inset_axes([0.32, 0.18, 0.36, 0.42])
            inset.hist(null.null_values, bins=min(30, max(5, null.n_networks // 3)), color="0.45", linewidth=0)
            inset.set_title("randomized networks, zoomed", fontsize="x-small")
            inset.tick_params(labelsize="x-small")
            inset.ticklabel_format(axis="x", style="plain", useOffset=False)
            inset.xaxis.set_major_locator(MaxNLocator(3))
    caption = (
        f"Arc reciprocity in {null.n_networks} randomized networks that keep every account's numbers of followers and "
        f"followees (grey) against the observed r (red line): the further the line from the grey bars, the less the "
        f"observed follow-backs can be explained by who follows how many (z = {null.z_score:.1f}, empirical {p_words(null.p_value)})."
    )
    if np.isfinite(null.analytic) and null.subgraph is None:
        caption += f" The dashed line is the configuration model's formula from the same numbers, r = {decimal(null.analytic, 3)}."
    if null.subgraph is not None:
        caption += (
            f" The randomized networks rewire a random {null.subgraph.share_of_accounts:.0%} of the accounts, and the red "
            "line is that subgraph's r."
        )
    if zoomed:
        caption += " The inset zooms in on the grey bars, too narrow to see at the scale of the red line."
    return Figure(fig, caption)


def followback_rates(behaviour: AccountBehaviour, camps: TwoCamps) -> Figure:
    """Distributions of the follow-back and followed-back rates of accounts with enough followers."""
    title = "Who follows back"
    eligible = behaviour.table[behaviour.table["followers"] >= camps.min_followers] if behaviour.observable else behaviour.table.iloc[:0]
    if len(eligible) < 2 or behaviour.owner_only:
        return _not_drawn(
            title,
            "Not enough accounts with observed followers",
            "Distributions of follow-back rates are not drawn: they need the followers of many accounts (see the notes above).",
        )
    hue = _kind_hue(eligible)
    bins = np.linspace(0, 1, 21)
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.8), sharey=True)
        for ax, column, label in zip(axes, ("follow_back_rate", "followed_back_rate"), ("follow-back rate", "followed-back rate")):
            data = eligible.dropna(subset=[column])
            sns.histplot(data=data, x=column, hue=hue, bins=bins, stat="percent", common_norm=False, element="step", ax=ax)
            for threshold in (camps.low, camps.high):
                ax.axvline(threshold, color="0.3", linestyle="--", linewidth=1)
            ax.set_xlabel(label)
        axes[0].set_ylabel("percent of accounts")
        fig.suptitle(title)
    overall = camps.overall()
    caption = (
        f"Left: of each account's followers, the share it follows back; right: of the accounts it follows, the share "
        f"following back; {len(eligible):,} accounts with at least {camps.min_followers} followers"
        f"{', each kind normalised separately' if hue else ''}. Two camps would show as mass piled at both ends beyond "
        f"the dashed lines: here {overall['share_above']:.0%} follow back more than {camps.high:.0%} and "
        f"{overall['share_below']:.0%} fewer than {camps.low:.0%}."
    )
    return Figure(fig, caption)


def follower_following_ratio(behaviour: AccountBehaviour) -> Figure:
    """Distribution of log10(followers / following) by kind."""
    title = "Follower/following ratio"
    table = behaviour.table
    usable = table[(table["followers"] > 0) & (table["following"] > 0)]
    if len(usable) < 2 or behaviour.owner_only:
        return _not_drawn(
            title,
            "Not enough accounts with followers and followees",
            "The distribution of follower/following ratios is not drawn: it needs the followers and followees of many accounts.",
        )
    data = usable.assign(log_ratio=np.log10(usable["followers"] / usable["following"]))
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 3.6))
        sns.histplot(data=data, x="log_ratio", hue=_kind_hue(data), bins=30, stat="percent", common_norm=False, element="step", ax=ax)
        ax.axvline(0, color="0.3", linestyle="--", linewidth=1)
        ax.set_xlabel("log10(followers / following)")
        ax.set_ylabel("percent of accounts")
        ax.set_title(title)
    caption = (
        "Accounts right of the dashed line have more followers than followees (broadcasters), left of it fewer "
        f"(followers of others); {len(table) - len(usable):,} accounts without followers or without followees are not drawn."
    )
    return Figure(fig, caption)


def followback_survival(timing: FollowBackTiming) -> Figure:
    """Kaplan-Meier share of follows not yet returned against days since the follow, with 95% bands."""
    title = "How fast follows are returned"
    curves = timing.survival
    if curves.empty or timing.n_returned == 0:
        return _not_drawn(
            title,
            "No follow-back timing for this dataset",
            "Time to follow-back is not drawn: it was not measured here (the notes above say why)."
            if curves.empty
            else "Time to follow-back is not drawn: no follow with a known time was returned.",
        )
    groups = [ALL_ACCOUNTS] + sorted(g for g in curves["group"].unique() if g != ALL_ACCOUNTS)
    colours = dict(zip(groups, ["0.15"] + sns.color_palette("colorblind", len(groups) - 1)))
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        for group in groups:  # all accounts and one curve per group
            curve = curves[curves["group"] == group]
            ax.step(curve["days"], curve["share_not_returned"], where="post", color=colours[group], label=f"followed account: {group}")
            ax.fill_between(curve["days"], curve["lower"], curve["upper"], step="post", color=colours[group], alpha=0.15, linewidth=0)
        ax.set_xscale("symlog", linthresh=1)
        ax.set_ylim(0, 1.02)
        ax.set_xlabel("days since the follow (log scale beyond 1 day)")
        ax.set_ylabel("share not yet followed back")
        ax.legend(fontsize="small")
        ax.set_title(title)
    caption = (
        f"Kaplan–Meier estimate of the share of {timing.n_initiating:,} follows not yet returned, by days since the follow, "
        f"with 95% simultaneous Hall–Wellner bands (wide at the very first events by construction); a steep early drop means "
        f"follow-backs come fast, the level where a curve flattens is the share never returned (crude: "
        f"{timing.share_never_returned:.0%}). Median latency among the {timing.n_returned:,} returned follows: "
        f"{timing.median_latency_days:.2g} days."
    )
    return Figure(fig, caption)


def engagement_patterns(engagement: EngagementReciprocity) -> Figure:
    """Stacked shares of pairs by engagement direction (everyone observed) or owner's engagement by group."""
    title = "Engagement inside follow pairs"
    if len(engagement.table):
        return _pair_patterns(engagement, title)
    if len(engagement.owner_table):
        return _owner_engagement(engagement, title)
    return _not_drawn(
        title,
        "Engagement between follow pairs is not observable here",
        "Engagement reciprocity is not drawn: the source does not record the engagement it needs (see the notes above).",
    )


def _pair_patterns(engagement: EngagementReciprocity, title: str) -> Figure:
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 3))
        for row, pair_type in enumerate(("mutual", "one-way")):
            rows = engagement.table[engagement.table["pair_type"] == pair_type]
            left = 0.0
            for pattern, share in zip(rows["pattern"], rows["share"].fillna(0)):  # a few patterns per bar
                ax.barh(row, share, left=left, color=PATTERN_COLOURS[pattern], edgecolor="white")
                if share >= 0.06:
                    ax.text(left + share / 2, row, f"{share:.0%}", ha="center", va="center", fontsize="small")
                left += share
        total = engagement.table.groupby("pair_type")["pairs"].sum()
        ax.set_yticks([0, 1], [f"mutual pairs\n({total.get('mutual', 0):,})", f"one-way pairs\n({total.get('one-way', 0):,})"])
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share of pairs")
        handles = [plt.Rectangle((0, 0), 1, 1, color=PATTERN_COLOURS[p]) for p in PATTERN_LEGEND]
        ax.legend(handles, list(PATTERN_LEGEND.values()), fontsize="small", loc="upper center", bbox_to_anchor=(0.5, -0.3), ncols=3)
        ax.set_title(title)
    caption = (
        f"Engagement between the two accounts of each follow pair {engagement.period}: true reciprocity is the first "
        f"segment of the mutual bar (engagement both ways); grey is follow pairs with no engagement at all (for mutual "
        f"pairs: dormant mutuals)."
    )
    return Figure(fig, caption)


def _owner_engagement(engagement: EngagementReciprocity, title: str) -> Figure:
    table = engagement.owner_table
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7.5, 2.6))
        ax.barh(table["group"], table["share_engaged"].fillna(0), color=sns.color_palette("colorblind", len(table)))
        for row, (share, count) in enumerate(zip(table["share_engaged"], table["accounts"])):  # three groups
            label = f"{share:.0%} of {count:,}" if pd.notna(share) else "no accounts"
            ax.text(min(share if pd.notna(share) else 0, 0.85) + 0.01, row, label, va="center", fontsize="small")
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("share the owner engaged with")
        ax.set_title(title)
    caption = (
        f"Share of each group of the owner's contacts that the owner engaged with {engagement.period}. Only the owner's "
        "own engagement is in this export, so whether engagement was returned cannot be seen."
    )
    return Figure(fig, caption)


__all__ = [
    "engagement_patterns",
    "followback_rates",
    "followback_survival",
    "follower_following_ratio",
    "null_distribution",
    "show_ego_lists",
    "show_notes",
    "show_rows",
]

"""Figures of study 03: engagement by mutual status, effects across models, the moderator, validation.

Every effect is drawn on a log scale (a ratio of 2 and a ratio of 1/2 are equally far from 1)
with its 95% interval; the reference line at 1 means "no difference".
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns

from . import STYLE, Figure, draw_empty

HEADLINE_COLOUR = "#c0392b"
OTHER_COLOUR = "0.3"


NICE_RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 4, 5, 7.5, 10, 20, 50, 100, 200, 500, 1000)


def _ratio_ticks(axis, low: float, high: float) -> None:
    """Plain-number ticks (0.5, 1, 2, ...) on a log axis, about five of them, never 2 x 10^0."""
    inside = [v for v in NICE_RATIOS if low <= v <= high] or [1]
    step = max(1, len(inside) // 6)
    chosen = sorted(set(inside[::step]) | ({1} if low <= 1 <= high else set()))
    axis.set_major_locator(mticker.FixedLocator(chosen))
    axis.set_major_formatter(mticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_locator(mticker.NullLocator())


def _log_ratio_axis(ax: plt.Axes, label: str, vertical: bool = False) -> None:
    """A log-scaled ratio axis with a dashed reference line at 1."""
    if vertical:
        ax.set_yscale("log")
        ax.axhline(1.0, color="0.5", lw=1, ls="--")
        ax.set_ylabel(label)
        _ratio_ticks(ax.yaxis, *ax.get_ylim())
    else:
        ax.set_xscale("log")
        ax.axvline(1.0, color="0.5", lw=1, ls="--")
        ax.set_xlabel(label)
        _ratio_ticks(ax.xaxis, *ax.get_xlim())


def raw_engagement(raw: pd.DataFrame, rate_column: str | None = None) -> Figure:
    """Share of follows with any engagement (and the rate, when exposure is known) by mutual status."""
    has_share = "share_engaged" in raw
    rate_column = rate_column or next((c for c in raw.columns if c.startswith("rate_per_")), None)
    panels = [p for p, present in (("share", has_share), ("rate", rate_column is not None)) if present]
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(3.4 * max(len(panels), 1) + 0.6, 3.2), squeeze=False)
        if not panels or raw.empty:
            draw_empty(axes[0, 0], "No engagement observed")
        for ax, panel in zip(axes[0], panels):
            if panel == "share":
                values, low, high, label = (
                    raw["share_engaged"],
                    raw["share_ci_low"],
                    raw["share_ci_high"],
                    "share of follows with any engagement",
                )
            else:
                values, low, high, label = (
                    raw[rate_column],
                    raw["rate_ci_low"],
                    raw["rate_ci_high"],
                    rate_column.replace("_", " ").replace("rate", "events"),
                )
            positions = np.arange(len(raw))
            ax.bar(positions, values, color=["0.65", HEADLINE_COLOUR], width=0.6)
            ax.errorbar(positions, values, yerr=[values - low, high - values], fmt="none", ecolor="black", capsize=5, lw=1.2)
            ax.set_xticks(positions, raw["status"])
            ax.set_ylabel(label)
        fig.suptitle("a's engagement toward b, by whether b follows a back", fontsize="medium")
        fig.tight_layout()
    caption = (
        "Raw comparison, no controls: bars are follows that are returned (mutual) and not (one-way); whiskers are 95% "
        "intervals clustered on both accounts. The gap mixes any effect of the follow-back with who tends to follow back."
    )
    return Figure(fig, caption)


def effects_forest(table: pd.DataFrame, headline: str | None = None, title: str = "The mutual effect across specifications") -> Figure:
    """Rate (or odds) ratios with 95% intervals, one row per specification, grouped."""
    with sns.axes_style(STYLE):
        n_groups = table["group"].nunique() if "group" in table and len(table) else 0
        height = 1.2 + 0.3 * (max(len(table), 1) + n_groups)
        fig, ax = plt.subplots(figsize=(8, height))
        if table.empty:
            draw_empty(ax, "No specification could be estimated")
        else:
            table = table.reset_index(drop=True)
            groups = table["group"] if "group" in table else pd.Series("", index=table.index)
            # One line per specification, with a bold heading line above each group.
            slots, labels, bold = [], [], []
            line = 0
            for group, part in table.groupby(groups, sort=False):
                if group:
                    labels.append(group)
                    bold.append(True)
                    line += 1
                for index in part.index:
                    slots.append((index, line))
                    labels.append("   " + table.loc[index, "model"])
                    bold.append(False)
                    line += 1
            total = line
            rows = [index for index, _ in slots]
            positions = np.array([total - 1 - where for _, where in slots])
            shown = table.loc[rows]
            colours = [HEADLINE_COLOUR if model == headline else OTHER_COLOUR for model in shown["model"]]
            ax.hlines(positions, shown["ci_low"], shown["ci_high"], colors=colours, lw=1.4)
            ax.scatter(shown["estimate"], positions, c=colours, zorder=3, s=28)
            odds = shown.get("ratio", pd.Series("", index=shown.index)).eq("odds ratio").to_numpy()
            if odds.any():
                ax.scatter(shown["estimate"][odds], positions[odds], facecolors="white", edgecolors="black", zorder=4, s=28)
            ax.set_yticks(np.arange(total)[::-1], labels, fontsize="small")
            for tick, is_bold in zip(ax.get_yticklabels(), bold):
                tick.set_fontweight("bold" if is_bold else "normal")
            ax.set_ylim(-0.7, total - 0.3)
            _log_ratio_axis(ax, "ratio, mutual vs one-way (log scale)")
        ax.set_title(title)
        fig.tight_layout()
    caption = (
        "Each row is one model of a's engagement toward b; the dot is the ratio for mutual against one-way follows and the "
        "line its 95% interval (two-way clustered on both accounts). Red: the adjusted estimate with fixed effects for every "
        "account; open dots are odds ratios (any engagement), the rest rate ratios. Rows that agree show the conclusion does "
        "not hang on one choice."
    )
    return Figure(fig, caption)


def interval_methods(comparison: pd.DataFrame) -> Figure:
    """The adjusted effect's 95% interval under each way of treating dependence between dyads."""
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7, 0.5 + 0.42 * max(len(comparison), 1)))
        positions = np.arange(len(comparison))[::-1]
        centre = np.sqrt(comparison["ci_low"] * comparison["ci_high"])
        colours = [HEADLINE_COLOUR if "two-way" in label else OTHER_COLOUR for label in comparison["interval"]]
        ax.hlines(positions, comparison["ci_low"], comparison["ci_high"], colors=colours, lw=2)
        ax.scatter(centre, positions, color="black", zorder=3, s=22)
        ax.set_yticks(positions, comparison["interval"])
        _log_ratio_axis(ax, "rate ratio, mutual vs one-way (log scale)")
        ax.set_title(f"One estimate, {len(comparison)} intervals")
        fig.tight_layout()
    caption = (
        "The same adjusted estimate with intervals that allow for more and more dependence between dyads that share an "
        "account. Intervals that ignore it (top rows) are narrower than the truth warrants when dyads of one account move "
        "together; the headline uses the two-way clustered interval (red)."
    )
    return Figure(fig, caption)


def moderation(result, label: str = "b's follow-back rate (share of its other followers it follows back)") -> Figure:
    """The mutual effect along the returning account's follow-back rate, with a 95% band."""
    curve = result.curve
    column = result.moderator
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(6.5, 4))
        ax.fill_between(curve[column], curve["ci_low"], curve["ci_high"], color=HEADLINE_COLOUR, alpha=0.2, lw=0)
        ax.plot(curve[column], curve["rate_ratio"], color=HEADLINE_COLOUR)
        _log_ratio_axis(ax, "rate ratio, mutual vs one-way (log scale)", vertical=True)
        if len(result.moderator_values):
            # A rug along the bottom edge: where the returning accounts of the mutual pairs lie.
            ax.plot(
                result.moderator_values,
                np.full(len(result.moderator_values), 0.02),
                "|",
                color="0.3",
                alpha=0.15,
                ms=8,
                transform=ax.get_xaxis_transform(),
            )
        ax.set_xlabel(label)
        ax.set_title("Is a follow-back worth less from an account that follows back everyone?")
        fig.tight_layout()
    interaction = result.interaction
    low, high = interaction.interval()
    caption = (
        "How much more a engages with b once b follows back, by how indiscriminately b follows back (fixed effects for every "
        f"account; band: 95% two-way interval; ticks: returning accounts of the mutual pairs). The slope's ratio per unit of "
        f"rate is {interaction.value:.2f} (95% interval {low:.2f} to {high:.2f}); a falling curve means follow-backs from "
        "accounts that follow back nearly everyone carry less engagement."
    )
    return Figure(fig, caption)


def timing(result) -> Figure:
    """Event-study view: each week before the follow-back and each window after it, against earlier one-way time."""
    bins = result.bins
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(9.5, 3.8))
        estimated = bins["ratio"].notna().to_numpy()
        if not estimated.any():
            draw_empty(ax, "Too few pairs were seen long before their follow-back to compare")
        else:
            positions = np.arange(len(bins))
            shown = bins[estimated]
            colours = np.where(shown["kind"] == "lead", "0.35", HEADLINE_COLOUR)
            for x, row, colour in zip(positions[estimated], shown.itertuples(), colours):
                ax.errorbar(
                    [x],
                    [row.ratio],
                    yerr=[[row.ratio - row.ci_low], [row.ci_high - row.ratio]],
                    fmt="o",
                    color=colour,
                    ecolor=colour,
                    capsize=3,
                )
            if np.isfinite(result.margin):
                ax.axhspan(1 / result.margin, result.margin, color="0.85", alpha=0.5, lw=0, zorder=0)
            ax.axvline(bins["kind"].eq("lead").sum() - 0.5, color="0.3", lw=1)
            low_end = min(float(shown["ci_low"].min()), 1 / result.margin) / 1.1
            high_end = max(float(shown["ci_high"].max()), result.margin) * 1.1
            ax.set_ylim(low_end, high_end)  # the whole margin band in view
            _log_ratio_axis(ax, "rate ratio within the pair (log scale)", vertical=True)
            ax.set_xticks(
                positions, [label.replace(" before", "\nbefore").replace(" after", "\nafter") for label in bins["bin"]], fontsize=7
            )
        ax.set_title("Within the same pairs: week by week before the follow-back, and after it")
        fig.tight_layout()
    leads = bins[bins["kind"] == "lead"]
    if result.after is None:
        seen = f"only {result.reference_arcs:,} pairs were" if result.reference_arcs else "no pair was"
        caption = f"No estimate: {seen} seen one-way more than {result.lead_weeks} weeks before the follow-back, too few for a baseline."
    else:
        low, high = result.after.interval()
        caption = (
            f"a's engagement toward b within the same pair, relative to its one-way time more than {result.lead_weeks} weeks "
            f"before b followed back (pair and calendar-period fixed effects; 95% intervals). Grey: the {len(leads)} weeks "
            f"before; red: after. The shaded band is the margin (a factor {result.margin:g} either way) inside which every "
            f"week before must lie, by its 90% interval, for a causal reading. After the follow-back the ratio averages "
            f"{result.after.value:.2f} (95% interval {low:.2f} to {high:.2f}); verdict: {result.verdict_words}."
        )
    return Figure(fig, caption)


def predictive(result) -> Figure:
    """Out-of-time AUC of each predictor with its bootstrap interval."""
    table = result.table
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7, 0.8 + 0.5 * len(table)))
        positions = np.arange(len(table))[::-1]
        ax.errorbar(
            table["auc"],
            positions,
            xerr=[table["auc"] - table["ci_low"], table["ci_high"] - table["auc"]],
            fmt="o",
            color=HEADLINE_COLOUR,
            ecolor="black",
            capsize=3,
        )
        ax.axvline(0.5, color="0.5", lw=1, ls="--")
        ax.set_yticks(positions, table["predictor"])
        ax.set_xlabel("AUC for any engagement of a toward b in the next window (0.5 = chance)")
        ax.set_xlim(0.4, 1.0)
        ax.set_title("Predicting engagement out of time")
        fig.tight_layout()
    caption = (
        "How well each feature, known at a cut-off, ranks follows by whether a engages with b in the following third of the "
        "data (95% intervals: bootstrap resampling followers and followees independently). Compare mutual status with b's "
        "follower count: a feature can matter for the rate yet rank pairs poorly, and the other way round."
    )
    return Figure(fig, caption)


def validation_coverage(summary: pd.DataFrame, target: tuple[float, float] = (0.92, 0.98)) -> Figure:
    """Coverage of 95% intervals by estimator and interval, per scenario, against the target band."""
    table = summary[summary["coverage"].notna()] if "coverage" in summary else summary.iloc[0:0]
    with sns.axes_style(STYLE):
        scenarios = list(dict.fromkeys(table["scenario"])) if len(table) else []
        fig, axes = plt.subplots(1, max(len(scenarios), 1), figsize=(4.2 * max(len(scenarios), 1) + 1.5, 3.6), sharey=True, squeeze=False)
        if not scenarios:
            draw_empty(axes[0, 0], "No validation results")
        for ax, scenario in zip(axes[0], scenarios):
            part = table[table["scenario"] == scenario]
            labels = part["estimator"] + "\n" + part["interval"]
            positions = np.arange(len(part))[::-1]
            ax.axvspan(*target, color="#2e86c1", alpha=0.15, lw=0)
            ax.axvline(0.95, color="#2e86c1", lw=1)
            ax.scatter(part["coverage"], positions, color=[HEADLINE_COLOUR if "two-way" in i else OTHER_COLOUR for i in part["interval"]])
            ax.set_yticks(positions, labels, fontsize="x-small")
            ax.set_xlim(-0.02, 1.02)
            ax.set_xlabel("coverage of the planted ratio")
            ax.set_title(scenario, fontsize="small")
        fig.tight_layout()
    replications = int(table["replications"].min()) if len(table) else 0
    caption = (
        f"Share of {replications:,} replications whose 95% interval contains the planted ratio, on networks generated with "
        f"known truth; the band marks {target[0]:.0%}-{target[1]:.0%} (with few replications the shares are rough). "
        "Estimators that are biased, or intervals that ignore dependence, fall short of it."
    )
    return Figure(fig, caption)

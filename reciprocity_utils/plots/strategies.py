"""Figures of study 04 (follow strategies), each with a caption, and the interactive explorer for teaching.

Colours follow the order of the policies passed in, so the same policy keeps its colour across
the frontier, the trajectories, the sensitivity map and the scenario grid of one notebook.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.patches import Patch

from .. import strategies as st
from . import STYLE, Figure, draw_empty

TRAJECTORY_MEASURES = ("followers", "followees", "signal_share", "two_way_relationships", "engagement_received", "spam_read")
# Daily flows are noisy day to day; a week's rolling mean shows the trend.
SMOOTHED_MEASURES = {"engagement_received", "engagement_given"}
LABELS = {
    "followers": "followers (reach)",
    "followees": "followees",
    "signal_share": "signal share of what is read",
    "two_way_relationships": "two-way relationships",
    "engagement_received": "engagement received per day",
    "spam_read": "spam posts read per day",
    "timeline_volume": "timeline posts per day",
    "posts_read": "posts read per day",
    "engagement_given": "engagement given per day",
}


def policy_colours(names: list[str]) -> dict[str, tuple]:
    """A stable colour per policy name, in the order given."""
    palette = sns.color_palette("colorblind", max(len(names), 1))
    return dict(zip(names, palette))


def frontier(results_by_scenario: dict[str, dict[str, st.SimulationResult]]) -> Figure:
    """Reach against signal share at the horizon for every policy, one panel per scenario, with the Pareto frontier."""
    names = list(next(iter(results_by_scenario.values())).keys()) if results_by_scenario else []
    colours = policy_colours(names)
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(1, max(1, len(results_by_scenario)), figsize=(5.6 * max(1, len(results_by_scenario)), 4.4), squeeze=False)
        said = []
        for ax, (scenario, results) in zip(axes[0], results_by_scenario.items()):
            points = []
            for name, result in results.items():
                x = st.interval(result.horizon["signal_share"], *st.measure_bounds("signal_share"))
                y = st.interval(result.horizon["followers"], *st.measure_bounds("followers"))
                ax.errorbar(
                    x["mean"],
                    y["mean"],
                    xerr=_half_widths(x),
                    yerr=_half_widths(y),
                    fmt="o",
                    ms=7,
                    color=colours[name],
                    label=name,
                    capsize=3,
                )
                points.append((x["mean"], y["mean"]))
            front = _pareto(points)
            on_front = [name for name, point in zip(results, points) if point in front]
            if len(front) > 1:
                ax.plot(*zip(*front), color="0.55", ls="--", lw=1, zorder=0, label="trade-off frontier")
                said.append(
                    f"for the {scenario}, the dashed frontier joins {_names(on_front)}: "
                    f"{'neither' if len(on_front) == 2 else 'none of them'} gains reach without losing signal, and a "
                    "policy below and left of it is beaten on both"
                )
            elif on_front:
                said.append(f"for the {scenario}, {_names(on_front)} is best on both reach and signal, so there is no trade-off to draw")
            ax.set_xlabel("signal share of what is read (final month)")
            ax.set_ylabel("followers at the horizon")
            ax.set_xlim(-0.03, 1.03)
            ax.set_title(f"{scenario}: reach against signal")
        handles, labels = axes[0][0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncols=min(4, len(labels)), fontsize="small", bbox_to_anchor=(0.5, -0.12))
        fig.tight_layout()
    caption = (
        "Each point is a policy: followers kept at the horizon (reach) against the share of what the owner reads that "
        "comes from accounts with engagement in both directions (signal), mean over replications with 95% intervals"
        + ("; " + "; ".join(said) if said else "")
        + "."
    )
    return Figure(fig, caption)


def _names(names: list[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


def _half_widths(summary: dict[str, float]) -> list[list[float]] | None:
    if math.isnan(summary["ci_low"]):
        return None
    return [[summary["mean"] - summary["ci_low"]], [summary["ci_high"] - summary["mean"]]]


def _pareto(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not beaten on both coordinates (higher is better), sorted by the first."""
    front = [p for p in points if not any(q[0] >= p[0] and q[1] >= p[1] and q != p for q in points)]
    return sorted(set(front))


def trajectories(results: dict[str, st.SimulationResult], measures: tuple[str, ...] = TRAJECTORY_MEASURES, title: str = "") -> Figure:
    """Outcomes day by day for every policy: mean over replications with a 95% band."""
    colours = policy_colours(list(results))
    columns = 3
    rows = math.ceil(len(measures) / columns)
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(rows, columns, figsize=(12, 3.1 * rows), sharex=True, squeeze=False)
        for ax, measure in zip(axes.flat, measures):
            for name, result in results.items():
                line = result.trajectory(measure)
                if measure in SMOOTHED_MEASURES:
                    line[["mean", "ci_low", "ci_high"]] = line[["mean", "ci_low", "ci_high"]].rolling(7, min_periods=1).mean()
                ax.plot(line["day"], line["mean"], color=colours[name], lw=1.4, label=name)
                ax.fill_between(line["day"], line["ci_low"], line["ci_high"], color=colours[name], alpha=0.2, lw=0)
            ax.set_title(
                LABELS.get(measure, measure.replace("_", " ")) + (" (7-day mean)" if measure in SMOOTHED_MEASURES else ""),
                fontsize="medium",
            )
        for ax in axes.flat[len(measures) :]:
            ax.set_visible(False)
        for ax in axes[-1]:
            ax.set_xlabel("day")
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(handles, labels, loc="lower center", ncols=min(3, len(labels)), fontsize="small", bbox_to_anchor=(0.5, -0.06))
        if title:
            fig.suptitle(title)
        fig.tight_layout()
    caption = (
        "How each policy's outcomes unfold day by day (mean over replications, shaded 95% interval of the mean). "
        "Watch followers fall where follows are not returned, the timeline shrink after pruning or the reset, and signal "
        "share rise when attention goes to fewer accounts."
    )
    return Figure(fig, caption)


def sensitivity_map(result: st.SensitivityResult, weightings: dict[str, dict[str, float]], contests: dict[str, list[str] | None]) -> Figure:
    """Which policy wins in each (attention budget, churn hazard) cell: one panel per contest and weighting."""
    names = list(result.frame["policy"].unique())
    colours = policy_colours(names)
    budgets, hazards = result.budgets, result.hazards
    with sns.axes_style("white"):
        fig, axes = plt.subplots(len(contests), len(weightings), figsize=(5.4 * len(weightings), 3.9 * len(contests)), squeeze=False)
        for row, (contest, policies) in enumerate(contests.items()):
            for column, (weighting, weights) in enumerate(weightings.items()):
                ax = axes[row][column]
                winners = result.winners(**weights, policies=policies)
                for _, cell in winners.iterrows():  # one rectangle per grid cell (tens)
                    i, j = hazards.index(cell["churn_hazard"]), budgets.index(cell["attention_budget"])
                    ax.add_patch(
                        plt.Rectangle(
                            (i, j),
                            1,
                            1,
                            facecolor=colours[cell["winner"]],
                            edgecolor="white",
                            hatch=None if cell["clear"] else "///",
                            alpha=1.0 if cell["clear"] else 0.55,
                        )
                    )
                ax.set_xlim(0, len(hazards))
                ax.set_ylim(0, len(budgets))
                ax.set_xticks(np.arange(len(hazards)) + 0.5, [f"{h:.4f}" for h in hazards], fontsize="small")
                ax.set_yticks(np.arange(len(budgets)) + 0.5, [f"{b:,.0f}" for b in budgets], fontsize="small")
                ax.set_xlabel("churn hazard of followers not followed back (per day)")
                ax.set_ylabel("attention budget (posts read per day)")
                ax.set_title(f"{contest}: valued as a {weighting}", fontsize="medium")
        legend = [Patch(facecolor=colours[n], label=n) for n in names] + [
            Patch(facecolor="white", edgecolor="0.4", hatch="///", label="win not clear")
        ]
        fig.legend(handles=legend, loc="lower center", ncols=min(4, len(legend)), fontsize="small", bbox_to_anchor=(0.5, -0.08))
        fig.tight_layout()
    caption = (
        "The policy with the highest mean utility in each cell (utility = reach weight x followers + signal weight x "
        "posts read from two-way accounts - noise weight x other posts read, with each preset's weights). Hatched "
        "cells: the 95% interval of the paired difference to the runner-up includes zero, so the data cannot separate them."
    )
    return Figure(fig, caption)


def scenario_grid(
    result: st.SensitivityResult, weights: dict[str, float], budgets: list[float] | None = None, hazards: list[float] | None = None
) -> Figure:
    """Small multiples for a few (budget, churn) scenarios: followers and signal read per policy, winner starred."""
    names = list(result.frame["policy"].unique())
    colours = policy_colours(names)
    budgets = budgets or _spread(result.budgets)
    hazards = hazards or _spread(result.hazards)
    means = result.cell_means()
    winners = result.winners(**weights).set_index(["attention_budget", "churn_hazard"])["winner"]
    with sns.axes_style(STYLE):
        fig, axes = plt.subplots(len(budgets), len(hazards), figsize=(3.6 * len(hazards), 2.9 * len(budgets)), squeeze=False, sharex=True)
        for i, budget in enumerate(reversed(budgets)):
            for j, hazard in enumerate(hazards):
                ax = axes[i][j]
                cell = means[(means["attention_budget"] == budget) & (means["churn_hazard"] == hazard)]
                for _, policy in cell.iterrows():
                    star = policy["policy"] == winners.get((budget, hazard))
                    ax.scatter(
                        policy["followers"],
                        policy["signal_read"],
                        s=140 if star else 45,
                        marker="*" if star else "o",
                        color=colours[policy["policy"]],
                        edgecolor="black" if star else "none",
                        zorder=3,
                    )
                ax.set_title(f"budget {budget:,.0f}/day, churn {hazard:.4f}/day", fontsize="small")
                ax.tick_params(labelsize="x-small")
                if j == 0:
                    ax.set_ylabel("signal posts read/day", fontsize="small")
                if i == len(budgets) - 1:
                    ax.set_xlabel("followers at horizon", fontsize="small")
        legend = [plt.Line2D([], [], marker="o", ls="", color=colours[n], label=n) for n in names]
        legend.append(plt.Line2D([], [], marker="*", ms=12, ls="", color="white", markeredgecolor="black", label="winner"))
        fig.legend(handles=legend, loc="lower center", ncols=4, fontsize="small", bbox_to_anchor=(0.5, -0.07))
        fig.tight_layout()
    caption = (
        f"{len(budgets) * len(hazards)} scenarios from scarce (bottom) to plentiful (top) attention and from no churn (left) to fast churn (right): "
        "each dot is a policy's mean followers and mean posts read per day from two-way accounts; the star marks the "
        "winner under the weights stated in the text. Scarce attention rewards fewer followees, fast churn rewards following back."
    )
    return Figure(fig, caption)


def _spread(values: list[float], count: int = 3) -> list[float]:
    if len(values) <= count:
        return list(values)
    return [values[i] for i in np.linspace(0, len(values) - 1, count).round().astype(int)]


def replay_precision_recall(replay: st.ReplayResult) -> Figure:
    """Precision and recall of each score's follow-back over its thresholds, with each policy as a point."""
    curves, summary = st.replay_precision_recall(replay)
    with sns.axes_style(STYLE):
        fig, ax = plt.subplots(figsize=(7, 4.6))
        if replay.table.empty or replay.table["recall"].isna().all():
            draw_empty(ax, "No followers, or no engagement by the owner after the cutoff: nothing to score")
        else:
            palette = sns.color_palette("muted", max(1, len(summary)))
            for colour, (_, row) in zip(palette, summary.iterrows()):
                curve = curves[curves["score"] == row["score"]]
                ax.step(
                    curve["recall"],
                    curve["precision"],
                    where="post",
                    color=colour,
                    lw=1.3,
                    label=f"{row['score'].replace('_', ' ')} (AP {row['average_precision']:.2f})",
                )
            points = replay.table.dropna(subset=["precision", "recall"])
            markers = dict(zip(points["policy"], "osD^vP*Xh"))
            for _, point in points.iterrows():
                ax.scatter(
                    point["recall"],
                    point["precision"],
                    marker=markers[point["policy"]],
                    s=60,
                    color="black",
                    zorder=4,
                    label=point["policy"],
                )
            if len(summary):
                ax.axhline(summary["base_rate"].iloc[0], color="0.6", ls=":", lw=1, label="follow everyone (base rate)")
            ax.set_xlabel("recall: share of later-engaged followers the policy reads")
            ax.set_ylabel("precision: share of read followers engaged later")
            ax.set_xlim(-0.02, 1.02)
            ax.set_ylim(-0.02, 1.02)
            ax.legend(fontsize="x-small", loc="upper right", ncols=2)
        ax.set_title("Replay: whom each policy reads against whom the owner engaged with")
    caption = (
        "Lines: following back by one score, over all its thresholds (AP = average precision; the dotted line is what "
        "following back everyone achieves). Points: the policies of the simulation and the owner's actual choices, "
        "applied to the owner's real followers and scored against whom the owner engaged with after the cutoff."
    )
    return Figure(fig, caption)


def strategy_explorer(policies: list[st.Policy], scenario: st.Scenario, replications: int = 6, seed: int = 0, render_now: bool = False):
    """Sliders for the main parameters, redrawing the frontier and a table of outcomes (ipywidgets, for JupyterLab).

    Nothing is simulated until a slider moves, unless ``render_now``: building the widget in a
    non-interactive run (papermill) costs nothing and blocks nothing.
    """
    try:
        import ipywidgets as widgets
    except ImportError:
        raise RuntimeError("the explorer's sliders need ipywidgets: pip install 'reciprocity-utils[lab]' (or run `make lab`)") from None

    from . import show, show_table

    # Wide enough for the longest label ("attention a reading list takes ..."): JupyterLab cuts labels with an ellipsis.
    style = {"description_width": "17rem"}
    layout = widgets.Layout(width="44rem")

    def slider(description: str, value: float, low: float, high: float, step: float, kind=widgets.FloatSlider, **extra):
        return kind(
            value=value, min=low, max=high, step=step, description=description, continuous_update=False, style=style, layout=layout, **extra
        )

    controls = {
        # A log scale: budgets from 5 to 5,000 posts a day (min and max are powers of ten).
        "attention_budget": slider(
            "attention budget (posts/day)", scenario.attention_budget, 0.7, 3.7, 0.05, kind=widgets.FloatLogSlider, base=10
        ),
        "churn_hazard": slider("churn hazard (per day)", round(scenario.churn_hazard, 4), 0.0, 0.02, 0.0005, readout_format=".4f"),
        "spam_share": slider("spam share of followers", scenario.spam_share, 0.0, 0.5, 0.01),
        "mutual_rate_ratio": slider("mutual engagement ratio", scenario.mutual_rate_ratio, 0.5, 4.0, 0.1),
        "noise_weight": slider("cost of a noise post", scenario.noise_weight, 0.0, 1.0, 0.05),
        # The assumption the tornado most often finds decisive for the person preset.
        "list_cost": slider(
            "attention a reading list takes (posts/day)", scenario.list_cost, 0.0, round(scenario.attention_budget, 1), 0.5
        ),
    }
    output = widgets.Output()

    def redraw(_change=None) -> None:
        chosen = st.Scenario(**{**scenario.as_dict(), **{k: w.value for k, w in controls.items()}})
        results = st.compare_policies(policies, chosen, replications=replications, seed=seed)
        table = st.summary_table(results, ("followers", "signal_share", "two_way_relationships", "engagement_received", "utility"))
        wide = table.pivot(index="policy", columns="measure", values="mean").reset_index()
        with output:
            output.clear_output(wait=True)
            show(frontier({chosen.name: results}))
            show_table(wide)

    for control in controls.values():
        control.observe(redraw, "value")
    # The hint is a widget of its own rather than content captured into ``output``: capturing
    # output in a headless kernel (papermill, ipykernel 7) was seen to hang.
    hint = widgets.HTML("" if render_now else "<i>Move a slider to simulate.</i>")
    box = widgets.VBox(
        [
            widgets.HTML(f"<b>Explore the {scenario.name} scenario</b> ({replications} replications per policy; each change re-simulates)"),
            *controls.values(),
            hint,
            output,
        ]
    )
    if render_now:
        redraw()
    return box


def assumption_tornado(table) -> "Figure":
    """The winner's lead at the low and high end of each assumption, one bar per assumption, widest swing on top."""
    base = table.attrs.get("base_winner", "the winner")
    spans = table.pivot_table(index="assumption", columns="end", values="lead", sort=False)
    changes = table.groupby("assumption", sort=False)["winner_changes"].any()
    from_data = table.groupby("assumption", sort=False)["from_data"].any()
    order = (spans.max(axis=1) - spans.min(axis=1)).sort_values().index
    with sns.axes_style("whitegrid"):
        fig, ax = plt.subplots(figsize=(8.5, 0.6 * len(order) + 1.6))
        for position, name in enumerate(order):
            low, high = spans.loc[name, "low"], spans.loc[name, "high"]
            colour = "#c0392b" if changes[name] else "#7f8c8d"
            ax.plot([low, high], [position, position], color=colour, linewidth=8, solid_capstyle="butt")
            ax.plot([low], [position], marker="<", color="black", markersize=6)
            ax.plot([high], [position], marker=">", color="black", markersize=6)
        ax.axvline(0, color="black", linewidth=1)
        ax.axvline(table.attrs.get("base_lead", np.nan), color="black", linestyle=":", linewidth=1)
        ax.set_yticks(range(len(order)), [f"{name}{' (from the data)' if from_data[name] else ''}" for name in order], fontsize="small")
        ax.set_xlabel("lead in utility over the best other policy (below 0: another wins)")
        ax.set_title(f"Which assumption moves the lead of “{base}”", fontsize="medium")
        fig.tight_layout()
    moved = [name for name in order[::-1] if changes[name]]
    caption = (
        "Each assumption varied alone (◀ its low end, ▶ its high end), the others held at the scenario's values; the "
        "dotted line is the lead with the scenario's values. "
        + (
            f"Red bars cross zero: {', '.join(moved)} alone change{'s' if len(moved) == 1 else ''} the winner. "
            if moved
            else f"No bar crosses zero: no single assumption changes the winner from “{base}”. "
        )
        + f"The widest bar, {order[-1]}, moves the lead most."
    )
    return Figure(fig, caption)

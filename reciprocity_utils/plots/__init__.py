"""Figures for the study notebooks, each returned with a caption saying what to read in it.

The common pieces live here (:class:`Figure`, :func:`show`, :func:`show_table`); each study's
figures live in a module of their own (``dataset`` for 01, ...). Functions build a matplotlib
figure and never pick a backend: executed notebooks keep their figures only when the notebook's
own inline backend is in charge.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import re
from dataclasses import dataclass

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from ..model import INTERACTION_KINDS
from ..wording import p_text

PALETTE = dict(zip(INTERACTION_KINDS, sns.color_palette("colorblind", len(INTERACTION_KINDS))))
STYLE = "whitegrid"


@dataclass
class Figure:
    figure: plt.Figure
    caption: str


def is_empty(figure: plt.Figure) -> bool:
    """Whether every panel of the figure was left empty by :func:`draw_empty` (nothing the data could show)."""
    return bool(figure.axes) and all(getattr(ax, "_reciprocity_empty", False) for ax in figure.axes)


def figure_html(item: Figure, dpi: int = 110) -> str:
    """The figure as an embedded PNG with its caption as alternative text and as a visible caption.

    A figure with nothing to draw is not shown as an empty box: its caption, which says why and
    what data would make it possible, is written as a sentence instead.
    """
    if is_empty(item.figure):
        return f'<p class="not-drawn" style="color:#4a5160"><em>Not drawn.</em> {html.escape(item.caption)}</p>'
    buffer = io.BytesIO()
    item.figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    caption = html.escape(item.caption)
    return (
        f'<figure style="margin:1rem 0"><img src="data:image/png;base64,{encoded}" alt="{caption}" '
        f'style="max-width:100%;height:auto"><figcaption style="font-style:italic;color:#4a5160">{caption}</figcaption></figure>'
    )


def show(item: Figure) -> None:
    """Display a figure with its caption in a notebook, once (the rendered page keeps both)."""
    from IPython.display import HTML, display

    display(HTML(figure_html(item)))
    plt.close(item.figure)


# Recorded keys whose plain spelling would mislead a reader; every other key shows with spaces for underscores.
# Recorded keys in words, with units, for the index cards and the tables (a key without an entry
# is shown with spaces for underscores).
LABELS = {
    "accounts": "accounts",
    "follows": "follows",
    "mutual_pairs": "mutual pairs (both follow each other)",
    "arc_reciprocity": "share of follows returned (arc reciprocity)",
    "engagement_events": "engagement events",
    "rows_repaired": "input rows repaired",
    "dyad_reciprocity": "share of connected pairs that are mutual",
    "rho": "reciprocity beyond density (Garlaschelli–Loffredo ρ)",
    "null_z": "returned follows vs randomized networks (standard deviations above)",
    "null_p": "chance of as many returned follows in randomized networks (p)",
    "share_follow_back_above_80": "share of accounts following back over 80% of followers",
    "share_follow_back_below_20": "share of accounts following back under 20% of followers",
    "bimodality_p": "two-camps test p (calibrated)",
    "median_followback_latency_days": "median days to a follow-back",
    "mutual_pairs_engaged_both_ways": "share of mutual pairs engaging both ways",
    "mutual_pairs_engaged_one_way": "share of mutual pairs engaging one way only",
    "mutual_pairs_dormant": "share of mutual pairs with no engagement (dormant)",
    "one_way_pairs_engaged_both_ways": "share of one-way pairs engaging both ways",
    "adjusted_irr": "engagement with mutual vs one-way follows, adjusted (ratio)",
    "adjusted_irr_ci_low": "its 95% interval, from",
    "adjusted_irr_ci_high": "its 95% interval, to",
    "raw_irr": "the same ratio without adjustment",
    "owner_irr": "the owner's engagement with accounts that follow back vs those that do not (ratio)",
    "owner_irr_ci_low": "its 95% interval, from",
    "owner_irr_ci_high": "its 95% interval, to",
    "toward_owner_irr": "followers' engagement with the owner, followed back vs not (ratio)",
    "toward_owner_irr_ci_low": "its 95% interval, from",
    "toward_owner_irr_ci_high": "its 95% interval, to",
    "planted_ratio": "planted ratio (generated data)",
    "owner_engages_mutuals": "share of mutuals the owner engaged with",
    "owner_engages_followees_not_following_back": "share of followees not following back that the owner engaged with",
    "person_winner": "strategy that wins for a person",
    "person_signal_share_follow_everyone": "a person following everyone: share of posts read that come from two-way accounts",
    "person_signal_share_selective": "a selective person: share of posts read that come from two-way accounts",
    "brand_followers_follow_everyone": "a brand following everyone: followers at the end (accounts)",
    "brand_followers_selective": "a selective brand: followers at the end (accounts)",
    "map_share_won_by_follow_everyone_without_lists_person": "assumption map: share of settings where following everyone without lists wins for a person",
    "map_share_won_by_follow_everyone_without_lists_brand": "assumption map: share of settings where following everyone without lists wins for a brand",
    "replay_precision_selective": "replay of the owner's data: share of accounts kept by the selective rule that the owner engaged with",
    "replay_recall_selective": "replay of the owner's data: share of accounts the owner engaged with that the selective rule kept",
    "brand_winner": "strategy that wins for a brand",
    "mutual_rate_ratio_used": "engagement ratio the simulation used (times)",
    "person_winner_share_of_runs": "share of simulated runs the person's winning strategy wins",
    "brand_winner_share_of_runs": "share of simulated runs the brand's winning strategy wins",
    "churn_hazard_used": "daily unfollow hazard the simulation used",
    # Columns of the churn estimate (study 04).
    "share_lost": "share who left",
    "follower_intervals": "follower-intervals at risk",
    "departures": "departures (one per interval)",
    "daily_hazard": "daily hazard of leaving",
    "hazard_ci_low": "95% interval, low",
    "hazard_ci_high": "95% interval, high",
}


def format_label(key: str) -> str:
    """A recorded key as the index and the notebooks' tables label it."""
    return LABELS.get(key, key.replace("_", " "))


def format_value(value, missing: str = "—") -> str:
    """Numbers as a reader expects them: thousands separated, four significant digits, None as a dash."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return missing
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if np.isfinite(value) and abs(value) >= 1000:
            # 10,090 rather than 1.009e+04: from a thousand up, four significant digits need no decimals.
            return f"{value:,.0f}"
        if np.isfinite(value) and 0 < abs(value) < 1e-6:
            return "< 0.000001" if value > 0 else "> -0.000001"  # readers do not read exponents
        if np.isfinite(value) and 0 < abs(value) < 1e-4:
            # 0.0000123 rather than 1.23e-05.
            return f"{value:.{2 - int(np.floor(np.log10(abs(value))))}f}"
        return f"{value:,.4g}"
    return str(value)


P_VALUE_COLUMN = re.compile(r"(^|[\s_(])p([\s_-]?value)?($|[\s_)])|p-value|p_value", re.IGNORECASE)


def table_html(frame: pd.DataFrame | dict, columns: tuple[str, str] = ("measure", "value")) -> str:
    """A table (or a {name: value} mapping) as HTML: no index, numbers formatted and right-aligned, text left."""
    if isinstance(frame, dict):
        frame = pd.DataFrame({columns[0]: [format_label(k) for k in frame], columns[1]: list(frame.values())})
    # Column names in words: a table never shows a variable name.
    frame = frame.rename(columns={c: format_label(c) for c in frame.columns if isinstance(c, str) and "_" in c})
    numeric = [c for c in frame.columns if all(isinstance(v, (int, float, np.integer, np.floating)) or v is None for v in frame[c])]
    shown = frame.astype(object).map(format_value) if len(frame) else frame
    for column in [c for c in numeric if P_VALUE_COLUMN.search(str(c))]:
        # p-values as "< 0.001", never 3.992e-09.
        shown[column] = [format_value(v) if v is None or not np.isfinite(float(v)) else p_text(float(v)) for v in frame[column]]
    # A content-derived id keeps rendered pages identical from run to run.
    uuid = hashlib.sha256(shown.to_csv().encode()).hexdigest()[:8]
    # Cells and headers may hold text from the inputs (handles, notes): escaped, never markup.
    styled = shown.style.format(escape="html").format_index(escape="html", axis=1)
    styled = styled.set_uuid(uuid).hide(axis="index").set_table_attributes('class="reciprocity-table"')
    styled = styled.set_properties(**{"text-align": "left"}).set_properties(subset=numeric, **{"text-align": "right"})
    return styled.to_html()


def show_table(frame: pd.DataFrame | dict, columns: tuple[str, str] = ("measure", "value")) -> None:
    """Display :func:`table_html` in a notebook."""
    from IPython.display import HTML, display

    display(HTML(table_html(frame, columns)))


_SHOWN_REASONS: set[str] = set()


def show_unavailable(reason: str) -> None:
    """Say in prose, not code output, that a section cannot be computed: in full the first time, then by reference."""
    from IPython.display import HTML, display

    if reason in _SHOWN_REASONS:
        text = "Not computed for this source, for the reason given above."
    else:
        _SHOWN_REASONS.add(reason)
        text = f"Not computed for this source. {reason}"
    display(HTML(f'<p class="not-drawn" style="color:#4a5160"><em>{html.escape(text)}</em></p>'))


def draw_empty(ax: plt.Axes, message: str) -> None:
    ax._reciprocity_empty = True  # a page shows the caption as a sentence instead of this panel
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="0.4")
    ax.set_xticks([])
    ax.set_yticks([])


from .dataset import activity_over_time, degree_distributions, engagement_by_kind  # noqa: E402  (needs the helpers above)

__all__ = [
    "LABELS",
    "PALETTE",
    "STYLE",
    "Figure",
    "activity_over_time",
    "degree_distributions",
    "draw_empty",
    "is_empty",
    "show_unavailable",
    "engagement_by_kind",
    "figure_html",
    "format_label",
    "format_value",
    "show",
    "show_table",
    "table_html",
]

"""Study 03's dyad table read from the aggregates an engine wrote (:mod:`reciprocity_utils.engines.dyad_sql`).

The engine counted, per follow, the events each way by kind and period and each end's totals
over the whole network; here they become the same :class:`~reciprocity_utils.dyads.DyadTable`
that :func:`~reciprocity_utils.dyads.build_dyads` makes in memory, through the same assembly
(covariates leaving the pair out, exposure, blanks for what the source did not observe, notes).
Only the table comes into memory, never the follows or the events behind it.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .dyads import NOT_A_TIME, DyadTable, _as_times, _compact, _exposure, _mutual_since, assemble_dyads
from .engines.dyad_sql import ABOUT_FILE, BYTES_PER_ROW, DYADS_FILE, STATE_COLUMNS
from .model import INTERACTION_KINDS, Coverage, Provenance, ValidationReport, build_dataset, engine_name


def has_dyad_aggregates(folder: str | Path) -> bool:
    folder = Path(folder)
    return (folder / ABOUT_FILE).is_file() and (folder / DYADS_FILE).exists()


def _about(folder: Path) -> dict:
    return json.loads((folder / ABOUT_FILE).read_text(encoding="utf-8"))


def aggregate_rows(folder: str | Path) -> int:
    """How many follows the table holds (from its description, without reading it)."""
    return int(_about(Path(folder))["aggregates"]["arcs"])


def _stated_coverage(inputs: dict[str, str]) -> Coverage | None:
    folder = Path(inputs["follows"]).parent
    if (folder / "dataset.json").is_file():
        return Coverage(**json.loads((folder / "dataset.json").read_text(encoding="utf-8"))["coverage"])
    if (folder / "coverage.json").is_file():
        from .io.generic import read_coverage

        return read_coverage(folder / "coverage.json")
    return None


def dyad_coverage(folder: str | Path) -> Coverage:
    """What the input observed, as the in-memory loaders would say: the stated coverage, else engagement from its presence;
    follow times and the time span from the data."""
    about = _about(Path(folder))
    aggregates, inputs = about["aggregates"], about["inputs"]
    coverage = _stated_coverage(inputs)
    if coverage is None:
        coverage = Coverage(engagement_observed="everyone" if aggregates["events_kept"] else "none")
    start, end = aggregates["window_start_us"], aggregates["window_end_us"]
    return dataclasses.replace(
        coverage,
        follow_times=bool(aggregates["timed_arcs"]),
        time_start=None if start is None else _stamp(start).isoformat(),
        time_end=None if end is None else _stamp(end).isoformat(),
    )


def _stamp(us: int) -> pd.Timestamp:
    return pd.Timestamp(int(us), unit="us", tz="UTC")


def _accounts(inputs: dict[str, str], ids: pd.Index) -> pd.DataFrame:
    """The accounts of the table in ``ids`` order with the attributes the input's accounts table gives (validated in memory)."""
    path = inputs.get("accounts")
    given = None
    if path:
        from .io.generic import read_table

        given = build_dataset(None, accounts=read_table(Path(path)), source=Path(path).parent.name).accounts
    frame = pd.DataFrame({"account_id": pd.Series(ids, dtype="string")})
    if given is None:
        frame["is_owner"] = False
        frame["kind"] = pd.Series(pd.NA, index=frame.index, dtype="string")
        return frame
    merged = frame.merge(given.drop_duplicates("account_id"), on="account_id", how="left", sort=False)
    merged["is_owner"] = merged["is_owner"].fillna(False).astype(bool)
    merged["kind"] = merged["kind"].astype("string")
    return merged


def read_dyad_table(folder: str | Path, coverage: Coverage | None = None, community_column: str | None = "auto") -> DyadTable:
    """The dyad table the engine's aggregates in ``folder`` describe (rows sorted by follower, then followee id)."""
    folder = Path(folder)
    about = _about(folder)
    coverage = coverage or dyad_coverage(folder)
    table = pd.read_parquet(folder / DYADS_FILE)
    if len(table):
        # Spark writes part files whose order the reader may not keep: sort by the pair again.
        table = table.sort_values(["a_id", "b_id"], kind="stable", ignore_index=True)
    a_ids, b_ids = table.pop("a_id").astype("string"), table.pop("b_id").astype("string")
    ids = pd.Index(pd.concat([a_ids, b_ids]).unique()).sort_values()
    a = ids.get_indexer(a_ids).astype(np.int64)
    b = ids.get_indexer(b_ids).astype(np.int64)
    del a_ids, b_ids
    n = len(ids)

    def per_account(column: str) -> np.ndarray:
        values = np.zeros(n, dtype=np.int64)
        values[a] = table.pop(f"a_{column}").to_numpy(dtype=np.int64)
        values[b] = table.pop(f"b_{column}").to_numpy(dtype=np.int64)
        return values

    accounts_figures = {name: per_account(name) for name in ("followers", "following", "returned", "sent", "received")}
    followed = table.pop("followed_us").fillna(NOT_A_TIME).to_numpy(dtype=np.int64)
    mutual = table.pop("mutual").to_numpy(dtype=np.int64) == 1
    followed_back = table.pop("followed_back_us").fillna(NOT_A_TIME).to_numpy(dtype=np.int64)
    followed_back[~mutual] = NOT_A_TIME
    mutual_since = _mutual_since(mutual, followed, followed_back)
    aggregates = about["aggregates"]
    start, end = aggregates["window_start_us"], aggregates["window_end_us"]
    window = (None, None) if start is None else (_stamp(start), _stamp(end))

    def column(name: str) -> np.ndarray:
        return table.pop(name).to_numpy(dtype=np.int64)

    counts = {
        "ab_per_kind": [column(f"ab_{kind}") for kind in INTERACTION_KINDS],
        "ba_per_kind": [column(f"ba_{kind}") for kind in INTERACTION_KINDS],
        "ab_total": column("ab_total"),
        "ba_total": column("ba_total"),
        "ab_mutual": column("ab_mutual"),
        "before_follow": column("ab_before_follow"),
        "ba_before_follow": column("ba_before_follow"),
        "undated": column("ab_undated") == 1,
    }
    followed_at = _as_times(followed)
    state_counts = pd.DataFrame({name: _compact(column(name)) for name in STATE_COLUMNS}) if STATE_COLUMNS[0] in table else None
    frame, notes = assemble_dyads(
        _accounts(about["inputs"], ids),
        ids.array,
        coverage,
        community_column,
        a,
        b,
        mutual,
        followed_at,
        followed,
        followed_back,
        mutual_since,
        window,
        _exposure(followed, mutual_since, mutual, *window),
        counts,
        accounts_figures,
    )
    return DyadTable(frame, window[0], window[1], notes, state_counts=state_counts)


@dataclass
class WholeNetworkDyads:
    """Study 03's per-follow table of a whole network an engine measured, or why it stays on disk.

    Reads like a study dataset where the pages describe their data (``counts()``, ``coverage``,
    ``validation``, ``provenance``): the whole network, with the engagement the engine counted.
    ``table`` is None when the table would not fit in memory (``too_large`` says so in words).
    """

    coverage: Coverage
    validation: ValidationReport
    provenance: Provenance
    whole_counts: dict[str, Any]
    engine: str
    subgraph_words: str
    table: DyadTable | None = None
    too_large: str | None = None

    def counts(self) -> dict[str, Any]:
        return dict(self.whole_counts)

    def scope_notes(self) -> list[str]:
        """What the page's models ran on, in sentences."""
        from .engines.subgraph import SUBGRAPH_CAVEAT

        if self.table is None:
            return [self.too_large or ""]
        engine = engine_name(self.engine)
        return [
            f"The models below use the whole network: all {self.whole_counts['follows']:,} follows, with the engagement "
            f"between the two accounts of each, before and after its follow-back, counted by the {engine} engine over the "
            "whole data.",
            "The timing design and the out-of-time prediction need each engagement event's time, which the whole network's "
            f"table does not keep: they use a random subgraph, {self.subgraph_words}. {SUBGRAPH_CAVEAT}",
        ]


def load_whole_network_dyads(
    folder: str | Path,
    network_counts: dict[str, Any],
    validation: ValidationReport,
    provenance: Provenance,
    subgraph_words: str,
    available_bytes: int | None = None,
) -> WholeNetworkDyads:
    """The whole network's dyad table in ``folder`` when it fits in half the memory available, else its description alone."""
    from .engines.choice import available_memory_bytes

    folder = Path(folder)
    aggregates = _about(folder)["aggregates"]
    coverage = dyad_coverage(folder)
    by_kind = aggregates.get("events_by_kind") or {}
    counts = {
        **network_counts,
        "interaction_rows": int(aggregates["events_kept"]),
        "interaction_events": int(sum(by_kind.values())),
        **{f"events_{kind}": int(by_kind.get(kind, 0)) for kind in INTERACTION_KINDS},
    }
    validation = dataclasses.replace(
        validation,
        rows_read={**validation.rows_read, "interactions": int(aggregates["events_read"])},
        rows_kept={**validation.rows_kept, "interactions": int(aggregates["events_kept"])},
        repairs={**validation.repairs, "interaction_self_loops_removed": int(aggregates["events_read"] - aggregates["events_kept"])},
    )
    whole = WholeNetworkDyads(coverage, validation, provenance, counts, aggregates["engine"], subgraph_words)
    available = available_memory_bytes() if available_bytes is None else available_bytes
    needed = int(aggregates["arcs"]) * BYTES_PER_ROW
    if needed > available / 2:
        whole.too_large = (
            f"The whole network's table of {int(aggregates['arcs']):,} follows would take about {needed / 2**30:.1f} GiB in "
            f"memory, more than half of the {available / 2**30:.1f} GiB available here: the models use a random subgraph."
        )
        return whole
    whole.table = read_dyad_table(folder, coverage)
    return whole

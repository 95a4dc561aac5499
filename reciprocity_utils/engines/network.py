"""A follow network too large to load, as studies 01 and 02 read it: measured by an engine.

An engine (DuckDB out of core, or Spark) counts the follows and writes the per-account table;
only that table (a few numbers per account) and a seeded random subgraph come into memory. The
subgraph, the follows among a random share of the accounts, is what the degree-preserving null
model rewires and what studies 03 and 04 run on; every page that uses it says so.

The folder it lives in holds raw account ids: it is private, like a saved study dataset.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ..model import (
    INTERACTION_KINDS,
    Coverage,
    InputFile,
    Provenance,
    RawTable,
    StudyDataset,
    ValidationReport,
    build_dataset,
    empty_follow_events,
    file_sha256,
)
from ..paths import open_for_writing, output_folder
from .engagement_sql import EngagementSummary, engagement_summary
from .inputs import follow_input, is_follow_list
from .measures import FollowMeasures
from .subgraph import SubgraphDraw, companion_tables, draw_subgraph, stated_coverage

NETWORK_FILE = "network.json"
ACCOUNTS_FILE = "accounts.parquet"
SUBGRAPH_FOLDER = "subgraph"
# Study 03's dyad aggregates over the whole network, where the input records engagement (dyad_sql.py).
DYADS_FOLDER = "dyads"
FORMAT = "reciprocity-measured-network/1"
# The subgraph studies 03-04 and the null model work on: about this many follows (README, "Performance").
DEFAULT_SUBGRAPH_FOLLOWS = 300_000
MEASURED_ENGINES = ("duckdb", "spark")


def _empty_interactions() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "actor_id": pd.Series(dtype="string"),
            "target_id": pd.Series(dtype="string"),
            "kind": pd.Categorical([], categories=list(INTERACTION_KINDS)),
            "at": pd.Series(dtype="datetime64[us, UTC]"),
            "count": pd.Series(dtype="int64"),
            "source": pd.Series(dtype="string"),
        }
    )


@dataclass(frozen=True)
class MeasuredNetwork:
    """What studies 01-02 need of a network measured out of memory; the dataset's own words for it.

    ``coverage``, ``validation`` and ``provenance`` are those of a study dataset (the pages print
    them the same way). There is no follows table in memory: per-account figures come from
    :meth:`account_table`, anything needing single follows from :meth:`subgraph_dataset`.
    """

    measures: FollowMeasures
    coverage: Coverage
    provenance: Provenance
    validation: ValidationReport
    draw: SubgraphDraw
    folder: Path
    # The whole network's engagement counted by the engine, where the input records everyone's
    # (else None), and the folder it read: study 02 counts who engaged with whom from it.
    engagement: EngagementSummary | None = None
    engagement_input: str | None = None
    spark_master: str | None = None

    owner_id = None  # a whole network: no owner

    @property
    def interactions(self) -> pd.DataFrame:
        return _empty_interactions()

    @property
    def follow_events(self) -> pd.DataFrame:
        return empty_follow_events()

    def counts(self) -> dict[str, Any]:
        """The counts a loaded dataset reports, from the engine's measures (engagement where it was read)."""
        m = self.measures
        by_kind = self.engagement.events_by_kind if self.engagement else {}
        return {
            "accounts": m.accounts,
            "follows": m.follows,
            "returned_follows": m.returned_follows,
            "mutual_pairs": m.mutual_pairs,
            "arc_reciprocity": m.r if m.follows else None,
            "interaction_rows": self.engagement.rows_kept if self.engagement else 0,
            "interaction_events": self.engagement.events if self.engagement else 0,
            **{f"events_{kind}": int(by_kind.get(kind, 0)) for kind in INTERACTION_KINDS},
        }

    def account_table(self, columns: list[str] | None = None) -> pd.DataFrame:
        """The per-account table (sorted by account id): followers, following, mutual partners."""
        return pd.read_parquet(self.folder / ACCOUNTS_FILE, columns=columns)

    def subgraph_dataset(self) -> StudyDataset:
        return StudyDataset.load(self.folder / SUBGRAPH_FOLDER)

    def save(self, folder: str | Path) -> Path:
        """Copy the measured network into ``folder`` (private: raw ids)."""
        folder = output_folder(folder, private=True)
        if folder.resolve() != self.folder.resolve():
            # Linked, not copied, where both folders share a file system: the per-account table of a
            # billion-follow network is gigabytes, and neither copy is ever written again.
            # Spark writes the per-account table as a folder of part files, DuckDB and memory as one file.
            for name in (ACCOUNTS_FILE, SUBGRAPH_FOLDER, DYADS_FOLDER):
                source, target = self.folder / name, folder / name
                if target.is_dir() and not target.is_symlink():
                    shutil.rmtree(target)
                else:
                    target.unlink(missing_ok=True)
                if not source.exists():  # no whole-network dyad table: the input records no engagement
                    continue
                if source.is_dir():
                    shutil.copytree(source, target, copy_function=_link_or_copy)
                else:
                    _link_or_copy(source, target)
        meta = {
            "format": FORMAT,
            "measures": self.measures.as_dict(),
            "coverage": asdict(self.coverage),
            "provenance": asdict(self.provenance),
            "validation": asdict(self.validation),
            "draw": asdict(self.draw),
            "engagement": asdict(self.engagement) if self.engagement else None,
            "engagement_input": self.engagement_input,
            "spark_master": self.spark_master,
        }
        with open_for_writing(folder / NETWORK_FILE, private=True) as handle:
            handle.write(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "MeasuredNetwork":
        folder = Path(folder)
        meta = json.loads((folder / NETWORK_FILE).read_text(encoding="utf-8"))
        known = {f.name for f in dataclasses.fields(FollowMeasures)}
        measures = {k: v for k, v in meta["measures"].items() if k in known}
        measures["notes"] = tuple(measures.get("notes") or ())
        measures["configuration_r"] = float("nan") if measures.get("configuration_r") is None else measures["configuration_r"]
        provenance = meta["provenance"]
        provenance["inputs"] = [InputFile(**item) for item in provenance["inputs"]]
        return cls(
            FollowMeasures(**measures),
            Coverage(**meta["coverage"]),
            Provenance(**provenance),
            ValidationReport(**meta["validation"]),
            SubgraphDraw(**meta["draw"]),
            folder,
            # Absent from a network measured before engagement was counted.
            EngagementSummary(**meta["engagement"]) if meta.get("engagement") else None,
            meta.get("engagement_input"),
            meta.get("spark_master"),
        )


def _link_or_copy(source: str | Path, target: str | Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def is_measured_network_folder(path: Path) -> bool:
    return path.is_dir() and (path / NETWORK_FILE).exists()


def _coverages(
    engine: str, draw: SubgraphDraw, stated: Coverage | None, whole_dyads: bool = False, engagement: EngagementSummary | None = None
) -> tuple[Coverage, Coverage]:
    """What the whole network's measures could observe, and what the subgraph's tables can."""
    notes = (
        [
            f"The random subgraph keeps what the input records among its accounts: the engagement ({draw.interactions:,} engagement rows) "
            "and the follow times where it has them."
        ]
        if draw.interactions
        else []
    )
    start, end = engagement.time_span() if engagement else (None, None)
    observed = "none"
    if engagement and stated is not None:
        # What the source says of its engagement (e.g. totals without times, none with outsiders) holds for the whole network's counts.
        notes = [*stated.notes, *notes]
        observed = stated.engagement_observed
    elif engagement:
        observed = "everyone" if engagement.rows_kept else "none"  # as build_dataset decides without a stated coverage
    whole = Coverage(
        scope="network",
        engagement_observed=observed,
        follow_times=bool(engagement and engagement.timed_follows),
        time_start=start,
        time_end=end,
        notes=notes,
        engine=engine,
        engine_read_engagement=engagement is not None,
    )
    if not draw.whole:
        whole.notes.append(draw.words(whole_dyads))
    base = stated or Coverage(engagement_observed="everyone" if draw.interactions else "none")
    sub_notes = [*base.notes, *([] if draw.whole else [draw.words(whole_dyads)])]
    subgraph = dataclasses.replace(base, scope="network", notes=sub_notes, sampled=not draw.whole)
    return whole, subgraph


def records_everyones_engagement(tables: dict[str, Path], stated: Coverage | None) -> bool:
    """Whether the input's tables record engagement in both directions between all the accounts (what the engines count)."""
    engagement = stated.engagement_observed if stated is not None else "everyone"
    return "interactions" in tables and engagement == "everyone" and not (stated is not None and stated.scope == "ego")


def _write_whole_network_dyads(
    source, folder: Path, engine: str, draw: SubgraphDraw, stated: Coverage | None, memory_limit, temp_directory, spark_master
) -> bool:
    """Study 03's dyad aggregates of the whole network, where the input records everyone's engagement, the subgraph is
    not all of it and the table would fit in memory when the study reads it (else study 03 uses the subgraph, which
    its page says: computing a table no study can read would cost time and disk for nothing)."""
    from .choice import available_memory_bytes
    from .dyad_sql import BYTES_PER_ROW, write_dyad_aggregates

    target = folder / DYADS_FOLDER
    if target.is_dir() and not target.is_symlink():
        shutil.rmtree(target)  # from an earlier measure of another input
    tables = companion_tables(source)
    if draw.whole or not records_everyones_engagement(tables, stated):
        return False
    if draw.whole_follows * BYTES_PER_ROW > available_memory_bytes() / 2:
        return False
    write_dyad_aggregates(
        tables["follows"].parent, target, engine, memory_limit=memory_limit, temp_directory=temp_directory, spark_master=spark_master
    )
    return True


def _accounts_note(accounts_table: Path | None) -> tuple[str, int | None]:
    """How the whole network's accounts were counted, and the accounts table's rows (counted by DuckDB: cheap at any size)."""
    rule = "accounts are those named in at least one follow (an account named only in a follow of itself is not counted)"
    if accounts_table is None:
        return f"No accounts table was given: {rule}.", None
    import duckdb

    from .duckdb_engine import table_reader

    with duckdb.connect() as connection:
        rows = int(connection.execute(f"SELECT COUNT(*) FROM {table_reader(accounts_table)}").fetchone()[0])
    return (
        f"The accounts table ({rows:,} rows) gives the random subgraph its accounts' kinds and handles; for the whole "
        f"network's counts, {rule}.",
        rows,
    )


def measure_network(
    path: str | Path,
    folder: str | Path,
    engine: str = "duckdb",
    seed: int = 0,
    subgraph_follows: int = DEFAULT_SUBGRAPH_FOLLOWS,
    memory_limit: str = "4GB",
    temp_directory: str | Path | None = None,
    spark_master: str | None = "local[2]",
    label: str | None = None,
) -> MeasuredNetwork:
    """Measure the follows at ``path`` with ``engine`` and draw the subgraph, into the private ``folder``."""
    from .choice import measure_follows

    if engine not in MEASURED_ENGINES:
        raise ValueError(f"a measured network uses the duckdb or spark engine, not {engine!r}")
    if isinstance(subgraph_follows, bool) or not isinstance(subgraph_follows, int) or subgraph_follows < 2:
        raise ValueError(f"subgraph_follows must be a whole number of at least 2, not {subgraph_follows!r}")
    if not is_follow_list(path):
        raise ValueError(
            f"{Path(str(path)).name}: the {engine} engine reads follow lists (Parquet, CSV with follower_id and followee_id, "
            "or an edge list); this looks like an export, which is loaded in memory (engine = memory)"
        )
    folder = output_folder(folder, private=True)
    source = follow_input(path)
    accounts_file = folder / ACCOUNTS_FILE
    measures = measure_follows(
        path,
        engine=engine,
        accounts_file=accounts_file,
        memory_limit=memory_limit,
        temp_directory=temp_directory,
        spark_master=spark_master,
    )
    label = label or source.label
    measures = dataclasses.replace(measures, source=label, accounts_file=ACCOUNTS_FILE)
    stated = stated_coverage(source)
    engagement, engagement_input = None, None
    companions = companion_tables(source)
    if records_everyones_engagement(companions, stated):
        # Counted over the whole network, a few numbers (study 01); study 02 reads the folder again for its window.
        # Before the subgraph is drawn: a value the engine cannot read is reported with its file, not the subgraph's row.
        engagement_input = str(companions["follows"].parent)
        engagement = engagement_summary(
            engagement_input, engine, memory_limit=memory_limit, temp_directory=temp_directory, spark_master=spark_master
        )
    tables, chosen_ids, share = draw_subgraph(source, accounts_file, measures.follows, subgraph_follows, seed, memory_limit, spark_master)
    provenance = Provenance(
        loader=f"engine:{engine}",
        inputs=[] if source.remote else [InputFile(Path(p).name, file_sha256(Path(p)), Path(p).stat().st_size) for p in source.paths],
        parameters={"engine": engine, "memory_limit": memory_limit, "seed": seed, "subgraph_follows": subgraph_follows},
    )
    accounts_note, accounts_rows = _accounts_note(companions.get("accounts"))
    validation = ValidationReport(
        source=label,
        rows_read={"follows": measures.rows_read},
        rows_kept={"accounts": measures.accounts, "follows": measures.follows},
        notes=[accounts_note],
    )
    if accounts_rows is not None:
        validation.rows_read["accounts"] = accounts_rows
    validation.repairs["follow_self_loops_removed"] = measures.self_follows_removed
    validation.repairs["duplicate_follows_removed"] = measures.repeated_follows_removed
    # The drawn accounts' own rows where the input has an accounts table (kinds, handles), the rest by id alone.
    accounts = tables.get("accounts")
    listed = set(accounts["account_id"]) if accounts is not None else set()
    extra = pd.DataFrame({"account_id": chosen_ids[~chosen_ids.isin(listed)]})
    accounts = extra if accounts is None else pd.concat([accounts, extra], ignore_index=True)
    name = f"{label} (random subgraph)" if share < 1 else label
    first = build_dataset(
        RawTable(tables["follows"], f"{name}, follows"),
        interactions=RawTable(tables["interactions"], f"{name}, interactions") if "interactions" in tables else None,
        accounts=RawTable(accounts, f"{name}, accounts"),
        source=name,
    )
    draw = SubgraphDraw(
        share, seed, len(chosen_ids), len(first.follows), measures.accounts, measures.follows, subgraph_follows, len(first.interactions)
    )
    whole_dyads = _write_whole_network_dyads(source, folder, engine, draw, stated, memory_limit, temp_directory, spark_master)
    if engagement is not None:
        validation.rows_read["interactions"] = engagement.rows_read
        validation.rows_kept["interactions"] = engagement.rows_kept
        validation.repairs["interaction_self_loops_removed"] = engagement.self_engagement_removed
    coverage, subgraph_coverage = _coverages(engine, draw, stated, whole_dyads, engagement)
    subgraph = dataclasses.replace(
        first,
        coverage=dataclasses.replace(
            subgraph_coverage,
            follow_times=first.coverage.follow_times,
            time_start=first.coverage.time_start,
            time_end=first.coverage.time_end,
        ),
        provenance=dataclasses.replace(provenance, loader=f"engine:{engine} (random subgraph)"),
    )
    subgraph.save(folder / SUBGRAPH_FOLDER)
    network = MeasuredNetwork(
        measures, coverage, provenance, validation, draw, folder, engagement, engagement_input, spark_master if engine == "spark" else None
    )
    network.save(folder)
    return network

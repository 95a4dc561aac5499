"""A seeded random subgraph of a network too large to load: the follows among a random share of its accounts.

What needs single follows (the randomized networks of study 02, studies 03 and 04) runs on it.
The accounts are drawn in the order of the engine's per-account table (sorted by id), so every
engine draws the same subgraph for the same seed. The rows among the drawn accounts are read
again from the input with everything the data model knows: follow times, and where the input is
a folder of the generic format (or a saved dataset), its engagement and account attributes too.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..model import ACCOUNT_COLUMNS, FOLLOW_COLUMNS, INTERACTION_COLUMNS, Coverage
from .inputs import FollowInput

INDUCED_FOLLOWS = (
    "SELECT DISTINCT follower_id, followee_id FROM raw_follows WHERE follower_id <> followee_id "
    "AND follower_id IN (SELECT account_id FROM chosen_accounts) AND followee_id IN (SELECT account_id FROM chosen_accounts) "
    "ORDER BY follower_id, followee_id"
)
# Each table's columns of the data model, its id columns, and the order its rows are read in.
TABLES = {
    "follows": (FOLLOW_COLUMNS, ("follower_id", "followee_id")),
    "interactions": (INTERACTION_COLUMNS, ("actor_id", "target_id")),
    "accounts": (ACCOUNT_COLUMNS, ("account_id",)),
}


SUBGRAPH_CAVEAT = (
    "A subgraph keeps about the square of the share of the follows, fewer follows per account than the whole network, "
    "so its numbers describe the sample, not the whole network."
)


@dataclass(frozen=True)
class SubgraphDraw:
    """Which random subgraph was drawn, and what it kept of the input."""

    share_of_accounts: float
    seed: int
    accounts: int
    follows: int
    whole_accounts: int
    whole_follows: int
    limit: int
    interactions: int = 0  # engagement rows among the drawn accounts (0 when the input has none)

    @property
    def whole(self) -> bool:
        return self.accounts == self.whole_accounts

    def words(self, whole_network_dyads: bool = False) -> str:
        """Which studies use the subgraph and why; ``whole_network_dyads``: study 03's models have the whole network's table."""
        if self.whole:
            return f"The network's {self.whole_follows:,} follows are within the {self.limit:,} the in-memory studies take: they use all of them."
        users = (
            "Study 04, the randomized networks of study 02 and study 03's timing design and prediction (its models use the "
            "whole network's table)"
            if whole_network_dyads
            else "Studies 03 and 04 and the randomized networks of study 02"
        )
        return (
            f"{users} use a random subgraph: {self.sample_words()}, because "
            f"the whole network's {self.whole_follows:,} follows are more than the {self.limit:,} they take in memory (the "
            f"subgraph_follows parameter). {SUBGRAPH_CAVEAT}"
        )

    def sample_words(self) -> str:
        """Which follows the subgraph holds, in words."""
        return (
            f"the {self.follows:,} follows among a random {self.share_of_accounts:.1%} of the accounts ({self.accounts:,} of "
            f"{self.whole_accounts:,}, drawn with seed {self.seed})"
        )


def companion_tables(source: FollowInput) -> dict[str, Path]:
    """The input's other tables of the generic format (``follows.*`` beside ``interactions.*``, ``accounts.*``)."""
    if source.remote or source.kind == "edgelist" or len(source.paths) != 1 or not Path(source.paths[0]).name.startswith("follows."):
        return {}
    folder = Path(source.paths[0]).parent
    found = {"follows": Path(source.paths[0])}
    for name in ("interactions", "accounts"):
        for suffix in (".parquet", ".csv", ".csv.gz"):
            if (folder / f"{name}{suffix}").is_file():
                found[name] = folder / f"{name}{suffix}"
                break
    return found


def stated_coverage(source: FollowInput) -> Coverage | None:
    """What the input folder says it observed (a generic folder's coverage.json, a saved dataset's own)."""
    tables = companion_tables(source)
    if not tables:
        return None
    folder = tables["follows"].parent
    if (folder / "dataset.json").is_file():
        return Coverage(**json.loads((folder / "dataset.json").read_text(encoding="utf-8"))["coverage"])
    if (folder / "coverage.json").is_file():
        from ..io.generic import read_coverage

        return read_coverage(folder / "coverage.json")
    return None


def _rows_among_chosen(connection, name: str, path: Path) -> pd.DataFrame:
    """The table's model columns, for rows whose every id is a drawn account (ids compared as trimmed text)."""
    model_columns, ids = TABLES[name]
    from .duckdb_engine import table_reader

    reader = table_reader(path)
    present = [row[0] for row in connection.execute(f"DESCRIBE SELECT * FROM {reader}").fetchall()]
    columns = [c for c in model_columns if c in present]
    # Quoted names: "at" and "count" are SQL words.
    text = {c: f'TRIM(CAST("{c}" AS VARCHAR))' for c in ids}
    select = ", ".join(f'{text[c]} AS "{c}"' if c in text else f'"{c}"' for c in columns)
    where = " AND ".join(f"{text[c]} IN (SELECT account_id FROM chosen_accounts)" for c in ids)
    order = ", ".join(f'"{c}"' for c in ids)
    return connection.execute(f"SELECT {select} FROM {reader} WHERE {where} ORDER BY {order}").df()


def _read_with_duckdb(source: FollowInput, chosen, memory_limit: str) -> dict[str, pd.DataFrame]:
    from .duckdb_engine import DuckDBEngine, raw_follows_query

    reader = DuckDBEngine(memory_limit)
    try:
        reader.connection.register("chosen_accounts", chosen)
        tables = companion_tables(source)
        if not tables:  # an edge list or Parquet part files: the two ids, cleaned as the measures were
            reader.connection.execute(f"CREATE VIEW raw_follows AS {raw_follows_query(source)}")
            return {"follows": reader._execute(INDUCED_FOLLOWS, "draw the subgraph").df().astype("string")}
        return {name: _rows_among_chosen(reader.connection, name, path) for name, path in tables.items()}
    finally:
        reader.close()


def _read_with_spark(source: FollowInput, chosen, spark_master: str | None) -> dict[str, pd.DataFrame]:
    """For inputs on a cluster's storage: the two ids of each follow among the drawn accounts."""
    from .spark_engine import _quiet_pandas_warning, register_raw_follows, spark_session

    with _quiet_pandas_warning():
        session = spark_session(spark_master)
        register_raw_follows(session, source)
        session.createDataFrame(chosen.to_pandas()).createOrReplaceTempView("chosen_accounts")
        try:
            rows = session.sql(INDUCED_FOLLOWS).collect()
        finally:
            for view in ("raw_follows", "chosen_accounts"):
                session.catalog.dropTempView(view)
    return {"follows": pd.DataFrame(rows, columns=["follower_id", "followee_id"], dtype="string")}


def draw_subgraph(
    source: FollowInput,
    accounts_file: Path,
    whole_follows: int,
    max_follows: int,
    seed: int,
    memory_limit: str = "4GB",
    spark_master: str | None = "local[2]",
) -> tuple[dict[str, pd.DataFrame], pd.Series, float]:
    """The tables among a seeded random share of the accounts, the share chosen to keep about ``max_follows`` follows.

    Returns the raw rows per table (validated by the caller), the drawn account ids and the share.
    Local inputs are read again by DuckDB whichever engine measured them (the rows are few);
    inputs on a cluster's storage by Spark.
    """
    import pyarrow as pa

    ids = pd.read_parquet(accounts_file, columns=["account_id"])["account_id"].astype("string")
    share = 1.0 if whole_follows <= max_follows else math.sqrt(max_follows / whole_follows)
    chosen_mask = np.random.default_rng(seed).random(len(ids)) < share if share < 1 else np.ones(len(ids), dtype=bool)
    chosen_ids = ids[chosen_mask].reset_index(drop=True)
    chosen = pa.table({"account_id": pa.array(chosen_ids.to_numpy(dtype=object), type=pa.string())})
    tables = _read_with_spark(source, chosen, spark_master) if source.remote else _read_with_duckdb(source, chosen, memory_limit)
    return tables, chosen_ids, share

"""The follow-network measures as SQL that DuckDB and Spark SQL both run unchanged.

An engine registers its input as a view ``raw_follows(follower_id, followee_id)`` of text ids
(text keeps 64-bit and longer ids exact), then :func:`run_measures` asks it to materialize each
step and to fetch the few summary numbers. Everything large stays in the engine: its tables, its
spilling, its workers; only the summary rows reach Python.
"""

from __future__ import annotations

import time
from typing import Protocol

from .inputs import FollowInput, missing_ids_error
from .measures import FollowMeasures, expected_r_from_sums

# Each step: the name of the table it makes, and its query. Plain SQL (CASE, COALESCE, JOIN,
# UNION ALL, GROUP BY), no dialect-specific function.
STEPS = (
    (
        "follows",
        "SELECT DISTINCT follower_id, followee_id FROM raw_follows WHERE follower_id <> followee_id",
    ),
    (
        # Follow arcs a -> b whose reverse b -> a exists, counted per follower: its mutual partners.
        "mutual_by_account",
        "SELECT f.follower_id AS account_id, COUNT(*) AS mutual FROM follows f "
        "JOIN follows g ON f.follower_id = g.followee_id AND f.followee_id = g.follower_id GROUP BY f.follower_id",
    ),
    (
        # One grouped sum over three streams (aggregates spill to disk well; a full outer join of
        # two aggregates did not, under a tight memory limit).
        "accounts",
        "SELECT account_id, CAST(SUM(followers) AS BIGINT) AS followers, CAST(SUM(following) AS BIGINT) AS following, "
        "CAST(SUM(mutual) AS BIGINT) AS mutual, "
        "CASE WHEN SUM(followers) > 0 THEN CAST(SUM(mutual) AS DOUBLE) / SUM(followers) END AS followback_rate FROM ("
        "SELECT followee_id AS account_id, 1 AS followers, 0 AS following, 0 AS mutual FROM follows "
        "UNION ALL SELECT follower_id AS account_id, 0 AS followers, 1 AS following, 0 AS mutual FROM follows "
        "UNION ALL SELECT account_id, 0 AS followers, 0 AS following, mutual FROM mutual_by_account"
        ") counted GROUP BY account_id",
    ),
)
RAW_COUNTS = (
    "SELECT COUNT(*), COALESCE(SUM(CASE WHEN follower_id = followee_id THEN 1 ELSE 0 END), 0), "
    "COALESCE(SUM(CASE WHEN follower_id IS NULL OR followee_id IS NULL THEN 1 ELSE 0 END), 0) FROM raw_follows"
)
SUMMARY = (
    "SELECT COUNT(*), COALESCE(SUM(following), 0), COALESCE(SUM(mutual), 0), "
    "COALESCE(SUM(CAST(following AS DOUBLE) * followers), 0), "
    "COALESCE(SUM(CAST(following AS DOUBLE) * followers * CAST(following AS DOUBLE) * followers), 0) FROM accounts"
)


class SqlEngine(Protocol):
    name: str

    def materialize(self, table: str, query: str) -> None: ...

    def one_row(self, query: str) -> tuple: ...

    def write_accounts(self, path: str) -> None: ...


def run_measures(engine: SqlEngine, source: FollowInput, accounts_file: str | None) -> FollowMeasures:
    """Every measure of :class:`FollowMeasures` from the engine's ``raw_follows`` view (a row without both ids: the error)."""
    started = time.perf_counter()
    rows_read, self_follows, missing = (int(v) for v in engine.one_row(RAW_COUNTS))
    if missing:
        raise missing_ids_error(source, missing)
    for table, query in STEPS:
        engine.materialize(table, query)
    accounts, follows, returned, s1, s2 = engine.one_row(SUMMARY)
    if accounts_file is not None:
        engine.write_accounts(accounts_file)
    follows = int(follows)
    return FollowMeasures(
        source=source.label,
        engine=engine.name,
        rows_read=rows_read,
        self_follows_removed=self_follows,
        repeated_follows_removed=rows_read - self_follows - follows,
        follows=follows,
        accounts=int(accounts),
        returned_follows=int(returned),
        seconds=round(time.perf_counter() - started, 3),
        accounts_file=accounts_file,
        configuration_r=expected_r_from_sums(float(follows), float(s1), float(s2)),
    )

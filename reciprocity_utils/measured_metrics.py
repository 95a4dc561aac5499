"""Study 02's measures of a network measured out of memory (:class:`~.engines.network.MeasuredNetwork`).

The same results as :mod:`.metrics` gives a loaded dataset, from what the engine computed: r,
dyad reciprocity, density and rho from its counts; per-account behaviour from its per-account
table; the configuration model's r from the whole network's degrees, and the randomized networks
rewired on the seeded random subgraph (as :func:`.null_models.degree_preserving_null` does
beyond its limit, and said on the page the same way).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from .engines.network import MeasuredNetwork
from .null_models import NullModel, RewiredSubgraph, configuration_model_r, degree_preserving_null


def measured_reciprocity(network: MeasuredNetwork):
    from .metrics import Reciprocity

    m = network.measures
    notes = () if m.follows else ("There are no follows, so reciprocity is undefined.",)
    return Reciprocity(m.accounts, m.follows, m.mutual_pairs, m.r, m.dyad_reciprocity, m.density, m.rho, notes)


def measured_behaviour(network: MeasuredNetwork):
    from .metrics import AccountBehaviour, _share

    table = network.account_table(["account_id", "followers", "following", "mutual"])
    followers, following, mutual = (table[c].to_numpy(np.int64) for c in ("followers", "following", "mutual"))
    table = pd.DataFrame(
        {
            "account_id": table["account_id"].astype("string"),
            "kind": pd.Series(pd.NA, index=table.index, dtype="string"),
            "followers": followers,
            "following": following,
            "mutual": mutual,
            "follow_back_rate": _share(mutual, followers),
            "followed_back_rate": _share(mutual, following),
            "follower_following_ratio": _share(followers, following),
        }
    )
    return AccountBehaviour(table, len(table) > 0)


def measured_null_model(
    network: MeasuredNetwork,
    n_networks: int,
    seed: int,
    swaps_per_follow: float,
    workers: int,
    max_rewired_follows: int | None,
) -> NullModel:
    """Configuration-model r of the whole network, randomized networks of its random subgraph."""
    degrees = network.account_table(["following", "followers"])
    analytic, largest = configuration_model_r(
        degrees["following"].to_numpy(np.int64), degrees["followers"].to_numpy(np.int64), with_largest_probability=True
    )
    del degrees
    subgraph = network.subgraph_dataset()
    from .metrics import encode_follows

    arcs = encode_follows(subgraph)
    null = degree_preserving_null(
        arcs.follower, arcs.followee, arcs.n_accounts, n_networks, seed, swaps_per_follow, workers, max_rewired_follows
    )
    draw = network.draw
    facts = null.subgraph
    if not draw.whole:
        # The rewired networks are (a subgraph of) the drawn subgraph: say what share of the whole network that is.
        share = draw.share_of_accounts * (facts.share_of_accounts if facts else 1.0)
        limit = min(draw.limit, max_rewired_follows or draw.limit)
        accounts = facts.accounts if facts else draw.accounts
        follows = facts.follows if facts else draw.follows
        facts = RewiredSubgraph(share, accounts, follows, draw.whole_follows, limit, whole_r=network.measures.r)
    return dataclasses.replace(null, analytic=analytic, analytic_largest_probability=largest, subgraph=facts)


def measured_engagement_reciprocity(network: MeasuredNetwork, window_days: float | None):
    """Study 02's engagement reciprocity of the whole network: the engine reads the input folder again for the window."""
    from .engines.engagement_sql import engagement_patterns
    from .engines.spark_engine import spark_master_from_environment
    from .metrics import EngagementReciprocity, pattern_table, window_notes
    from .model import engine_name

    empty_table = pd.DataFrame(columns=["pair_type", "pattern", "pairs", "share"])
    empty_owner = pd.DataFrame(columns=["group", "accounts", "owner_engaged", "share_engaged"])
    if not _still_the_input_read(network):
        # Moved or changed since it was measured: the local path stays in the private folder.
        note = (
            f"The input files the {engine_name(network.coverage.engine)} engine read are no longer where they were, or have "
            "changed since, so engagement reciprocity is not measured on the whole network; measure the input again to have it."
        )
        return EngagementReciprocity("everyone", window_days, None, None, empty_table, empty_owner, 0, 0, (note,))
    folder = network.engagement_input
    patterns = engagement_patterns(
        folder,
        window_days,
        network.coverage.engine,
        memory_limit=str(network.provenance.parameters.get("memory_limit", "4GB")),
        spark_master=spark_master_from_environment() or network.spark_master or "local[2]",
    )
    table = pattern_table(
        [patterns.pairs(1, 1, 1), patterns.pairs(1, 1, 0) + patterns.pairs(1, 0, 1), patterns.pairs(1, 0, 0)],
        [patterns.pairs(0, 1, 1), patterns.pairs(0, 1, 0), patterns.pairs(0, 0, 1), patterns.pairs(0, 0, 0)],
    )
    notes = window_notes(window_days, patterns.window_start, patterns.window_end, patterns.rows_without_time)
    notes.append(
        f"Counted over the whole network by the {engine_name(network.coverage.engine)} engine, from the input the follows were measured from."
    )
    return EngagementReciprocity(
        "everyone",
        window_days,
        patterns.window_start,
        patterns.window_end,
        table,
        empty_owner,
        patterns.events_counted,
        patterns.rows_without_time,
        tuple(notes),
    )


def _still_the_input_read(network: MeasuredNetwork) -> bool:
    """Whether the folder the engine counted the engagement of still holds the same follows and interactions files."""
    from .engines.dyad_sql import dyad_input_tables
    from .engines.engagement_sql import input_stamps
    from .model import DatasetValidationError

    if network.engagement_input is None or network.engagement is None:
        return False
    try:
        tables = dyad_input_tables(network.engagement_input)
    except DatasetValidationError:
        return False
    if "interactions" not in tables:
        return False
    return not network.engagement.inputs or input_stamps(tables) == network.engagement.inputs

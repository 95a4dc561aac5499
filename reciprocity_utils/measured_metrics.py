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

"""How many accounts both accounts of each follow arc follow: common followees.

A standard measure of how close two accounts are in a network (Adamic and Adar 2003), used by
study 03 as a control for the pair's affinity. It lives below the dyad table, which computes it
once per table for both of the study's model frames.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

# Rows of the sparse product computed at once: bounds the memory of the common-followee count
# to about this many arcs times the followers' mean out-degree.
_ARCS_PER_CHUNK = 200_000


def shared_followees(follower: np.ndarray, followee: np.ndarray, n_accounts: int) -> np.ndarray:
    """For each arc follower -> followee, how many accounts both of them follow.

    ``follower`` and ``followee`` are account codes 0..n_accounts-1 of every follow (the arcs of
    the dyad table). The count is the product of the two accounts' rows of the adjacency matrix,
    computed in sparse chunks (no loop over arcs).
    """
    follower = np.asarray(follower, dtype=np.int64)
    followee = np.asarray(followee, dtype=np.int64)
    adjacency = sparse.csr_matrix((np.ones(len(follower), dtype=np.float64), (follower, followee)), shape=(n_accounts, n_accounts))
    adjacency.data[:] = 1.0  # a follow listed twice is one follow
    counts = np.empty(len(follower), dtype=np.int64)
    for start in range(0, len(follower), _ARCS_PER_CHUNK):
        stop = start + _ARCS_PER_CHUNK
        both = adjacency[follower[start:stop]].multiply(adjacency[followee[start:stop]])
        counts[start:stop] = np.asarray(both.sum(axis=1)).ravel().astype(np.int64)
    return counts

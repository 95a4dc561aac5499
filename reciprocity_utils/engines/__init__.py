"""The same follow-network measures on three engines: in memory, DuckDB out of core, Apache Spark.

Studies 01 and 02 begin with counts every engine can compute from the follows alone: how many
rows were read, self-follows and repeated follows removed, follows and accounts, follow arcs
returned, r, dyad reciprocity, density, rho, the configuration model's expected r, and per
account followers, following, mutual partners and follow-back rate. ``memory`` runs the package's
numpy code on a loaded dataset (fastest while the network fits in memory); ``duckdb`` runs SQL out
of core (a memory limit, spilling to a temporary folder), for networks larger than memory on one
machine; ``spark`` runs the same SQL on Apache Spark, locally or on a cluster. The three agree
exactly (tested on real and generated networks, 19-digit ids included).
"""

from __future__ import annotations

from .choice import ENGINES, choose_engine, measure_follows
from .measures import FollowMeasures, configuration_model_r

__all__ = ["ENGINES", "FollowMeasures", "choose_engine", "configuration_model_r", "measure_follows"]

"""Graph files (GML, GEXF, GraphML) read through networkx: directed graphs only.

An undirected graph stores each tie once with no direction, so every tie would look mutual:
such a file carries no reciprocity information, and loading it is refused with that reason.
Node ids become account ids as text; a node ``label`` different from the id becomes the
handle; other scalar node attributes are kept as account columns (twecoll's ``followers``
and ``friends`` become ``followers_count`` and ``following_count``).
"""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pandas as pd

from ..model import ACCOUNT_COLUMNS, DatasetValidationError, RawTable, StudyDataset
from .common import file_provenance, follow_network_dataset

GRAPH_SUFFIXES = {".gml": "GML", ".gexf": "GEXF", ".graphml": "GraphML"}
# twecoll writes the platform's counts under these names.
ATTRIBUTE_NAMES = {"followers": "followers_count", "friends": "following_count"}


def looks_like_graph_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in GRAPH_SUFFIXES


def read_graph(path: Path) -> nx.Graph:
    kind = GRAPH_SUFFIXES[path.suffix.lower()]
    try:
        if kind == "GML":
            # label="id" keeps the numeric ids (platform ids in twecoll files) as node names, exactly.
            return nx.read_gml(path, label="id")
        if kind == "GEXF":
            return nx.read_gexf(path)
        return nx.read_graphml(path)
    except UnicodeDecodeError as error:
        raise DatasetValidationError(
            str(path), f"byte {error.start}", "(file)", "UTF-8 text", error.object[error.start : error.start + 8]
        ) from None
    except (nx.NetworkXError, SyntaxError, ValueError, KeyError) as error:
        raise DatasetValidationError(str(path), "parsing", "(file)", f"a valid {kind} graph file", str(error)) from None


def load_graph_file(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """A directed graph file: each edge u -> v is loaded as u follows v."""
    path = Path(path)
    graph = read_graph(path)
    if not graph.is_directed():
        raise DatasetValidationError(
            str(path),
            "graph",
            "directed",
            "a directed graph: this file is undirected, so each tie is stored once without direction and every tie "
            "would look mutual - it carries no reciprocity information. Export the graph as directed "
            '(GML \'directed 1\', GEXF defaultedgetype="directed", GraphML edgedefault="directed")',
            "undirected",
        )
    # Edges come out of networkx as Python objects; the frame is built once, not row by row.
    edges = pd.DataFrame(list(graph.edges()), columns=["follower_id", "followee_id"])
    follows = (
        edges.astype(str).astype("string")
        if len(edges)
        else pd.DataFrame({"follower_id": pd.Series(dtype="string"), "followee_id": pd.Series(dtype="string")})
    )
    accounts = pd.DataFrame.from_dict(dict(graph.nodes(data=True)), orient="index")
    accounts.index = accounts.index.map(str)
    accounts = accounts.rename_axis("account_id").reset_index().rename(columns=ATTRIBUTE_NAMES)
    if "label" in accounts:
        label = accounts.pop("label").astype("string")
        accounts["handle"] = label.mask(label == accounts["account_id"])
    # Drawing attributes and nested values say nothing about the accounts.
    drop = [
        c
        for c in accounts.columns
        if c in ("shape", "viz", "x", "y", "size", "color", "id") or accounts[c].map(lambda v: isinstance(v, (dict, list))).any()
    ]
    accounts = accounts.drop(columns=drop)
    for column in ("followers_count", "following_count"):
        if column in accounts:
            accounts[column] = accounts[column].astype("string")
    clash = [
        c for c in accounts.columns if c in ACCOUNT_COLUMNS and c not in ("account_id", "handle", "followers_count", "following_count")
    ]
    accounts = accounts.rename(columns={c: f"attribute_{c}" for c in clash})
    notes = [f"{path.name}: a directed {GRAPH_SUFFIXES[path.suffix.lower()]} graph; each edge u -> v is loaded as u follows v."]
    if graph.is_multigraph():
        notes.append(f"{path.name} allows repeated edges: repeats are counted as duplicate follows.")
    return follow_network_dataset(
        RawTable(follows, str(path)), path, file_provenance("graph", [path]), notes, owner_id, RawTable(accounts, str(path))
    )

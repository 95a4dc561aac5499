"""Naming the format of a path from what it holds, never from guesses that could mislead.

Folders and archives are recognised by the files they contain (``data/manifest.js``,
``followers_and_following/``, ``outbox.json``, ...), single files by their suffix and first
lines. A path no check recognises gets an error listing every format and what it looks like.
"""

from __future__ import annotations

from pathlib import Path

from ..collect.store import is_collection
from .bluesky import car_files_in, looks_like_car
from .common import InputTree, archive_kind
from .generic import looks_generic
from .graphs import looks_like_graph_file
from .instagram import locate_instagram
from .mastodon import locate_mastodon, looks_like_mastodon_csv
from .pajek import looks_like_pajek
from .research import looks_like_matrix, looks_like_mtx, snap_folder_files, sniff_edge_list, ucd_group_name
from .twarc import looks_like_twarc_csv, looks_like_twarc_jsonl
from .twitter import looks_like_classic_archive, looks_like_x_archive

# Format name -> what it is. "auto" (detect) is added by the package.
FORMAT_DESCRIPTIONS = {
    "dataset": "a saved study dataset (dataset.json + Parquet tables)",
    "generic": "the generic folder format (follows.csv, interactions.csv, accounts.csv)",
    "x_archive": "an X/Twitter archive, zip or folder (data/manifest.js, follower.js, following.js, tweets.js, like.js)",
    "x_classic": "a classic pre-2018 X/Twitter archive (tweets.csv + data/js/tweets/*.js)",
    "instagram": "an Instagram export, zip or folder (followers_and_following/followers_1.json, following.json)",
    "mastodon": "a Mastodon archive (.tar.gz/.zip/folder: actor.json, outbox.json) or following_accounts.csv",
    "bluesky": "a Bluesky repository export (.car)",
    "collected": "a folder written by `reciprocity collect` (collection.json + pages/) from the Bluesky or Mastodon API",
    "ucd": "a UCD Twitter multiview group folder (<g>.ids, <g>-follows.mtx, <g>-mentions.mtx, <g>-retweets.mtx)",
    "mtx": "a MatrixMarket-style edge list with real account ids (.mtx, first line 'N N L')",
    "snap": "a SNAP edge list ('a b' per line, '#' comments)",
    "higgs": "a SNAP Higgs interaction layer ('a b weight' or 'a b time RT|MT|RE')",
    "matrix": "a sociometric adjacency matrix (UCINET CSV with labels, or a bare square grid of numbers)",
    "graph": "a directed graph file (.gml, .gexf, .graphml)",
    "pajek": "a Pajek network or project file (.net, .paj: *Vertices, *Arcs)",
    "twarc_csv": "a twarc-csv tweet table (.csv with id, author_id, text, ...)",
    "twarc_jsonl": "twarc2 JSONL (one API response or tweet per line)",
}


# What makes a folder recognisable, in one line for the error that finds none of it.
FOLDER_SIGNS = (
    "follows.csv (generic), dataset.json (a saved dataset), collection.json (reciprocity collect), data/manifest.js (X archive), "
    "followers_and_following/ or followers_1.json (Instagram), outbox.json or following_accounts.csv (Mastodon), "
    "<group>.ids with <group>-follows.mtx (UCD), one .car (Bluesky) or .edges files (SNAP ego networks)"
)


def tree_format(path: Path) -> str | None:
    """The export format of a folder or archive, from the files it holds."""
    with InputTree.open(path) as tree:
        for name, check in (
            ("x_archive", looks_like_x_archive),
            ("x_classic", looks_like_classic_archive),
            ("instagram", locate_instagram),
            ("mastodon", locate_mastodon),
        ):
            tree.prefix = ""
            found = check(tree)
            if found or found == "":  # Instagram's loose files sit at the top: their folder is ""
                return name
    return None


def detect_format(path: str | Path) -> str:
    """Name the format of ``path``, or explain what was expected."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or folder")
    if not (path.is_dir() or path.is_file()):
        # A FIFO or device would block or never end when read.
        raise ValueError(f"{path}: not a regular file or folder (a pipe, socket or device cannot be loaded)")
    if path.is_dir():
        if (path / "dataset.json").exists():
            return "dataset"
        if is_collection(path):
            return "collected"
        if looks_generic(path):
            return "generic"
        if ucd_group_name(path):
            return "ucd"
        found = tree_format(path)
        if found:
            return found
        if len(car_files_in(path)) == 1:
            return "bluesky"
        if snap_folder_files(path):
            return "snap"
        if (path / "NetworkInfo.csv").exists():
            raise ValueError(
                f"{path}: a folder of several sociometric matrices; load one of them as a file, e.g. "
                f"{path / sorted(p.name for p in path.glob('*.csv') if p.name not in ('NetworkInfo.csv', 'Attributes.csv'))[0]}"
            )
    elif archive_kind(path):
        found = tree_format(path)
        if found:
            return found
    elif looks_like_car(path):
        return "bluesky"
    elif looks_like_graph_file(path):
        return "graph"
    elif looks_like_pajek(path):
        return "pajek"
    elif looks_like_mtx(path):
        return "mtx"
    elif looks_like_twarc_csv(path):
        return "twarc_csv"
    elif looks_like_twarc_jsonl(path):
        return "twarc_jsonl"
    elif looks_like_mastodon_csv(path):
        return "mastodon"
    else:
        sniffed = sniff_edge_list(path)
        if sniffed:
            return sniffed
        if looks_like_matrix(path):
            return "matrix"
    if path.is_dir() and (path / "manifest.js").is_file():
        # People open the archive and pass the folder they see the .js files in.
        raise ValueError(
            f"{path}: this is the data folder inside an X archive; pass the archive's own folder, "
            f"the one that holds this 'data' folder ({path.parent.name or path.parent})"
        )
    if path.is_dir():
        raise ValueError(
            f"{path}: cannot tell the format of this folder; a folder is read when it holds {FOLDER_SIGNS} "
            "(`reciprocity load --help` describes every format; --format names one)"
        )
    raise ValueError(
        f"{path}: cannot tell the format of this file; expected one of {', '.join(FORMAT_DESCRIPTIONS)} "
        "(`reciprocity load --help` describes each; --format names one)"
    )

"""Research networks: whole groups whose follows (or other directed ties) are observed both ways.

- **UCD multiview groups** (Greene & Cunningham 2013): a folder ``<g>/`` holding
  ``<g>-follows.mtx``, ``<g>-mentions.mtx``, ``<g>-retweets.mtx`` (first line ``N N L``, then
  ``src dst value``), ``<g>.ids`` (every account of the group, isolated ones included) and
  ``<g>.communities`` (``label: id,id,...``, kept as account labels).
- **MatrixMarket-style edge lists** (``.mtx``) with real account ids: one file of follows.
- **SNAP edge lists** (``# `` comment header, ``a b`` per line, tabs or spaces, CRLF): ``a``
  follows (or votes for, links to) ``b``.
- **SNAP Higgs layers**: ``a b weight`` (reply, mention, retweet networks) or the activity
  format ``a b unix_time RT|MT|RE``: interactions, with the weight as the count.
- **Sociometric matrices** (Krackhardt, Lazega, EIES): square adjacency matrices, row = sender.

Research files carry no handles and no owner: every account is a member of the group.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

import numpy as np
import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import (
    archive_kind,
    decode_text,
    file_provenance,
    folder_file_names,
    follow_network_dataset,
    inside_folder,
    plain_suffix,
    read_input_bytes,
    read_whitespace_lines,
    require_digits,
)

UCD_LAYERS = {"mentions": "mention", "retweets": "repost"}
MTX_NAMES = ["source_id", "target_id", "value"]


# ---------------------------------------------------------------------------------------------
# MatrixMarket-style edge lists with real ids


def read_mtx_edges(path: Path) -> tuple[pd.DataFrame, dict[str, int]]:
    """Rows ``source_id target_id value`` of an ``.mtx`` edge list and its ``N N L`` header.

    The header's ``L`` must equal the number of rows: fewer means a truncated file.
    """
    rows, _ = read_whitespace_lines(path, comments=("%",), min_fields=2, max_fields=3, names=MTX_NAMES)
    if rows.empty:
        raise DatasetValidationError(str(path), "line 1", "(header)", "a first line 'N N L' (accounts, accounts, edges)", "an empty file")
    header_line = int(rows.index[0])
    header = rows.iloc[0]
    if header.isna().any() or not header.str.fullmatch(r"\d+").all():
        raise DatasetValidationError(
            str(path), f"line {header_line + 1}", "(header)", "a first line 'N N L' of three whole numbers", " ".join(header.dropna())
        )
    n_rows, n_cols, n_edges = (int(v) for v in header)
    edges = rows.iloc[1:].copy()
    if "value" not in edges:
        edges["value"] = pd.Series("1", index=edges.index, dtype="string")
    edges["value"] = edges["value"].fillna("1")
    require_digits(edges, ["value"], str(path), "a whole-number value (1 for a follow, a count for mentions/retweets)")
    if len(edges) != n_edges:
        raise DatasetValidationError(
            str(path),
            f"line {header_line + 1}",
            "(header)",
            f"{n_edges:,} edge lines as the header 'N N L' announces (is the file truncated?)",
            f"{len(edges):,} edge lines",
        )
    return edges, {"rows": n_rows, "columns": n_cols, "edges": n_edges}


def looks_like_mtx(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() == ".mtx"


def load_mtx(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """One ``.mtx`` file of follows between real account ids (``src dst 1``: src follows dst)."""
    path = Path(path)
    edges, header = read_mtx_edges(path)
    follows, zero = _present_arcs(edges, "follows")
    notes = []
    if zero:
        notes.append(f"{path.name}: {zero:,} rows with value 0 are not arcs and were left out.")
    named = pd.concat([follows["follower_id"], follows["followee_id"]]).nunique()
    if header["rows"] != named:
        notes.append(
            f"{path.name}: the header counts {header['rows']:,} accounts; {named:,} appear in arcs "
            "(accounts without any arc are not listed in an edge-list file)."
        )
    return follow_network_dataset(RawTable(follows, str(path), first_line=1), path, file_provenance("mtx", [path]), notes, owner_id)


def _present_arcs(edges: pd.DataFrame, table: str) -> tuple[pd.DataFrame, int]:
    present = edges["value"] != "0"
    kept = edges[present]
    if table == "follows":
        frame = pd.DataFrame({"follower_id": kept["source_id"], "followee_id": kept["target_id"]}, index=kept.index)
    else:
        frame = pd.DataFrame({"actor_id": kept["source_id"], "target_id": kept["target_id"], "count": kept["value"]}, index=kept.index)
    return frame, int((~present).sum())


# ---------------------------------------------------------------------------------------------
# UCD multiview groups


def ucd_group_name(folder: Path) -> str | None:
    """The group name when ``folder`` is a UCD multiview group (``<g>.ids`` + ``<g>-follows.mtx``)."""
    if not folder.is_dir():
        return None
    for ids in sorted(folder.glob("*.ids")):
        if (folder / f"{ids.stem}-follows.mtx").exists():
            return ids.stem
    return None


def read_ucd_accounts(folder: Path, group: str) -> RawTable:
    """Every account of the group from ``<g>.ids``, with its communities as ``labels``."""
    ids_path = inside_folder(folder, folder / f"{group}.ids")
    lines = pd.Series(decode_text(ids_path.read_bytes(), str(ids_path)).splitlines(), dtype="string").str.strip()
    ids = lines[lines != ""]
    accounts = pd.DataFrame({"account_id": ids, "platform": "twitter"}, index=ids.index)
    communities_path = folder / f"{group}.communities"
    if communities_path.exists():
        labels = read_ucd_communities(inside_folder(folder, communities_path))
        accounts["labels"] = accounts["account_id"].map(labels).astype("string")
    return RawTable(accounts, str(ids_path), first_line=1)


def read_ucd_communities(path: Path) -> pd.Series:
    """``label: id,id,...`` lines -> one ``;``-separated label string per account id (file order)."""
    lines = pd.Series(decode_text(path.read_bytes(), str(path)).splitlines(), dtype="string")
    lines = lines[lines.str.strip() != ""]
    parts = lines.str.split(":", n=1, expand=True)
    if parts.shape[1] < 2 or parts[1].isna().any():
        line = int(parts.index[parts[1].isna()][0]) if parts.shape[1] == 2 else int(lines.index[0])
        raise DatasetValidationError(str(path), f"line {line + 1}", "(row)", "'label: id,id,...'", str(lines.loc[line]))
    members = pd.DataFrame({"label": parts[0].str.strip(), "account_id": parts[1].str.split(",")}).explode("account_id")
    members["account_id"] = members["account_id"].str.strip()
    members = members[members["account_id"].notna() & (members["account_id"] != "")]
    return members.groupby("account_id", sort=False)["label"].agg(";".join)


def load_ucd_group(folder: str | Path, owner_id: str | None = None) -> StudyDataset:
    """A UCD multiview group: follows, mentions and retweets among the accounts of ``<g>.ids``.

    The group's membership is fixed by ``<g>.ids``: an edge naming any other account is removed
    and counted (``unknown_accounts="remove"``); accounts without any edge still count.
    """
    folder = Path(folder)
    group = ucd_group_name(folder)
    if group is None:
        raise FileNotFoundError(f"{folder}: a UCD multiview group needs <group>.ids and <group>-follows.mtx in this folder")
    accounts = read_ucd_accounts(folder, group)
    follows_path = inside_folder(folder, folder / f"{group}-follows.mtx")
    edges, header = read_mtx_edges(follows_path)
    follows, zero_follows = _present_arcs(edges, "follows")
    files = [folder / f"{group}.ids", follows_path]
    if (folder / f"{group}.communities").exists():
        files.append(folder / f"{group}.communities")
    layers = []
    notes = [
        f"Follows, mentions and retweets among the {len(accounts.frame):,} accounts of {group}.ids "
        "(UCD Twitter multiview data, Greene & Cunningham 2013); engagement with accounts outside the group "
        "is not recorded, and counts are totals over the collection without times.",
    ]
    if zero_follows:
        notes.append(f"{follows_path.name}: {zero_follows:,} rows with value 0 are not arcs and were left out.")
    for layer, kind in UCD_LAYERS.items():
        path = inside_folder(folder, folder / f"{group}-{layer}.mtx")
        if not path.exists():
            notes.append(f"{path.name} is absent: no {kind}s are recorded.")
            continue
        rows, _ = read_mtx_edges(path)
        frame, zero = _present_arcs(rows, "interactions")
        frame["kind"] = kind
        frame["source"] = path.name
        layers.append(frame)
        files.append(path)
    interactions = pd.concat(layers) if layers else None
    coverage = Coverage(
        scope="network",
        followers_known=True,
        following_known=True,
        engagement_observed="everyone" if layers else "none",
        notes=notes,
    )
    if header["rows"] != len(accounts.frame):
        notes.append(f"{follows_path.name} announces {header['rows']:,} accounts, {group}.ids lists {len(accounts.frame):,}.")
    dataset = build_dataset(
        RawTable(follows.assign(source=follows_path.name), str(follows_path), first_line=1),
        RawTable(interactions, f"{folder}/{group}-{{mentions,retweets}}.mtx", first_line=1) if layers else None,
        accounts,
        coverage=coverage,
        provenance=file_provenance("ucd_multiview", files, {"group": group, "unknown_accounts": "remove"}),
        owner_id=owner_id,
        platform="twitter",
        unknown_accounts="remove",
        source=group,
    )
    return dataset


# ---------------------------------------------------------------------------------------------
# SNAP edge lists and Higgs layers

HIGGS_KINDS_BY_NAME = {"reply": "reply", "mention": "mention", "retweet": "repost", "quote": "quote"}
HIGGS_ACTIVITY_KINDS = {"RE": "reply", "MT": "mention", "RT": "repost"}
SNAP_SIZE = re.compile(r"Nodes:\s*(\d+)\s+Edges:\s*(\d+)", re.IGNORECASE)
EDGE_LIST_SUFFIXES = (".txt", ".edgelist", ".edges", ".tsv", ".el", ".dat", "")


def sniff_edge_list(path: Path) -> str | None:
    """ "snap" for ``a b`` lines, "higgs" for ``a b weight`` or ``a b time RT|MT|RE``, else None.

    Looks at the first data lines only (comments start with ``#`` or ``%``).
    """
    if not path.is_file() or plain_suffix(path) not in EDGE_LIST_SUFFIXES or archive_kind(path):
        return None
    head = read_input_bytes(path, head=8192)
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    lines = [
        line.split() for line in text.splitlines()[:-1] or text.splitlines() if line.strip() and not line.lstrip().startswith(("#", "%"))
    ]
    if not lines:
        return None
    widths = {len(parts) for parts in lines[:20]}
    if len(widths) != 1 or not all(p.isdigit() for parts in lines[:20] for p in parts[:2]):
        return None
    width = widths.pop()
    if width == 2:
        return "snap"
    if width == 3 and all(parts[2].isdigit() for parts in lines[:20]):
        return "higgs"
    if width == 4 and all(parts[3] in HIGGS_ACTIVITY_KINDS for parts in lines[:20]):
        return "higgs"
    return None


def snap_folder_files(folder: Path) -> list[Path]:
    """The ``.edges`` files of a folder (SNAP's ego networks: one ``<ego>.edges`` per ego), plain or compressed."""
    names = [n for n in folder_file_names(folder) if "/" not in n and plain_suffix(Path(n)) == ".edges"]
    return [inside_folder(folder, folder / n) for n in sorted(names)]


def load_snap(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """A SNAP edge list: each ``a b`` line is a directed tie from a to b, loaded as a follow.

    The file's ``#`` header says what a tie means (a vote, a link, a follow); it is kept in the
    coverage notes so a report says what its "follows" really are. A folder of ``.edges`` files
    (SNAP's ego networks) is read as one network, their union: a tie listed in several files is
    one follow, and the notes count them.
    """
    path = Path(path)
    files = snap_folder_files(path) if path.is_dir() else [path]
    if not files:
        raise FileNotFoundError(f"{path}: a folder read as SNAP edge lists needs .edges files")
    parts, notes, header = [], [], []
    for file in files:
        rows, file_header = read_whitespace_lines(file, min_fields=2, max_fields=2, names=["follower_id", "followee_id"])
        require_digits(rows, ["follower_id", "followee_id"], str(file), "a whole-number node id")
        announced = next((SNAP_SIZE.search(line) for line in file_header if SNAP_SIZE.search(line)), None)
        if announced and int(announced.group(2)) != len(rows):
            notes.append(
                f"{file.name}: the header announces {int(announced.group(2)):,} edges but the file holds {len(rows):,} "
                "edge lines (is it truncated?)."
            )
        parts.append(rows)
        header = header or file_header
    if len(files) == 1:
        rows = parts[0]
        notes.insert(0, f"{path.name}: each line 'a b' is a directed tie from a to b, loaded as a follow.")
    else:
        combined = pd.concat(parts, ignore_index=True)
        rows = combined.drop_duplicates(["follower_id", "followee_id"])
        repeated = len(combined) - len(rows)
        notes.insert(
            0,
            f"{path.name}: {len(files):,} .edges files read as one network; each line 'a b' is a directed tie from a to b, "
            f"loaded as a follow" + (f"; {repeated:,} ties listed in more than one file are counted once." if repeated else "."),
        )
    notes[1:1] = [f"{files[0].name} header: {line.lstrip('#').strip()}" for line in header if len(line.lstrip("#").strip()) > 0][:4]
    origin = str(path) if len(files) == 1 else f"{path} (.edges files)"
    return follow_network_dataset(
        RawTable(rows, origin, first_line=1 if len(files) == 1 else None), path, file_provenance("snap", files), notes, owner_id
    )


def load_higgs(path: str | Path, owner_id: str | None = None, kind: str | None = None, as_follows: bool = False) -> StudyDataset:
    """A SNAP Higgs interaction layer as interactions (or, with ``as_follows``, as directed ties).

    ``a b weight`` lines (the reply, mention and retweet networks) take their kind from the file
    name or ``kind=``; the weight is the count. ``a b unix_time RT|MT|RE`` lines (the activity
    file) carry kind and time per line. ``as_follows=True`` loads the distinct arcs as the follows
    table, to measure the reciprocity of the layer itself; the notes say so.
    """
    path = Path(path)
    names = ["actor_id", "target_id", "value", "code"]
    rows, _ = read_whitespace_lines(path, min_fields=3, max_fields=4, names=names)
    require_digits(rows, ["actor_id", "target_id", "value"], str(path), "whole numbers: node ids and a weight or Unix time")
    if "code" in rows and rows["code"].notna().any():
        codes = rows["code"]
        unknown = ~codes.isin(list(HIGGS_ACTIVITY_KINDS)).fillna(False).astype(bool)
        if unknown.any():
            line = int(unknown.idxmax())
            raise DatasetValidationError(str(path), f"line {line + 1}", "kind", "RT, MT or RE (Higgs activity codes)", str(codes.loc[line]))
        at = pd.to_datetime(rows["value"].astype("int64"), unit="s", utc=True).dt.as_unit("us")
        interactions = pd.DataFrame(
            {"actor_id": rows["actor_id"], "target_id": rows["target_id"], "kind": codes.map(HIGGS_ACTIVITY_KINDS), "at": at}
        )
        described = "activity lines 'a b time RT|MT|RE' (a retweeted, mentioned or replied to b)"
    else:
        kind = kind or next((k for word, k in HIGGS_KINDS_BY_NAME.items() if word in path.name.lower()), None)
        if kind is None:
            raise DatasetValidationError(
                str(path),
                "file name",
                "kind",
                "a Higgs layer named after its kind (reply, mention, retweet) or the option kind=",
                path.name,
            )
        interactions = pd.DataFrame({"actor_id": rows["actor_id"], "target_id": rows["target_id"], "kind": kind, "count": rows["value"]})
        described = f"weighted lines 'a b weight' ({kind} layer: the weight is the number of {kind}s from a to b)"
    notes = [f"{path.name}: {described}; no follows are recorded in this file."]
    provenance = file_provenance("higgs", [path], {"kind": kind, "as_follows": as_follows})
    if as_follows:
        notes = [f"{path.name}: {described}; the distinct arcs are loaded as the follows table (ties of this layer, not follows)."]
        follows = interactions.rename(columns={"actor_id": "follower_id", "target_id": "followee_id"})[["follower_id", "followee_id"]]
        return follow_network_dataset(RawTable(follows, str(path), first_line=1), path, provenance, notes, owner_id)
    coverage = Coverage(scope="network", followers_known=False, following_known=False, engagement_observed="everyone", notes=notes)
    return build_dataset(
        None, RawTable(interactions, str(path), first_line=1), coverage=coverage, owner_id=owner_id, source=path.name, provenance=provenance
    )


# ---------------------------------------------------------------------------------------------
# Sociometric matrices (Krackhardt, Lazega, EIES, Sampson)


def _square_numeric(frame: pd.DataFrame, origin: str) -> np.ndarray:
    text = frame.astype("string")
    numeric = text.apply(lambda column: column.str.fullmatch(r"\d+(?:\.\d+)?").fillna(False).astype(bool))
    if not numeric.to_numpy().all():
        row, col = (int(i[0]) for i in np.nonzero(~numeric.to_numpy()))
        raise DatasetValidationError(
            origin, f"row {row + 1}, column {col + 1}", "(cell)", "a tie value of 0 or more", str(text.iat[row, col])
        )
    return text.astype("float64").to_numpy()


def read_matrix(path: Path) -> tuple[np.ndarray, list[str]]:
    """A square matrix and its node labels: labelled CSV (UCINET export) or a bare whitespace grid."""
    text = decode_text(path.read_bytes(), str(path))
    if path.suffix.lower() == ".csv":
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, index_col=0)
        labels = [str(c) for c in frame.columns]
        if [str(i) for i in frame.index] != labels:
            raise DatasetValidationError(
                str(path),
                "line 1",
                "(header)",
                "a square matrix whose row labels repeat the column labels",
                f"{len(frame.index)} rows, {len(labels)} columns",
            )
        return _square_numeric(frame, str(path)), labels
    with open(path, "rb") as handle:
        width = len(handle.readline().split())
    rows, _ = read_whitespace_lines(path, comments=(), min_fields=width, max_fields=width)
    if rows.shape[0] != rows.shape[1]:
        raise DatasetValidationError(
            str(path),
            "whole file",
            "(matrix)",
            "a square grid of numbers, one row per line",
            f"{rows.shape[0]} lines of up to {rows.shape[1]} values",
        )
    return _square_numeric(rows.reset_index(drop=True), str(path)), [str(i + 1) for i in range(rows.shape[0])]


def looks_like_matrix(path: Path) -> bool:
    if not path.is_file() or path.stat().st_size > 50_000_000:
        return False
    try:
        lines = [
            line.split(",") if path.suffix.lower() == ".csv" else line.split()
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except UnicodeDecodeError:
        return False
    if len(lines) < 3:
        return False
    if path.suffix.lower() == ".csv":
        return (
            len(lines) == len(lines[0]) and all(len(line) == len(lines[0]) for line in lines) and [l[0] for l in lines[1:]] == lines[0][1:]
        )
    return all(len(line) == len(lines) for line in lines) and all(v.replace(".", "", 1).isdigit() for line in lines for v in line)


def load_matrix(path: str | Path, owner_id: str | None = None, min_value: float = 1) -> StudyDataset:
    """A sociometric matrix (row = sender): cells of at least ``min_value`` become directed ties.

    Valued matrices (EIES acquaintance 0-4, Sampson's ranks, message counts) are cut at
    ``min_value``; the notes say where. Attributes from a sibling ``Attributes.csv`` (UCINET
    export) are kept as account columns.
    """
    path = Path(path)
    values, labels = read_matrix(path)
    sender, receiver = np.nonzero(values >= min_value)
    label_array = np.array(labels, dtype=object)
    follows = pd.DataFrame({"follower_id": label_array[sender], "followee_id": label_array[receiver]}, dtype="string")
    accounts = pd.DataFrame({"account_id": pd.Series(labels, dtype="string")})
    attributes = path.parent / "Attributes.csv"
    if path.suffix.lower() == ".csv" and attributes.exists() and attributes != path:
        table = pd.read_csv(inside_folder(path.parent, attributes), dtype=str, keep_default_na=False)
        if "NodeName" in table:
            extra = table.drop(columns=[c for c in table.columns if c.startswith("Unnamed") or c == ""]).rename(
                columns={"NodeName": "account_id"}
            )
            accounts = accounts.merge(extra.drop_duplicates("account_id"), on="account_id", how="left")
    distinct = sorted(set(np.unique(values).tolist()) - {0.0})
    notes = [
        f"{path.name}: a {len(labels)} x {len(labels)} matrix, row = sender; cells of at least {min_value:g} are loaded as directed ties."
    ]
    if len(distinct) > 1:
        notes.append(
            f"{path.name} is valued ({', '.join(f'{v:g}' for v in distinct[:8])}{' ...' if len(distinct) > 8 else ''}): "
            f"the cut at {min_value:g} decides what counts as a tie."
        )
    provenance = file_provenance("matrix", [path], {"min_value": min_value})
    return follow_network_dataset(RawTable(follows, str(path)), path, provenance, notes, owner_id, RawTable(accounts, str(path)))

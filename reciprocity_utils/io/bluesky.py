"""Bluesky repository exports (``.car``: CAR v1 holding DAG-CBOR blocks), decoded with libipld.

A repository is a signed commit pointing at a Merkle Search Tree whose leaves are the
records, keyed ``<collection>/<record key>``. Only records **reachable from the commit root**
count: a CAR file may also carry stale blocks (old versions, deleted records) that are not
part of the repository, and those are ignored and counted. Commits of version 3 and 2 name
the tree in ``data``; the legacy version-1 layout goes through a ``root`` block first.

Records read (the owner is the repository's DID):

- ``app.bsky.graph.follow``: the owner follows ``subject`` (a DID, or ``{did: ...}`` in early
  records), at ``createdAt``;
- ``app.bsky.feed.post``: a reply to the author of ``reply.parent``; mentions from rich-text
  facets (``app.bsky.richtext.facet#mention``) and legacy ``entities`` of type mention; a
  quote from an embedded record (``app.bsky.embed.record`` / ``recordWithMedia``);
- ``app.bsky.feed.like`` and ``app.bsky.feed.repost``: to the author of ``subject.uri``;
- ``app.bsky.graph.list`` + ``listitem``: the owner's lists, kept as labels ``list:<name>``;
  ``app.bsky.graph.block``: the label "blocked".

Other record types are ignored and counted by type. A tree pointing at blocks absent from
the file (a partial repository) loads what is present, with a :class:`PartialRepositoryWarning`
naming the missing blocks. The repository holds no followers: a list of follower DIDs may be
given (``followers=``), as for Mastodon; without it mutuality is not observable.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import libipld
import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import decode_text, file_provenance, folder_file_names, inside_folder

AT_URI_DID = r"^at://(?P<did>did:[a-z]+:[^/]+)/"
MENTION_FEATURE = "app.bsky.richtext.facet#mention"
READ_TYPES = (
    "app.bsky.graph.follow",
    "app.bsky.feed.post",
    "app.bsky.feed.like",
    "app.bsky.feed.repost",
    "app.bsky.graph.list",
    "app.bsky.graph.listitem",
    "app.bsky.graph.block",
)


class PartialRepositoryWarning(UserWarning):
    """The repository tree points at blocks the CAR file does not contain."""


def cid_text(cid: Any) -> str:
    try:
        return libipld.encode_cid(cid)
    except (ValueError, TypeError):
        return repr(cid)


def read_car(path: Path) -> tuple[dict, dict[bytes, Any]]:
    """The CAR header and its blocks by CID; a truncated or corrupt file is one clear error."""
    data = path.read_bytes()
    try:
        header, blocks = libipld.decode_car(data)
    except (ValueError, TypeError, KeyError) as error:
        raise DatasetValidationError(
            str(path), "CAR blocks", "(file)", "a complete CAR v1 file of DAG-CBOR blocks (is the download truncated?)", str(error)
        ) from None
    if not isinstance(header, dict) or header.get("version") != 1 or not header.get("roots"):
        raise DatasetValidationError(str(path), "CAR header", "version", "CAR version 1 with one root (the commit)", header)
    return header, blocks


def walk_repository(path: Path, header: dict, blocks: dict[bytes, Any]) -> tuple[str, pd.DataFrame, list[str], int]:
    """The owner's DID, the reachable records (``key``, ``record``), missing block ids, unreachable count."""
    root = header["roots"][0]
    commit = blocks.get(root)
    if not isinstance(commit, dict):
        raise DatasetValidationError(str(path), "commit", "(root)", "the commit block named by the CAR header", cid_text(root))
    reached = {root}
    did = commit.get("did")
    tree_root = commit.get("data")
    if tree_root is None and commit.get("root") is not None:  # version-1 commit: commit -> root -> data, meta
        legacy = blocks.get(commit["root"])
        reached.add(commit["root"])
        if not isinstance(legacy, dict):
            raise DatasetValidationError(str(path), "commit", "root", "the repository root block", cid_text(commit["root"]))
        tree_root = legacy.get("data")
        meta = blocks.get(legacy.get("meta"))
        reached.add(legacy.get("meta"))
        did = did or (meta or {}).get("did")
    if tree_root is None or not did:
        raise DatasetValidationError(str(path), "commit", "data", "a commit naming its DID and its record tree", sorted(commit))
    keys, values, missing = [], [], []
    pending = [tree_root]
    visited: set = set()
    # The tree is walked node by node (a few entries each); records are gathered for pandas. A
    # CAR's section ids are not checked against their blocks, so a node can name itself or an
    # ancestor: each node is visited once, and a node seen again is a cycle, said as such.
    while pending:
        node_cid = pending.pop()
        if node_cid in visited:
            raise DatasetValidationError(
                str(path),
                "record tree",
                cid_text(node_cid),
                "a tree (no node reachable twice)",
                "a node reached again: the tree has a cycle",
            )
        visited.add(node_cid)
        node = blocks.get(node_cid)
        if node is None:
            missing.append(cid_text(node_cid))
            continue
        if not isinstance(node, dict) or not isinstance(node.get("e", []), list) or "e" not in node:
            raise DatasetValidationError(
                str(path),
                "record tree node",
                cid_text(node_cid),
                "a tree node {'l': ..., 'e': [entries]}",
                type(node).__name__ if not isinstance(node, dict) else sorted(node),
            )
        reached.add(node_cid)
        if node.get("l") is not None:
            pending.append(node["l"])
        previous = b""
        for position, entry in enumerate(node["e"]):
            if not (isinstance(entry, dict) and isinstance(entry.get("k"), bytes) and isinstance(entry.get("p"), int) and "v" in entry):
                raise DatasetValidationError(
                    str(path),
                    f"record tree node {cid_text(node_cid)}, entry {position + 1}",
                    "(entry)",
                    "an entry {'p': prefix length, 'k': key bytes, 'v': record id, 't': subtree}",
                    entry,
                )
            key = previous[: entry["p"]] + entry["k"]
            previous = key
            keys.append(key.decode("utf-8", errors="replace"))
            values.append(entry["v"])
            if entry.get("t") is not None:
                pending.append(entry["t"])
    present = [blocks.get(v) for v in values]
    for key, record in zip(keys, present):
        if record is not None and not isinstance(record, dict):
            raise DatasetValidationError(str(path), f"record {key}", "(record)", "a record object with its $type", type(record).__name__)
    reached.update(v for v, r in zip(values, present) if r is not None)
    missing += [cid_text(v) for v, r in zip(values, present) if r is None]
    records = pd.DataFrame({"key": pd.Series(keys, dtype="string"), "record": present})
    return did, records[records["record"].notna()].reset_index(drop=True), missing, len(set(blocks) - reached)


def _records_of(records: pd.DataFrame, collection: str) -> pd.DataFrame:
    chosen = records[records["collection"] == collection]
    flat = pd.json_normalize(chosen["record"].tolist(), max_level=2) if len(chosen) else pd.DataFrame()
    flat.index = chosen.index
    return flat.assign(key=chosen["key"])


def _column(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame else pd.Series(pd.NA, index=frame.index, dtype="object")


def _did_of_uri(uris: pd.Series) -> pd.Series:
    return uris.astype("string").str.extract(AT_URI_DID)["did"]


def _times(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values.astype("string"), utc=True, format="ISO8601", errors="coerce").dt.as_unit("us")


def _post_mentions(posts: pd.DataFrame) -> pd.DataFrame:
    """Mentions from facets (current) and entities (legacy), with the handle read from the text."""
    frames = []
    facets = _column(posts, "facets").explode().dropna()
    facets = facets[facets.map(lambda f: isinstance(f, dict))]
    if len(facets):
        features = pd.DataFrame({"facet": facets}).assign(feature=facets.map(lambda f: f.get("features") or [])).explode("feature").dropna()
        features = features[features["feature"].map(lambda f: isinstance(f, dict) and f.get("$type") == MENTION_FEATURE)]
        start = features["facet"].map(lambda f: (f.get("index") or {}).get("byteStart"))
        end = features["facet"].map(lambda f: (f.get("index") or {}).get("byteEnd"))
        text = _column(posts, "text").reindex(features.index)
        handle = [
            t.encode("utf-8")[s:e].decode("utf-8", errors="replace") if isinstance(t, str) and s is not None else None
            for t, s, e in zip(text, start, end)
        ]
        frames.append(
            pd.DataFrame({"post": features.index, "target_id": features["feature"].map(lambda f: f.get("did")).values, "handle": handle})
        )
    entities = _column(posts, "entities").explode().dropna()
    entities = entities[entities.map(lambda e: isinstance(e, dict) and e.get("type") == "mention")]
    if len(entities):
        text = _column(posts, "text").reindex(entities.index)
        handle = [
            t[(e.get("index") or {}).get("start", 0) : (e.get("index") or {}).get("end", 0)] if isinstance(t, str) else None
            for t, e in zip(text, entities)
        ]
        frames.append(pd.DataFrame({"post": entities.index, "target_id": entities.map(lambda e: e.get("value")).values, "handle": handle}))
    if not frames:
        return pd.DataFrame({"post": pd.Series(dtype="int64"), "target_id": pd.Series(dtype="string"), "handle": pd.Series(dtype="string")})
    mentions = pd.concat(frames, ignore_index=True)
    mentions["handle"] = mentions["handle"].astype("string").str.lstrip("@")
    return mentions.drop_duplicates(["post", "target_id"])


def read_followers_list(path: Path) -> pd.Series:
    """Follower DIDs, one per line (blank lines allowed)."""
    lines = pd.Series(decode_text(path.read_bytes(), str(path)).splitlines(), dtype="string").str.strip()
    lines = lines[lines != ""].str.split(",").str[0].str.strip()
    bad = ~lines.str.match(r"^did:[a-z]+:\S+$").fillna(False).astype(bool)
    if bad.any():
        line = int(lines.index[bad][0])
        raise DatasetValidationError(
            str(path), f"line {line + 1}", "did", "one DID per line (did:plc:... or did:web:...)", str(lines[line])
        )
    return lines.reset_index(drop=True)


def load_bluesky(path: str | Path, owner_id: str | None = None, followers: str | Path | None = None) -> StudyDataset:
    """A Bluesky repository (``.car``, or a folder holding one): the owner's follows, posts, likes and reposts."""
    path = Path(path)
    if path.is_dir():
        path = single_car_in(path)
    header, blocks = read_car(path)
    did, records, missing, unreachable = walk_repository(path, header, blocks)
    if owner_id and owner_id != did:
        raise DatasetValidationError(str(path), "commit", "did", f"the owner given ({owner_id})", did)
    notes = []
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        message = (
            f"{path.name}: partial repository, {len(missing):,} blocks the tree points at are absent: {shown}. Loaded what is present."
        )
        warnings.warn(message, PartialRepositoryWarning, stacklevel=2)
        notes.append(message)
    if unreachable:
        notes.append(
            f"{path.name}: {unreachable:,} blocks are not reachable from the commit root (stale or deleted data) and were ignored."
        )
    records["collection"] = records["key"].str.split("/").str[0]
    kinds = records["record"].map(lambda r: r.get("$type") if isinstance(r, dict) else None).astype("string")
    records["collection"] = kinds.fillna(records["collection"])
    other = records.loc[~records["collection"].isin(READ_TYPES), "collection"].value_counts()
    if len(other):
        notes.append(
            f"{path.name}: {int(other.sum()):,} records of types not read were ignored: "
            + ", ".join(f"{name} ({count})" for name, count in other.items())
            + "."
        )

    follow_records = _records_of(records, "app.bsky.graph.follow")
    subject = _column(follow_records, "subject").astype("string").where(lambda s: s.str.startswith("did:", na=False))
    subject = subject.fillna(_column(follow_records, "subject.did").astype("string"))
    follows = pd.DataFrame(
        {
            "follower_id": did,
            "followee_id": subject,
            "followed_at": _times(_column(follow_records, "createdAt")),
            "source": "app.bsky.graph.follow",
        }
    )
    if followers is not None:
        follower_ids = read_followers_list(Path(followers))
        follows = pd.concat(
            [follows, pd.DataFrame({"follower_id": follower_ids, "followee_id": did, "source": Path(followers).name})], ignore_index=True
        )
        notes.append(f"Followers come from a list supplied by the user ({Path(followers).name}), not from the repository.")
    else:
        notes.append("A Bluesky repository does not list followers and no followers list was given: who follows the owner is unknown.")

    posts = _records_of(records, "app.bsky.feed.post")
    post_at = _times(_column(posts, "createdAt"))
    reply_to = _did_of_uri(_column(posts, "reply.parent.uri"))
    quoted = _did_of_uri(
        _column(posts, "embed.record.uri").astype("string").fillna(_column(posts, "embed.record.record.uri").astype("string"))
    )
    mentions = _post_mentions(posts)
    engagement = [
        pd.DataFrame(
            {"target_id": reply_to.dropna(), "kind": "reply", "at": post_at[reply_to.dropna().index], "source": "app.bsky.feed.post"}
        ),
        pd.DataFrame({"target_id": quoted.dropna(), "kind": "quote", "at": post_at[quoted.dropna().index], "source": "app.bsky.feed.post"}),
        pd.DataFrame(
            {
                "target_id": mentions["target_id"].astype("string").values,
                "kind": "mention",
                "at": post_at.reindex(mentions["post"]).array,
                "source": "app.bsky.feed.post",
            }
        ),
    ]
    for collection, kind in (("app.bsky.feed.like", "like"), ("app.bsky.feed.repost", "repost")):
        acts = _records_of(records, collection)
        target = _did_of_uri(_column(acts, "subject.uri"))
        engagement.append(pd.DataFrame({"target_id": target, "kind": kind, "at": _times(_column(acts, "createdAt")), "source": collection}))
        if target.isna().any():
            notes.append(f"{path.name}: {int(target.isna().sum()):,} {kind}s without a subject URI naming an account (left out).")
    interactions = pd.concat(engagement, ignore_index=True).dropna(subset=["target_id"]).assign(actor_id=did, count=1)

    accounts = pd.DataFrame(
        {
            "account_id": pd.concat([pd.Series([did]), follows["follower_id"], follows["followee_id"], interactions["target_id"]])
            .dropna()
            .drop_duplicates()
            .astype("string")
        }
    )
    handles = mentions.dropna(subset=["handle"]).drop_duplicates("target_id").set_index("target_id")["handle"]
    accounts["handle"] = accounts["account_id"].map(handles).astype("string")
    labels = _labels(records, did)
    if len(labels):
        accounts["labels"] = accounts["account_id"].map(labels).astype("string")
        outside = int((~labels.index.isin(accounts["account_id"])).sum())
        notes.append(
            f"Lists and blocks label {len(labels):,} accounts"
            + (f" ({outside:,} not otherwise in the data, not added)." if outside else ".")
        )
    coverage = Coverage(
        scope="ego", followers_known=followers is not None, following_known=True, engagement_observed="owner_outgoing", notes=notes
    )
    inputs = [path] + ([Path(followers)] if followers is not None else [])
    return build_dataset(
        RawTable(follows, f"{path} (follow records)"),
        RawTable(interactions, f"{path} (post, like, repost records)"),
        RawTable(accounts, str(path)),
        coverage=coverage,
        provenance=file_provenance("bluesky", inputs, {"did": did, "commit_version": blocks[header["roots"][0]].get("version")}),
        owner_id=did,
        platform="bluesky",
        source=f"Bluesky repository of {did}",
    )


def _labels(records: pd.DataFrame, did: str) -> pd.Series:
    """account DID -> ``;``-joined labels from the owner's lists and blocks."""
    lists = _records_of(records, "app.bsky.graph.list")
    items = _records_of(records, "app.bsky.graph.listitem")
    blocks = _records_of(records, "app.bsky.graph.block")
    frames = []
    if len(items):
        list_names = (
            pd.Series(
                _column(lists, "name").values, index=("at://" + did + "/app.bsky.graph.list/" + lists["key"].str.split("/").str[1]).values
            )
            if len(lists)
            else pd.Series(dtype="string")
        )
        name = (
            _column(items, "list").astype("string").map(list_names).fillna(_column(items, "list").astype("string").str.split("/").str[-1])
        )
        frames.append(pd.DataFrame({"account_id": _column(items, "subject").astype("string"), "label": "list:" + name}))
    if len(blocks):
        frames.append(pd.DataFrame({"account_id": _column(blocks, "subject").astype("string"), "label": "blocked"}))
    if not frames:
        return pd.Series(dtype="string")
    table = pd.concat(frames).dropna().drop_duplicates()
    return table.groupby("account_id", sort=False)["label"].agg(";".join)


def car_files_in(folder: Path) -> list[str]:
    """Names of the .car files at the top of a folder."""
    return sorted(n for n in folder_file_names(folder) if "/" not in n and n.lower().endswith(".car"))


def single_car_in(folder: Path) -> Path:
    """The one repository a folder holds; several are snapshots and must be given one by one."""
    cars = car_files_in(folder)
    if len(cars) != 1:
        raise ValueError(
            f"{folder}: a folder read as a Bluesky export must hold exactly one .car file, found {len(cars)}"
            + (f" ({', '.join(cars[:5])}): give them as separate paths to compare snapshots" if cars else "")
        )
    return inside_folder(folder, folder / cars[0])


def looks_like_car(path: Path) -> bool:
    if not path.is_file():
        return False
    if path.suffix.lower() == ".car":
        return True
    with open(path, "rb") as handle:
        head = handle.read(64)
    # A CAR v1 header is a varint length then a DAG-CBOR map holding "roots" and "version".
    return b"roots" in head and b"version" in head

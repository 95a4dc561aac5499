"""Tweets collected with twarc: twarc-csv tables and twarc2 JSONL, engagement among their authors.

**twarc-csv** tables change columns across versions, so columns are found by name from a list
of known spellings (``author_id`` or ``author.id``, ``in_reply_to_user_id`` or
``in_reply_to_user.id``, ``retweeted_user_id``, ``quoted_user_id``, ``entities.mentions`` as
``["@handle", ...]`` or as objects with ``id``). A table without tweet ids and authors is an
error naming the columns found and those expected. **twarc2 JSONL**: one API response per line
(``data`` + ``includes``) or one flattened tweet per line; retweeted and quoted authors come
from ``includes.tweets``, mention ids from the entities.

A collection holds only the tweets its query matched: engagement between the accounts is seen
only through those tweets, and no follows are recorded.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import decode_text, file_provenance, parse_json
from .tweets import HandleBook, tweet_engagement

CSV_COLUMNS = {
    "tweet_id": ("id", "tweet_id", "id_str"),
    "actor_id": ("author_id", "author.id", "user.id_str", "user_id"),
    "actor_handle": ("author.username", "user.screen_name", "user_screen_name"),
    "at": ("created_at",),
    "text": ("text", "full_text"),
    "reply_to_id": ("in_reply_to_user_id", "in_reply_to_user.id", "in_reply_to_user_id_str"),
    "reply_to_handle": ("in_reply_to_username", "in_reply_to_user.username", "in_reply_to_screen_name"),
    "repost_of_id": ("retweeted_user_id", "referenced_tweets.retweeted.author_id", "retweeted_status.user.id_str"),
    "repost_of_handle": ("retweeted_username", "retweeted_status.user.screen_name"),
    "quote_of_id": ("quoted_user_id", "referenced_tweets.quoted.author_id", "quoted_status.user.id_str"),
    "quote_of_handle": ("quoted_username",),
    "mentions": ("entities.mentions", "entities.user_mentions", "mentions"),
}
REQUIRED = ("tweet_id", "actor_id")


def _find_columns(header: list[str]) -> dict[str, str]:
    return {
        name: next(c for c in spellings if c in header) for name, spellings in CSV_COLUMNS.items() if any(c in header for c in spellings)
    }


def looks_like_twarc_csv(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() != ".csv":
        return False
    with open(path, "rb") as handle:
        first = handle.readline(100_000).decode("utf-8", errors="replace").lstrip("\ufeff")
    found = _find_columns([c.strip().strip('"') for c in first.strip().split(",")])
    return all(name in found for name in REQUIRED) and "text" in found


def looks_like_twarc_jsonl(path: Path) -> bool:
    if not path.is_file() or path.suffix.lower() not in (".jsonl", ".json", ".ndjson"):
        return False
    with open(path, "rb") as handle:
        first = handle.readline(5_000_000)
    try:
        record = json.loads(first)
    except ValueError:
        return False
    return isinstance(record, dict) and ("data" in record and "includes" in record or {"id", "author_id", "text"} <= set(record))


def _parse_mentions(cells: pd.Series, origin: str) -> pd.DataFrame:
    """A mentions column (JSON lists of "@handle" strings or of objects) -> tweet position, id, handle."""
    filled = cells.fillna("").astype("string").str.strip()
    filled = filled[filled != ""]
    parsed = pd.Series(
        [parse_json(text, f"{origin}, row {position + 2}, column mentions") for position, text in filled.items()],
        index=filled.index,
        dtype="object",
    )
    items = parsed.explode().dropna()
    is_object = items.map(lambda v: isinstance(v, dict))
    objects = pd.json_normalize(items[is_object].tolist()) if is_object.any() else pd.DataFrame()
    target = pd.Series(pd.NA, index=items.index, dtype="string")
    handle = items.where(~is_object).astype("string")
    if is_object.any():
        target[is_object] = objects.get("id", pd.Series(pd.NA, index=range(len(objects)))).astype("string").values
        handle[is_object] = (
            objects.get("username", objects.get("screen_name", pd.Series(pd.NA, index=range(len(objects))))).astype("string").values
        )
    return pd.DataFrame({"row": items.index, "target_id": target.values, "handle": handle.str.lstrip("@").values})


def load_twarc_csv(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """A twarc-csv table: replies, mentions, retweets and quotes among the collected tweets' authors."""
    path = Path(path)
    text = decode_text(path.read_bytes(), str(path))
    try:
        table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    except pd.errors.ParserError as error:
        raise DatasetValidationError(str(path), "parsing", "(file)", "comma-separated values with a header line", str(error)) from None
    found = _find_columns(list(table.columns))
    missing = [name for name in REQUIRED if name not in found]
    if missing:
        raise DatasetValidationError(
            str(path),
            "line 1",
            missing[0],
            "twarc-csv columns: " + "; ".join(f"{name} as one of {', '.join(CSV_COLUMNS[name])}" for name in REQUIRED),
            ", ".join(table.columns[:12]) + (" ..." if len(table.columns) > 12 else ""),
        )
    column = lambda name: (
        table[found[name]].astype("string").replace("", pd.NA) if name in found else pd.Series(pd.NA, index=table.index, dtype="string")
    )
    tweets = pd.DataFrame(
        {
            "tweet_id": column("tweet_id"),
            "actor_id": column("actor_id"),
            "at": pd.to_datetime(column("at"), utc=True, format="ISO8601", errors="coerce").dt.as_unit("us"),
            "text": column("text"),
            "reply_to_id": column("reply_to_id"),
            "repost_of_id": column("repost_of_id"),
            "repost_of_handle": column("repost_of_handle"),
            "quote_of_id": column("quote_of_id"),
        }
    )
    handles = HandleBook()
    for ids, names in (
        ("actor_id", "actor_handle"),
        ("reply_to_id", "reply_to_handle"),
        ("repost_of_id", "repost_of_handle"),
        ("quote_of_id", "quote_of_handle"),
    ):
        handles.add(column(ids), column(names), tweets["at"])
    mentions = (
        _parse_mentions(column("mentions"), str(path)) if "mentions" in found else pd.DataFrame({"row": [], "target_id": [], "handle": []})
    )
    mentions = pd.DataFrame(
        {
            "tweet_id": tweets["tweet_id"].reindex(mentions["row"]).array,
            "target_id": mentions["target_id"].astype("string"),
            "handle": mentions["handle"].astype("string"),
        }
    )
    handles.add(mentions["target_id"], mentions["handle"])
    links = pd.DataFrame({"tweet_id": pd.Series(dtype="string"), "url": pd.Series(dtype="string")})
    return _twarc_dataset(path, tweets, mentions, links, handles, "twarc_csv", found)


def load_twarc_jsonl(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """twarc2 JSONL: API responses (``data`` + ``includes``) or flattened tweets, one per line."""
    path = Path(path)
    text = decode_text(path.read_bytes(), str(path))
    tweets_raw, included, users_raw = [], [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record = parse_json(line, str(path), first_line=number)
        if isinstance(record, dict) and "data" in record:
            tweets_raw.extend(record["data"] if isinstance(record["data"], list) else [record["data"]])
            includes = record.get("includes") or {}
            included.extend(includes.get("tweets") or [])
            users_raw.extend(includes.get("users") or [])
        elif isinstance(record, dict) and "id" in record:
            tweets_raw.append(record)
        else:
            raise DatasetValidationError(
                str(path), f"line {number}", "(record)", "a twarc2 response (data, includes) or a tweet", str(record)[:60]
            )
    users = pd.json_normalize(users_raw, max_level=0)
    flat = pd.json_normalize(tweets_raw, max_level=0)
    author_of = pd.json_normalize(included, max_level=0)
    author_of = (
        author_of.drop_duplicates("id").set_index("id")["author_id"].astype("string") if len(author_of) else pd.Series(dtype="string")
    )
    refs = flat.get("referenced_tweets", pd.Series([None] * len(flat))).map(
        lambda r: {x.get("type"): x.get("id") for x in r} if isinstance(r, list) else {}
    )
    column = lambda name: flat[name].astype("string") if name in flat else pd.Series(pd.NA, index=flat.index, dtype="string")
    tweets = pd.DataFrame(
        {
            "tweet_id": column("id"),
            "actor_id": column("author_id"),
            "at": pd.to_datetime(column("created_at"), utc=True, format="ISO8601", errors="coerce").dt.as_unit("us"),
            "text": column("text"),
            "reply_to_id": column("in_reply_to_user_id"),
            "repost_of_id": refs.map(lambda r: r.get("retweeted")).astype("string").map(author_of).astype("string"),
            "quote_of_id": refs.map(lambda r: r.get("quoted")).astype("string").map(author_of).astype("string"),
        }
    )
    entities = flat.get("entities", pd.Series([None] * len(flat)))
    mention_lists = entities.map(lambda e: (e or {}).get("mentions") if isinstance(e, dict) else None)
    items = pd.DataFrame({"tweet_id": tweets["tweet_id"], "item": mention_lists}).explode("item").dropna(subset=["item"])
    details = pd.json_normalize(items["item"].tolist()) if len(items) else pd.DataFrame({"id": [], "username": []})
    detail = lambda name: details[name].astype("string") if name in details else pd.Series(pd.NA, index=details.index, dtype="string")
    mentions = pd.DataFrame({"tweet_id": items["tweet_id"].array, "target_id": detail("id").array, "handle": detail("username").array})
    handles = HandleBook()
    if len(users):
        handles.add(users["id"], users["username"])
    handles.add(mentions["target_id"], mentions["handle"])
    links = pd.DataFrame({"tweet_id": pd.Series(dtype="string"), "url": pd.Series(dtype="string")})
    return _twarc_dataset(path, tweets, mentions, links, handles, "twarc_jsonl", {})


def _twarc_dataset(
    path: Path, tweets: pd.DataFrame, mentions: pd.DataFrame, links: pd.DataFrame, handles: HandleBook, loader: str, found: dict[str, str]
) -> StudyDataset:
    bad = tweets["actor_id"].isna()
    if bad.any():
        row = int(bad.idxmax())
        raise DatasetValidationError(str(path), f"row {row + 1}", "author id", "the id of the tweet's author", None, int(bad.sum()) - 1)
    engagement = tweet_engagement(tweets, mentions, links, handles, path.name)
    handle_of = handles.handle_of()
    ids = pd.concat([tweets["actor_id"], engagement.interactions["target_id"]]).dropna().drop_duplicates()
    accounts = pd.DataFrame({"account_id": ids.astype("string"), "handle": ids.map(handle_of).astype("string")})
    notes = [
        f"{path.name}: {len(tweets):,} collected tweets by {tweets['actor_id'].nunique():,} authors; engagement is seen only "
        "through the tweets the collection matched, and no follows are recorded."
    ] + engagement.notes(path.name)
    coverage = Coverage(scope="network", followers_known=False, following_known=False, engagement_observed="everyone", notes=notes)
    return build_dataset(
        None,
        RawTable(engagement.interactions, str(path)),
        RawTable(accounts, str(path)),
        coverage=coverage,
        provenance=file_provenance(loader, [path], {"columns": found} if found else {}),
        platform="twitter",
        source=path.name,
    )

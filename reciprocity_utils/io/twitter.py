"""X/Twitter "download your archive" (2019+ layouts) and the classic pre-2018 archive.

**Archive** (zip or unzipped folder): ``data/manifest.js`` names the owner (``userInfo``) and
every file of every data type, split in parts (``tweets.js``, ``tweets-part1.js``, ...). Each
file is ``window.YTD.<name>.partN = <JSON>``: the prefix is checked against the manifest and
stripped, and the rest parsed as JSON - no JavaScript is ever evaluated. Numbers stay the
digits written, so 64-bit ids are exact. Both layouts are read: 2021 (``tweet.js``,
``YTD.tweet``) and 2022+ (``tweets.js``, ``YTD.tweets``).

- ``follower.js`` / ``following.js``: both follow directions of the owner (no times);
- tweets: the owner's replies, mentions, retweets and quotes (rules in :mod:`.tweets`);
- ``like.js`` has the liked tweet's id and text but not its author: a like is recorded only
  when the author is known from the archive itself (the owner replied to that tweet, or
  linked it); the rest are counted as unresolved;
- ``tweet-headers.js`` alone (tweets not included) loads follows and says tweets are absent;
- ``lists-member.js`` (lists others made with the owner in them) becomes the owner's labels,
  ``mute.js`` and ``block.js`` label the accounts concerned ("muted", "blocked").

A data type the manifest lists but whose files are all absent is reported as absent; a
data type with only some of its parts present is an error (counts would be silently short).

**Classic archive** (``tweets.csv`` + ``data/js/tweets/YYYY_MM.js``, ``Grailbird.data...=``):
the owner's tweets and engagement; it holds no follow data.
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import DEFAULT_MAX_ARCHIVE_BYTES, InputTree, parse_json
from .tweets import TEXT_MENTION, HandleBook, tweet_engagement

YTD_PREFIX = re.compile(r"\A\s*window\.(?P<name>YTD\.[A-Za-z0-9_]+\.part\d+)\s*=\s*")
MANIFEST_PREFIX = re.compile(r"\A\s*window\.__THAR_CONFIG\s*=\s*")
GRAILBIRD_PREFIX = re.compile(r"\A\s*Grailbird\.data\.(?P<name>[A-Za-z0-9_]+)\s*=\s*")
CLASSIC_VAR_PREFIX = re.compile(r"\A\s*var\s+(?P<name>[A-Za-z0-9_]+)\s*=\s*")
TWEET_TIME_FORMAT = "%a %b %d %H:%M:%S %z %Y"

# Data types read, with the file names used when an archive has no manifest (2018-2019 exports).
DATA_TYPES = {
    "account": ("account",),
    "follower": ("follower",),
    "following": ("following",),
    "tweets": ("tweets", "tweet"),
    "tweetHeaders": ("tweet-headers",),
    "like": ("like",),
    "block": ("block",),
    "mute": ("mute",),
    "listsMember": ("lists-member",),
}


def looks_like_x_archive(tree: InputTree) -> bool:
    return tree.locate("data/manifest.js") or tree.locate("manifest.js") and tree.exists("data/follower.js")


def looks_like_classic_archive(tree: InputTree) -> bool:
    return tree.locate("tweets.csv") and any(n.startswith("data/js/") for n in tree.names())


# ---------------------------------------------------------------------------------------------
# Reading the JS-wrapped JSON files


def parse_wrapped(text: str, origin: str, prefix: re.Pattern, expected: str) -> tuple[str, Any]:
    """Strip ``prefix`` (an assignment) and parse the JSON after it; never evaluate JavaScript."""
    match = prefix.match(text)
    if match is None:
        raise DatasetValidationError(origin, "line 1", "(prefix)", expected, text[:60])
    return match.groupdict().get("name") or "", parse_json(text[match.end() :], origin)


def read_manifest(tree: InputTree) -> dict[str, Any]:
    origin = tree.origin("data/manifest.js")
    _, manifest = parse_wrapped(tree.read_text("data/manifest.js"), origin, MANIFEST_PREFIX, "'window.__THAR_CONFIG = {' then JSON")
    if not isinstance(manifest, dict) or "dataTypes" not in manifest:
        raise DatasetValidationError(
            origin, "top level", "dataTypes", "a manifest object with 'userInfo' and 'dataTypes'", type(manifest).__name__
        )
    for key in ("userInfo", "archiveInfo", "dataTypes"):
        if manifest.get(key) is not None and not isinstance(manifest[key], dict):
            raise DatasetValidationError(origin, "top level", key, "an object", type(manifest[key]).__name__)
    for data_type, entry in manifest["dataTypes"].items():
        files = entry.get("files") if isinstance(entry, dict) else entry
        if not isinstance(entry, dict) or (files is not None and not isinstance(files, list)):
            raise DatasetValidationError(origin, f"dataTypes.{data_type}", "files", "an object with a list of files", type(files).__name__)
        for position, item in enumerate(files or []):
            if not isinstance(item, dict) or not isinstance(item.get("fileName"), str):
                raise DatasetValidationError(
                    origin,
                    f"dataTypes.{data_type}.files[{position}]",
                    "fileName",
                    'an object naming its file, such as {"fileName": "data/follower.js"}',
                    item,
                )
    return manifest


def manifest_without_file(tree: InputTree) -> dict[str, Any]:
    """Older exports have no manifest: find the known files by name (``x.js``, ``x-part1.js``)."""
    data_types = {}
    names = set(tree.names())
    for data_type, stems in DATA_TYPES.items():
        for stem in stems:
            parts = sorted((n for n in names if re.fullmatch(rf"data/{stem}(?:-part\d+)?\.js", n)), key=lambda n: (len(n), n))
            if parts:
                data_types[data_type] = {"files": [{"fileName": n, "globalName": None} for n in parts]}
                break
    return {"userInfo": {}, "dataTypes": data_types, "_no_manifest": True}


def read_data_type(tree: InputTree, manifest: dict[str, Any], data_type: str, notes: list[str]) -> list[dict] | None:
    """The records of one data type, each unwrapped from its ``{"follower": {...}}`` envelope.

    ``None`` when the data type is absent (not listed, or every listed file missing).
    """
    entry = manifest["dataTypes"].get(data_type)
    if data_type == "tweets" and entry is None:
        entry = manifest["dataTypes"].get("tweet")  # 2021 layout
    files = (entry or {}).get("files") or []
    if not files:
        return None
    present = [f for f in files if tree.exists(f["fileName"])]
    if not present:
        announced = sum(int(f.get("count") or 0) for f in files)
        notes.append(
            f"{files[0]['fileName']} is listed in the manifest ({announced:,} records) but is not in the archive: no {data_type} data."
        )
        return None
    if len(present) < len(files):
        missing = next(f for f in files if f not in present)
        raise DatasetValidationError(
            tree.origin(missing["fileName"]),
            "data/manifest.js",
            data_type,
            f"every part the manifest lists for {data_type} ({len(files)} files)",
            "this part is missing",
        )
    records: list[dict] = []
    envelope = {"follower": "follower", "following": "following", "block": "blocking", "mute": "muting"}.get(data_type, data_type)
    for item in files:
        name = item["fileName"]
        origin = tree.origin(name)
        found, data = parse_wrapped(
            tree.read_text(name), origin, YTD_PREFIX, f"'window.{item.get('globalName') or 'YTD.<name>.partN'} = ' then JSON"
        )
        if item.get("globalName") and found != item["globalName"]:
            raise DatasetValidationError(
                origin, "line 1", "(prefix)", f"'window.{item['globalName']} = ' as data/manifest.js says", f"window.{found}"
            )
        if not isinstance(data, list):
            raise DatasetValidationError(origin, "top level", "(file)", "a JSON list of records", type(data).__name__)
        announced = item.get("count")
        if announced is not None and str(announced).isdigit() and int(announced) != len(data):
            notes.append(f"{name}: the manifest announces {int(announced):,} records, the file holds {len(data):,}.")
        for position, record in enumerate(data):
            inner = next(iter(record.values())) if isinstance(record, dict) and len(record) == 1 else record
            if not isinstance(inner, dict):
                raise DatasetValidationError(
                    origin, f"record {position + 1}", "(record)", f'an object such as {{"{envelope}": {{...}}}}', record
                )
            records.append(inner)
    return records


def _ids(records: list[dict] | None, key: str = "accountId") -> pd.Series:
    return pd.Series([r.get(key) for r in records or []], dtype="string")


# ---------------------------------------------------------------------------------------------
# The archive


def load_x_archive(path: str | Path, owner_id: str | None = None, max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> StudyDataset:
    """An X/Twitter archive (zip or folder): the owner's follows both ways and outgoing engagement."""
    with InputTree.open(path, max_bytes=max_archive_bytes) as tree:
        if not looks_like_x_archive(tree):
            raise FileNotFoundError(f"{path}: an X archive needs data/manifest.js (or data/follower.js in a pre-2019 export)")
        notes: list[str] = []
        manifest = read_manifest(tree) if tree.exists("data/manifest.js") else manifest_without_file(tree)
        if manifest.get("_no_manifest"):
            notes.append("No data/manifest.js: files were found by their usual names.")
        read = {name: read_data_type(tree, manifest, name, notes) for name in DATA_TYPES}
        return _x_dataset(tree, manifest, read, owner_id, notes)


def _x_dataset(tree: InputTree, manifest: dict, read: dict[str, list | None], owner_id: str | None, notes: list[str]) -> StudyDataset:
    user = manifest.get("userInfo") or {}
    account = (read["account"] or [{}])[0]
    owner = user.get("accountId") or account.get("accountId")
    handle = user.get("userName") or account.get("username")
    if owner is None:
        raise DatasetValidationError(
            tree.origin("data/manifest.js"), "userInfo", "accountId", "the owner's account id (manifest.js or account.js)", None
        )
    owner = str(owner)
    if owner_id and str(owner_id) != owner:
        raise DatasetValidationError(tree.origin("data/manifest.js"), "userInfo", "accountId", f"the owner given ({owner_id})", owner)

    followers, following = read["follower"], read["following"]
    follows = pd.concat(
        [
            pd.DataFrame({"follower_id": _ids(followers), "followee_id": owner, "source": "follower.js"}),
            pd.DataFrame({"follower_id": owner, "followee_id": _ids(following), "source": "following.js"}),
        ],
        ignore_index=True,
    )
    handles = HandleBook()
    handles.add(pd.Series([owner]), pd.Series([handle]))

    tweets_records, headers = read["tweets"], read["tweetHeaders"]
    interactions = []
    parsed = None
    if tweets_records is not None:
        parsed = tweets, mentions, links = _archive_tweets(tweets_records, owner, notes, tree.origin("data/tweets.js"))
        handles.add(mentions["target_id"], mentions["handle"], mentions["at"])
        handles.add(tweets["reply_to_id"], tweets["reply_to_handle"], tweets["at"])
        engagement = tweet_engagement(tweets, mentions.drop(columns="at"), links, handles, "tweets")
        interactions.append(engagement.interactions)
        notes.extend(engagement.notes("tweets"))
        notes.append(f"{len(tweets):,} of the owner's tweets read ({_span(tweets['at'])}).")
    elif headers is not None:
        notes.append(
            f"Tweets are absent: tweet-headers.js holds {len(headers):,} headers (ids and dates only), so no "
            "replies, mentions, retweets or quotes of the owner are recorded."
        )
    else:
        notes.append("The archive holds no tweets: no replies, mentions, retweets or quotes of the owner are recorded.")

    likes = read["like"]
    if likes is not None:
        liked, unresolved = _resolved_likes(likes, parsed, owner, handles)
        interactions.append(liked)
        notes.append(
            f"like.js: {len(likes):,} likes; {len(liked):,} with an author identified from the archive (recorded), "
            f"{unresolved:,} unresolved (like.js does not name the author; left out)."
        )

    named = pd.concat([follows["follower_id"], follows["followee_id"]] + [i[c] for i in interactions for c in ("actor_id", "target_id")])
    accounts = _x_accounts(owner, handle, account, named, read, handles)
    # The accounts table is the owner plus every account named, so its handles are the ones resolved.
    notes.append(
        f"Handles resolved from evidence inside the archive (mentions, replies, account files) for "
        f"{int(accounts['handle'].notna().sum()):,} of {len(accounts):,} accounts."
    )
    coverage = Coverage(
        scope="ego",
        followers_known=followers is not None,
        following_known=following is not None,
        engagement_observed="owner_outgoing" if tweets_records is not None or likes is not None else "none",
        notes=notes,
    )
    if followers is None:
        notes.append("follower.js is absent: who follows the owner is not known.")
    if following is None:
        notes.append("following.js is absent: whom the owner follows is not known.")
    inter = pd.concat(interactions, ignore_index=True) if interactions else None
    return build_dataset(
        RawTable(follows, tree.origin("data/follower.js + following.js")),
        RawTable(inter, tree.origin("data/tweets + like.js")) if inter is not None else None,
        RawTable(accounts, tree.origin("data/manifest.js + account.js")),
        coverage=coverage,
        provenance=tree.provenance(
            "x_archive", {"owner_id": owner, "generated_at": (manifest.get("archiveInfo") or {}).get("generationDate")}
        ),
        owner_id=owner,
        platform="twitter",
        source=f"X archive of @{handle}" if handle else "X archive",
    )


def _archive_tweets(
    records: list[dict], owner: str, notes: list[str] | None = None, origin: str = "data/tweets.js"
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tweets, their mention entities and their links as flat tables (ids kept as text).

    A tweet whose date cannot be read is kept without a time, and counted in ``notes``.
    """
    # One column per top-level key; nested lists are reached with .str.get (json_normalize copies every record).
    flat = pd.DataFrame.from_records(records)
    if "entities" in flat:
        odd = flat["entities"].map(lambda e: not (e is None or isinstance(e, dict)))
        if odd.any():
            position = int(np.flatnonzero(odd.to_numpy())[0])
            raise DatasetValidationError(
                origin, f"tweet {position + 1}", "entities", "an object (user_mentions, urls)", flat["entities"].iloc[position]
            )
        for key in ("user_mentions", "urls"):
            flat[f"entities.{key}"] = flat["entities"].str.get(key)
    column = lambda name: flat[name] if name in flat else pd.Series(pd.NA, index=flat.index, dtype="object")
    at = pd.to_datetime(column("created_at").astype("string"), format=TWEET_TIME_FORMAT, utc=True, errors="coerce")
    unreadable = int((at.isna() & column("created_at").notna()).sum())
    if unreadable and notes is not None:
        notes.append(
            f"{unreadable:,} tweet(s) with a date that cannot be read (expected like 'Mon Jan 03 10:00:00 +0000 2022') "
            "are kept without a time."
        )
    tweets = pd.DataFrame(
        {
            "tweet_id": column("id_str").astype("string"),
            "actor_id": owner,
            "at": at.dt.as_unit("us"),
            "text": column("full_text").astype("string").fillna(column("text").astype("string")),
            "reply_to_id": column("in_reply_to_user_id_str").astype("string").fillna(column("in_reply_to_user_id").astype("string")),
            "reply_to_handle": column("in_reply_to_screen_name").astype("string"),
            "reply_to_status": column("in_reply_to_status_id_str").astype("string"),
            "quote_of_id": pd.Series(pd.NA, index=flat.index, dtype="string"),
        }
    )
    mentions = _exploded(flat, "entities.user_mentions", tweets)
    mentions = pd.DataFrame(
        {
            "tweet_id": mentions["tweet_id"],
            "target_id": _field(mentions, "id_str").fillna(_field(mentions, "id")),
            "handle": _field(mentions, "screen_name"),
            "at": mentions["at"],
        }
    )
    links = _exploded(flat, "entities.urls", tweets)
    links = pd.DataFrame({"tweet_id": links["tweet_id"], "url": _field(links, "expanded_url")})
    permalink = column("quoted_status_permalink")
    if permalink.notna().any():
        expanded = pd.json_normalize(permalink.dropna().tolist())
        links = pd.concat(
            [
                links,
                pd.DataFrame(
                    {
                        "tweet_id": tweets.loc[permalink.notna(), "tweet_id"].values,
                        "url": expanded.get("expanded", pd.Series(dtype="string")).astype("string").values,
                    }
                ),
            ]
        )
    return tweets, mentions, links


def _span(times: pd.Series) -> str:
    times = times.dropna()
    return f"{times.min():%Y-%m-%d} to {times.max():%Y-%m-%d}" if len(times) else "no dates"


def _exploded(flat: pd.DataFrame, list_column: str, tweets: pd.DataFrame) -> pd.DataFrame:
    """One row per element of a list column, its dict keys as columns, with the tweet id and time."""
    if list_column not in flat:
        return pd.DataFrame({"tweet_id": pd.Series(dtype="string"), "at": pd.Series(dtype="datetime64[us, UTC]")})
    items = pd.DataFrame({"tweet_id": tweets["tweet_id"], "at": tweets["at"], "item": flat[list_column]}).explode("item")
    items = items[items["item"].map(lambda v: isinstance(v, dict))]
    details = pd.DataFrame.from_records(items["item"].tolist())
    details.index = items.index
    return pd.concat([items[["tweet_id", "at"]], details], axis=1).reset_index(drop=True)


def _field(frame: pd.DataFrame, name: str) -> pd.Series:
    return frame[name].astype("string") if name in frame else pd.Series(pd.NA, index=frame.index, dtype="string")


def _resolved_likes(likes: list[dict], parsed: tuple | None, owner: str, handles: HandleBook) -> tuple[pd.DataFrame, int]:
    """Likes whose author the archive reveals: the owner replied to the liked tweet, or linked it."""
    liked = pd.DataFrame(
        {
            "tweet_id": _ids(likes, "tweetId"),
            "url": pd.Series([r.get("expandedUrl") for r in likes], dtype="string"),
        }
    )
    author = pd.Series(pd.NA, index=liked.index, dtype="string")
    if parsed is not None:
        tweets, _, links = parsed
        replied = tweets.dropna(subset=["reply_to_status", "reply_to_id"]).drop_duplicates("reply_to_status")
        author = liked["tweet_id"].map(replied.set_index("reply_to_status")["reply_to_id"]).astype("string")
        linked = links["url"].astype("string").str.extract(r"(?:twitter|x)\.com/(?P<handle>[A-Za-z0-9_]{1,15})/status/(?P<status>\d+)")
        linked = linked.dropna().assign(author=lambda f: handles.id_of(f["handle"]).values).dropna().drop_duplicates("status")
        author = author.fillna(liked["tweet_id"].map(linked.set_index("status")["author"]).astype("string"))
    from_url = liked["url"].str.extract(r"(?:twitter|x)\.com/(?P<handle>[A-Za-z0-9_]{1,15})/status/")["handle"]
    from_url = from_url.where(from_url.str.lower() != "i")
    author = author.fillna(handles.id_of(from_url))
    known = author.notna()
    frame = pd.DataFrame({"actor_id": owner, "target_id": author[known], "kind": "like", "count": 1, "source": "like.js"})
    return frame.reset_index(drop=True), int((~known).sum())


def _x_accounts(owner: str, handle: str | None, account: dict, named: pd.Series, read: dict, handles: HandleBook) -> pd.DataFrame:
    """The owner and every account the archive names in follows or engagement, with handles and labels."""
    owner_row = pd.DataFrame({"account_id": [owner], "handle": [handle], "is_owner": [True], "created_at": [account.get("createdAt")]})
    others = named.dropna().astype("string").drop_duplicates()
    labelled = []
    lists = [r.get("url") for r in read["listsMember"] or [] if isinstance(r, dict) and r.get("url")]
    if lists:
        # A list URL ends in <maker>/lists/<slug>: the label keeps both.
        names = pd.Series(lists, dtype="string").str.extract(r"(?:twitter|x)\.com/(?P<maker>[^/]+)/lists/(?P<slug>[^/?#]+)")
        labels = ("list:" + names["maker"] + "/" + names["slug"]).dropna()
        owner_row["labels"] = ";".join(labels)
    for name, label in (("mute", "muted"), ("block", "blocked")):
        ids = _ids(read[name])
        if len(ids):
            labelled.append(pd.DataFrame({"account_id": ids, "label": label}))
    accounts = pd.concat([owner_row, pd.DataFrame({"account_id": others[others != owner]})], ignore_index=True)
    if labelled:
        # Muted and blocked accounts are labelled where they appear; they are not added as accounts.
        label_of = pd.concat(labelled).groupby("account_id")["label"].agg(";".join)
        mapped = accounts["account_id"].map(label_of)
        accounts["labels"] = accounts["labels"].fillna(mapped) if "labels" in accounts else mapped
    accounts["handle"] = accounts["handle"].astype("string").fillna(accounts["account_id"].map(handles.handle_of()).astype("string"))
    return accounts


# ---------------------------------------------------------------------------------------------
# The classic archive (before 2018)


def load_classic_archive(path: str | Path, owner_id: str | None = None, max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES) -> StudyDataset:
    """A classic archive: ``tweets.csv`` (every tweet) with ``data/js`` for the owner and mention ids."""
    with InputTree.open(path, max_bytes=max_archive_bytes) as tree:
        if not looks_like_classic_archive(tree):
            raise FileNotFoundError(f"{path}: a classic X archive needs tweets.csv and data/js/")
        notes = ["The classic archive holds no follow data: neither followers nor following are known."]
        details = {}
        if tree.exists("data/js/user_details.js"):
            _, details = parse_wrapped(
                tree.read_text("data/js/user_details.js"),
                tree.origin("data/js/user_details.js"),
                CLASSIC_VAR_PREFIX,
                "'var user_details = ' then JSON",
            )
        owner = str(details.get("id") or owner_id or "")
        if not owner:
            raise DatasetValidationError(tree.origin("data/js/user_details.js"), "top level", "id", "the owner's account id", None)
        handle = details.get("screen_name")
        csv_origin = tree.origin("tweets.csv")
        try:
            table = pd.read_csv(io.StringIO(tree.read_text("tweets.csv")), dtype=str, keep_default_na=False)
        except pd.errors.ParserError as error:
            raise DatasetValidationError(csv_origin, "parsing", "(file)", "comma-separated values with quoted text", str(error)) from None
        required = {"tweet_id", "in_reply_to_user_id", "timestamp", "text", "retweeted_status_user_id"}
        if not required <= set(table.columns):
            missing = sorted(required - set(table.columns))
            raise DatasetValidationError(
                csv_origin, "line 1", missing[0], "the classic header (" + ", ".join(sorted(required)) + ")", ", ".join(table.columns[:8])
            )
        blank = lambda s: s.astype("string").replace("", pd.NA)
        tweets = pd.DataFrame(
            {
                "tweet_id": blank(table["tweet_id"]),
                "actor_id": owner,
                "at": pd.to_datetime(table["timestamp"], format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce").dt.as_unit("us"),
                "text": table["text"].astype("string"),
                "reply_to_id": blank(table["in_reply_to_user_id"]),
                "repost_of_id": blank(table["retweeted_status_user_id"]),
            }
        )
        handles = HandleBook()
        handles.add(pd.Series([owner]), pd.Series([handle]))
        monthly, index_entries = _classic_monthly(tree)
        if len(monthly):
            handles.add(monthly["target_id"], monthly["handle"])
        listed = sum(int(e.get("tweet_count") or 0) for e in index_entries)
        files = sorted(n for n in tree.names() if n.startswith("data/js/tweets/"))
        notes.append(
            f"tweets.csv holds {len(tweets):,} tweets ({_span(tweets['at'])}); data/js/tweets has {len(files)} of the {len(index_entries)} monthly files "
            f"tweet_index.js lists ({listed:,} tweets), used only to resolve mentioned handles to ids."
        )
        found = tweets["text"].fillna("").str.extractall(TEXT_MENTION).reset_index()
        mentions = pd.DataFrame(
            {"tweet_id": tweets["tweet_id"].iloc[found["level_0"]].values, "handle": found["handle"].astype("string").values}
        )
        links = pd.DataFrame(
            {"tweet_id": tweets["tweet_id"], "url": table["expanded_urls"].astype("string") if "expanded_urls" in table else pd.NA}
        )
        links = links.assign(url=links["url"].str.split(",")).explode("url")
        engagement = tweet_engagement(tweets, mentions, links, handles, "tweets.csv")
        notes.extend(engagement.notes("tweets.csv"))
        accounts = pd.DataFrame({"account_id": [owner], "handle": [handle], "is_owner": [True], "created_at": [details.get("created_at")]})
        accounts["created_at"] = pd.to_datetime(accounts["created_at"], format="%Y-%m-%d %H:%M:%S %z", utc=True, errors="coerce")
        inter = engagement.interactions
        handle_of = handles.handle_of()
        others = pd.Series(pd.concat([inter["target_id"]]).unique(), dtype="string")
        accounts = pd.concat([accounts, pd.DataFrame({"account_id": others[others != owner]})], ignore_index=True)
        accounts["handle"] = accounts["handle"].astype("string").fillna(accounts["account_id"].map(handle_of).astype("string"))
        coverage = Coverage(scope="ego", followers_known=False, following_known=False, engagement_observed="owner_outgoing", notes=notes)
        return build_dataset(
            None,
            RawTable(inter, csv_origin),
            RawTable(accounts, tree.origin("data/js/user_details.js")),
            coverage=coverage,
            provenance=tree.provenance("x_classic_archive", {"owner_id": owner}),
            owner_id=owner,
            platform="twitter",
            source=f"classic X archive of @{handle}" if handle else "classic X archive",
        )


def _classic_monthly(tree: InputTree) -> tuple[pd.DataFrame, list[dict]]:
    """Mention entities (id + handle) from the monthly JS files, and the tweet index."""
    index_entries: list[dict] = []
    if tree.exists("data/js/tweet_index.js"):
        _, index_entries = parse_wrapped(
            tree.read_text("data/js/tweet_index.js"),
            tree.origin("data/js/tweet_index.js"),
            CLASSIC_VAR_PREFIX,
            "'var tweet_index = ' then JSON",
        )
    records = []
    for name in sorted(n for n in tree.names() if re.fullmatch(r"data/js/tweets/\d{4}_\d{2}\.js", n)):
        _, data = parse_wrapped(tree.read_text(name), tree.origin(name), GRAILBIRD_PREFIX, "'Grailbird.data.tweets_YYYY_MM = ' then JSON")
        records.extend(data)
    if not records:
        return pd.DataFrame({"target_id": pd.Series(dtype="string"), "handle": pd.Series(dtype="string")}), index_entries
    mentions = pd.json_normalize(records, record_path=["entities", "user_mentions"]) if records else pd.DataFrame()
    if mentions.empty:
        return pd.DataFrame({"target_id": pd.Series(dtype="string"), "handle": pd.Series(dtype="string")}), index_entries
    return pd.DataFrame({"target_id": _field(mentions, "id_str"), "handle": _field(mentions, "screen_name")}), index_entries

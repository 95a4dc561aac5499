"""Mastodon: the archive (the owner's outgoing engagement) and the CSV exports (the owner's follows).

**Archive** (``.tar.gz``, ``.zip`` or folder): ``actor.json`` names the owner; ``outbox.json``
holds ``Create`` activities (the owner's posts: ``inReplyTo`` is a reply, ``Mention`` tags are
mentions) and ``Announce`` activities (boosts, i.e. reposts); ``likes.json`` lists liked
status URIs. The author of a status is read from its URI (``https://host/users/<name>/statuses/
<id>`` or ``https://host/@<name>/<id>``); URIs of other servers' software (``/notes/``,
``/objects/``) do not say their author and are counted as unresolved.

**CSV exports**: ``following_accounts.csv`` with the modern header ``Account address,Show
boosts,Notify on new posts,Languages`` or the legacy header-less form of one address per
line; blank lines and a leading ``@`` are accepted; domains are compared in Unicode and lower
case, so ``xn--`` and non-ASCII spellings of one server meet. ``lists.csv`` (``list,address``,
no header) becomes account labels ``list:<name>``; ``muted_accounts.csv`` and
``blocked_accounts.csv`` label accounts "muted" / "blocked".

Mastodon does not export followers. A followers list in the same form can be given
(``followers=``); without it, coverage says who follows the owner is unknown, so mutuality is
not observable and studies must not compute follow-back rates. Accounts are identified by
their address ``user@domain``.
"""

from __future__ import annotations

import io
import unicodedata
from pathlib import Path

import pandas as pd

from ..model import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset
from .common import DEFAULT_MAX_ARCHIVE_BYTES, InputTree, decode_text, file_provenance, parse_json

STATUS_AUTHOR = r"^https?://(?P<host>[^/]+)/(?:users/(?P<user>[^/]+)/statuses/|@(?P<at_user>[^/@]+)/)"
FOLLOWING_HEADER = ["Account address", "Show boosts", "Notify on new posts", "Languages"]
ADDRESS = r"^@?(?P<user>[^@\s,]+)@(?P<domain>[^@\s,]+)$"
CSV_LABELS = {"muted_accounts.csv": "muted", "blocked_accounts.csv": "blocked"}


def _unicode_domain(domain: str) -> str:
    try:
        decoded = domain.encode("ascii").decode("idna") if "xn--" in domain else domain
    except (UnicodeError, ValueError):
        decoded = domain
    return unicodedata.normalize("NFC", decoded).lower().rstrip(".")


def normalise_addresses(users: pd.Series, domains: pd.Series) -> pd.Series:
    """``user@domain`` in lower case with the domain in Unicode (one spelling per server)."""
    unique = pd.Series(domains.dropna().unique())
    spelled = dict(zip(unique, unique.map(_unicode_domain)))
    return (users.str.lower() + "@" + domains.map(spelled)).astype("string")


def status_authors(uris: pd.Series) -> pd.Series:
    """Account addresses of the authors of status URIs; missing where the URI does not say."""
    parts = uris.astype("string").str.extract(STATUS_AUTHOR)
    return normalise_addresses(parts["user"].fillna(parts["at_user"]), parts["host"])


# ---------------------------------------------------------------------------------------------
# CSV exports


def read_account_list(text: str, origin: str) -> pd.DataFrame:
    """Addresses of a following/followers export: modern header or one address per line.

    Returns ``address`` (normalised) indexed by 0-based line number. Any other header is an
    error naming the columns found and the ones expected.
    """
    lines = pd.Series(text.splitlines(), dtype="string")
    content = lines[lines.str.strip() != ""]
    if content.empty:
        return pd.DataFrame({"address": pd.Series(dtype="string")})
    first = content.iloc[0].strip()
    if "," in first or not pd.Series([first]).str.fullmatch(ADDRESS).iloc[0]:
        header = [h.strip() for h in first.split(",")]
        if header[0] != FOLLOWING_HEADER[0]:
            raise DatasetValidationError(
                origin,
                f"line {int(content.index[0]) + 1}",
                header[0] or "(header)",
                f"the header '{','.join(FOLLOWING_HEADER)}' or one address user@domain per line",
                first[:80],
            )
        frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skip_blank_lines=False)
        frame.index = frame.index + 1  # line numbers: the header is line 0
        raw = frame["Account address"].astype("string").str.strip()
        raw = raw[raw != ""]
    else:
        raw = content.str.strip().str.split(",").str[0]
    parts = raw.str.extract(ADDRESS)
    bad = parts["user"].isna()
    if bad.any():
        line = int(raw.index[bad][0])
        raise DatasetValidationError(
            origin, f"line {line + 1}", "Account address", "an address user@domain", str(raw[line]), int(bad.sum()) - 1
        )
    return pd.DataFrame({"address": normalise_addresses(parts["user"], parts["domain"])})


def read_lists_csv(text: str, origin: str) -> pd.DataFrame:
    """``list name,address`` lines (no header) -> ``address``, ``label`` ("list:<name>")."""
    frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, names=["list", "address"])
    frame = frame[frame["address"].str.strip() != ""]
    parts = frame["address"].str.strip().str.extract(ADDRESS)
    if parts["user"].isna().any():
        line = int(parts.index[parts["user"].isna()][0])
        raise DatasetValidationError(origin, f"line {line + 1}", "address", "'list name,user@domain'", str(frame.loc[line].tolist()))
    return pd.DataFrame({"address": normalise_addresses(parts["user"], parts["domain"]), "label": "list:" + frame["list"].str.strip()})


# ---------------------------------------------------------------------------------------------
# The archive


def locate_mastodon(tree: InputTree) -> bool:
    return tree.locate("outbox.json") or tree.locate("actor.json") or tree.locate("following_accounts.csv")


def _owner_address(actor: dict) -> str | None:
    parts = pd.Series([actor.get("id")], dtype="string").str.extract(r"^https?://(?P<host>[^/]+)/")
    name = actor.get("preferredUsername")
    if not name or parts["host"].isna().iloc[0]:
        return None
    return normalise_addresses(pd.Series([name], dtype="string"), parts["host"]).iloc[0]


def _outbox_engagement(outbox: dict, owner: str, origin: str, notes: list[str]) -> pd.DataFrame:
    if not isinstance(outbox, dict):
        raise DatasetValidationError(origin, "top level", "(file)", "an OrderedCollection object with orderedItems", type(outbox).__name__)
    items = outbox.get("orderedItems")
    if not isinstance(items, list):
        raise DatasetValidationError(origin, "top level", "orderedItems", "a list of activities", type(items).__name__)
    for position, item in enumerate(items):
        if not isinstance(item, dict):
            raise DatasetValidationError(
                origin, f"orderedItems[{position}]", "(activity)", 'an activity object such as {"type": "Create", ...}', item
            )
    announced = outbox.get("totalItems")
    if announced is not None and str(announced).isdigit() and int(announced) != len(items):
        notes.append(f"outbox.json: totalItems says {int(announced):,}, the file holds {len(items):,} activities (all read).")
    activities = pd.json_normalize(items, max_level=0)
    kinds = activities["type"].astype("string") if "type" in activities else pd.Series(dtype="string")
    at = pd.to_datetime(activities.get("published"), utc=True, format="ISO8601", errors="coerce").dt.as_unit("us")
    creates = activities[kinds == "Create"]
    posts = pd.json_normalize(creates["object"].map(lambda o: o if isinstance(o, dict) else {}).tolist(), max_level=0)
    posts.index = creates.index
    reply_uri = posts["inReplyTo"].astype("string") if "inReplyTo" in posts else pd.Series(pd.NA, index=posts.index, dtype="string")
    reply_to = status_authors(reply_uri)
    tags = (posts["tag"] if "tag" in posts else pd.Series([[]] * len(posts), index=posts.index)).explode().dropna()
    tags = tags[tags.map(lambda t: isinstance(t, dict) and t.get("type") == "Mention")]
    tag_frame = pd.json_normalize(tags.tolist()) if len(tags) else pd.DataFrame({"name": [], "href": []})
    tag_frame.index = tags.index
    name = tag_frame["name"].astype("string").str.extract(r"^@?(?P<user>[^@]+)(?:@(?P<domain>.+))?$")
    host = tag_frame["href"].astype("string").str.extract(r"^https?://(?P<host>[^/]+)/")["host"]
    mentioned = normalise_addresses(name["user"], name["domain"].fillna(host))
    mentions = pd.DataFrame({"post": tags.index, "target_id": mentioned.values})
    mentions = mentions.assign(reply_to=reply_to.reindex(mentions["post"]).values)
    reply_mention = mentions["target_id"] == mentions["reply_to"].fillna("")
    mentions = mentions[~reply_mention & mentions["target_id"].notna()].drop_duplicates()

    boosts = activities[kinds == "Announce"]
    boosted = boosts["object"].map(lambda o: o.get("id") if isinstance(o, dict) else o).astype("string")
    boost_author = status_authors(boosted)

    unresolved_replies = int((reply_uri.notna() & reply_to.isna()).sum())
    unresolved_boosts = int(boost_author.isna().sum())
    notes.append(
        f"outbox.json: {len(creates):,} posts ({int(reply_uri.notna().sum()):,} replies), {len(boosts):,} boosts; "
        f"{unresolved_replies:,} replies and {unresolved_boosts:,} boosts point at statuses whose URI does not name the author (left out); "
        f"{int(reply_mention.sum()):,} mentions of the account replied to are part of the reply and not counted again."
    )
    frames = [
        pd.DataFrame({"target_id": reply_to.dropna(), "kind": "reply", "at": at[reply_to.dropna().index]}),
        pd.DataFrame({"target_id": mentions["target_id"].values, "kind": "mention", "at": at.reindex(mentions["post"]).array}),
        pd.DataFrame({"target_id": boost_author.dropna(), "kind": "repost", "at": at[boost_author.dropna().index]}),
    ]
    frame = pd.concat(frames, ignore_index=True)
    return frame.assign(actor_id=owner, count=1, source="outbox.json")


def _likes(tree: InputTree, owner: str, notes: list[str]) -> pd.DataFrame | None:
    if not tree.exists("likes.json"):
        return None
    data = parse_json(tree.read_text("likes.json"), tree.origin("likes.json"))
    uris = pd.Series(data.get("orderedItems") if isinstance(data, dict) else data, dtype="string")
    authors = status_authors(uris)
    notes.append(f"likes.json: {len(uris):,} likes; {int(authors.isna().sum()):,} status URIs do not name their author (left out).")
    return pd.DataFrame({"actor_id": owner, "target_id": authors.dropna(), "kind": "like", "count": 1, "source": "likes.json"})


def load_mastodon(
    path: str | Path,
    owner_id: str | None = None,
    followers: str | Path | None = None,
    following: str | Path | None = None,
    lists: str | Path | None = None,
    max_archive_bytes: int = DEFAULT_MAX_ARCHIVE_BYTES,
) -> StudyDataset:
    """A Mastodon archive and/or CSV exports in one folder or archive, plus optional separate files.

    ``followers``, ``following`` and ``lists`` name CSV files given apart from ``path`` (the
    followers list is never part of a Mastodon export).
    """
    notes: list[str] = []
    path = Path(path)
    for given in (path, following, followers):
        refuse_label_list(given)
    if path.is_file() and path.suffix.lower() in (".csv", ".txt"):
        # A lone CSV is the following list; nothing else of its folder is read.
        following, path = path, path.parent
        tree_opener = lambda: InputTree(path, "folder", max_archive_bytes)
    else:
        tree_opener = lambda: InputTree.open(path, max_bytes=max_archive_bytes)
    with tree_opener() as tree:
        if following is None and not locate_mastodon(tree):
            raise FileNotFoundError(f"{path}: a Mastodon input needs outbox.json/actor.json (the archive) or following_accounts.csv")
        owner = None
        if tree.exists("actor.json"):
            actor = parse_json(tree.read_text("actor.json"), tree.origin("actor.json"))
            if not isinstance(actor, dict):
                raise DatasetValidationError(
                    tree.origin("actor.json"),
                    "top level",
                    "(file)",
                    "the owner's actor object (with id and preferredUsername)",
                    type(actor).__name__,
                )
            owner = _owner_address(actor)
        if owner_id and owner and owner_id.lower() != owner:
            raise DatasetValidationError(
                tree.origin("actor.json"), "top level", "preferredUsername", f"the owner given ({owner_id})", owner
            )
        owner = owner or (owner_id.lower().lstrip("@") if owner_id else "owner")
        if not tree.exists("actor.json"):
            notes.append(f"No actor.json: the owner's account is called {owner!r}.")
        interactions = []
        if tree.exists("outbox.json"):
            outbox = parse_json(tree.read_text("outbox.json"), tree.origin("outbox.json"))
            interactions.append(_outbox_engagement(outbox, owner, tree.origin("outbox.json"), notes))
        liked = _likes(tree, owner, notes)
        if liked is not None:
            interactions.append(liked)

        def text_of(name_in_tree: str, separate: str | Path | None) -> tuple[str, str] | None:
            if separate is not None:
                separate = Path(separate)
                return decode_text(separate.read_bytes(), str(separate)), str(separate)
            if tree.exists(name_in_tree):
                return tree.read_text(name_in_tree), tree.origin(name_in_tree)
            return None

        following_text = text_of("following_accounts.csv", following)
        followers_text = text_of("(never in an export)", followers)
        frames = []
        if following_text:
            addresses = read_account_list(*following_text)["address"]
            frames.append(pd.DataFrame({"follower_id": owner, "followee_id": addresses, "source": Path(following_text[1]).name}))
        if followers_text:
            addresses = read_account_list(*followers_text)["address"]
            frames.append(pd.DataFrame({"follower_id": addresses, "followee_id": owner, "source": Path(followers_text[1]).name}))
            notes.append(f"Followers come from a list supplied by the user ({Path(followers_text[1]).name}), not from Mastodon's export.")
        else:
            notes.append("Mastodon does not export followers and no followers list was given: who follows the owner is unknown.")
        follows = pd.concat(frames, ignore_index=True) if frames else None

        labels = []
        lists_text = text_of("lists.csv", lists)
        if lists_text:
            labels.append(read_lists_csv(*lists_text))
        for file_name, label in CSV_LABELS.items():
            if tree.exists(file_name):
                labels.append(read_account_list(tree.read_text(file_name), tree.origin(file_name)).assign(label=label))
        inter = pd.concat(interactions, ignore_index=True) if interactions else None
        named = [pd.Series([owner], dtype="string")]
        if follows is not None:
            named += [follows["follower_id"], follows["followee_id"]]
        if inter is not None:
            named.append(inter["target_id"])
        accounts = pd.DataFrame({"account_id": pd.concat(named).drop_duplicates().astype("string")})
        accounts["handle"] = accounts["account_id"]
        if labels:
            table = pd.concat(labels)
            label_of = table.drop_duplicates().groupby("address", sort=False)["label"].agg(";".join)
            accounts["labels"] = accounts["account_id"].map(label_of).astype("string")
            outside = int((~table["address"].isin(accounts["account_id"])).sum())
            notes.append(
                f"Lists, mutes and blocks label {len(label_of):,} accounts"
                + (f"; {outside:,} of their entries name accounts not otherwise in the data (not added)." if outside else ".")
            )
        coverage = Coverage(
            scope="ego",
            followers_known=followers_text is not None,
            following_known=following_text is not None,
            engagement_observed="owner_outgoing" if interactions else "none",
            notes=notes + ["Accounts are identified by their address user@domain; an account that moved servers appears twice."],
        )
        provenance = tree.provenance("mastodon", {"owner": owner})
        extra = [Path(p) for p in (followers, following, lists) if p is not None]
        if extra:
            provenance.inputs += file_provenance("mastodon", extra).inputs
        return build_dataset(
            RawTable(follows, tree.origin("following/followers lists")) if follows is not None else None,
            RawTable(inter, tree.origin("outbox.json + likes.json")) if inter is not None else None,
            RawTable(accounts, tree.origin("actor.json")),
            coverage=coverage,
            provenance=provenance,
            owner_id=owner,
            platform="mastodon",
            source=f"Mastodon export of {owner}",
        )


# Exports that name accounts but mean something other than a follow: never read as follows.
NOT_FOLLOWS = {
    "blocked_accounts": "accounts the owner blocked",
    "muted_accounts": "accounts the owner muted",
    "blocked_domains": "servers the owner blocked",
    "domain_blocks": "servers the owner blocked",
    "bookmarks": "posts the owner bookmarked",
}


def refuse_label_list(path: str | Path | None) -> None:
    """Refuse a block, mute or bookmark list given where a follow list belongs, naming what it is."""
    if path is None:
        return
    stem = Path(path).name.lower().rsplit(".", 1)[0]
    meaning = next((words for name, words in NOT_FOLLOWS.items() if stem.startswith(name)), None)
    if meaning:
        raise ValueError(
            f"{path}: this file lists {meaning}, not follows; load the archive or following_accounts.csv "
            "(blocks and mutes in an archive folder label accounts, they never count as follows)"
        )


def looks_like_mastodon_csv(path: Path) -> bool:
    """A single following/followers CSV (modern header or addresses one per line)."""
    if not path.is_file() or path.suffix.lower() not in (".csv", ".txt"):
        return False
    with open(path, "rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace").lstrip("\ufeff")
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    # The following header, a bare address, or a lists.csv line "list name,address".
    last_field = first.rsplit(",", 1)[-1].strip()
    return first.startswith(FOLLOWING_HEADER[0]) or bool(pd.Series([first, last_field]).str.fullmatch(ADDRESS).any())

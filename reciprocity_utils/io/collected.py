"""Reading a folder written by ``reciprocity collect`` (Bluesky or Mastodon) as a study dataset.

Everything comes from the pages as received (``pages/*.body``), so a dataset can be rebuilt
from the raw answers at any time. What the collection observed is stated in the coverage:

- follows in both directions of the owner (ego mode) or among the owner and the contacts
  collected (network mode, ``--depth 1``); follow times where repository records give them
  (Bluesky), none on Mastodon, which does not publish them;
- engagement in **both directions** between the owner and each contact (ego mode: the owner's
  own records against others' likes, reposts, quotes and replies on the owner's posts), or among
  all collected accounts (network mode), for the kinds that can be seen both ways: a kind seen
  in one direction only (mentions of the owner, the owner's Mastodon favourites without a
  token) is left out in both, so the comparison stays even, and the notes say so.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd

from ..collect.store import MANIFEST, PageStore, StoredPage
from ..model import Coverage, DatasetValidationError, InputFile, Provenance, RawTable, StudyDataset, build_dataset, file_sha256

EGO_KINDS = {"bluesky": ("like", "repost", "reply", "quote"), "mastodon": ("repost", "reply")}
NETWORK_KINDS = {"bluesky": ("like", "repost", "reply", "quote", "mention"), "mastodon": ("repost", "reply", "mention")}
KIND_WORDS = {"like": "likes", "repost": "reposts", "reply": "replies", "quote": "quotes", "mention": "mentions"}


class _Rows:
    """Rows gathered from pages: follows listed, follow records (timed), engagement, handles."""

    def __init__(self) -> None:
        self.listed: list[tuple[str, str]] = []
        self.records: list[tuple[str, str, Any]] = []
        self.engagement: list[tuple[str, str, str, Any, str, str]] = []
        self.handles: dict[str, str] = {}
        self.profile: dict[str, Any] = {}

    def handle(self, account: Any) -> None:
        if isinstance(account, dict):
            key = account.get("did") or account.get("id")
            name = account.get("handle") or account.get("acct")
            if isinstance(key, str) and isinstance(name, str):
                self.handles.setdefault(key, name)


def _did_of(uri: Any) -> str | None:
    """The account DID in an ``at://did/collection/rkey`` URI."""
    if isinstance(uri, str) and uri.startswith("at://did:"):
        return uri[len("at://") :].split("/")[0]
    return None


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


# ---------------------------------------------------------------------------------------------
# Bluesky pages


def _bluesky_page(page: StoredPage, data: Any, rows: _Rows) -> None:
    endpoint, params = page.endpoint, page.params
    if endpoint == "app.bsky.actor.getProfile":
        rows.handle(data)
        rows.profile = data
    elif endpoint in ("app.bsky.graph.getFollowers", "app.bsky.graph.getFollows"):
        actor = _get(data, "subject", "did") or params.get("actor")
        key = "followers" if endpoint.endswith("Followers") else "follows"
        for item in data.get(key) or []:
            rows.handle(item)
            other = _get(item, "did")
            if isinstance(other, str):
                rows.listed.append((other, actor) if key == "followers" else (actor, other))
    elif endpoint == "com.atproto.repo.listRecords":
        _bluesky_records(params.get("repo"), params.get("collection"), data.get("records") or [], rows)
    elif endpoint == "app.bsky.feed.getLikes":
        subject = data.get("uri") or params.get("uri")
        for like in data.get("likes") or []:
            rows.handle(_get(like, "actor"))
            rows.engagement.append((_get(like, "actor", "did"), _did_of(subject), "like", _get(like, "createdAt"), subject, endpoint))
    elif endpoint == "app.bsky.feed.getRepostedBy":
        subject = data.get("uri") or params.get("uri")
        for profile in data.get("repostedBy") or []:
            rows.handle(profile)
            # The AppView does not say when a repost was made.
            rows.engagement.append((_get(profile, "did"), _did_of(subject), "repost", None, subject, endpoint))
    elif endpoint == "app.bsky.feed.getQuotes":
        subject = params.get("uri")
        for post in data.get("posts") or []:
            rows.handle(_get(post, "author"))
            rows.engagement.append(
                (_get(post, "author", "did"), _did_of(subject), "quote", _get(post, "record", "createdAt"), _get(post, "uri"), endpoint)
            )
    elif endpoint == "app.bsky.feed.getPostThread":
        subject = params.get("uri")
        for reply in _get(data, "thread", "replies") or []:
            post = _get(reply, "post")
            if _get(post, "record", "reply", "parent", "uri") != subject:
                continue  # a blocked or not-found reply, or one to another post
            rows.handle(_get(post, "author"))
            rows.engagement.append(
                (_get(post, "author", "did"), _did_of(subject), "reply", _get(post, "record", "createdAt"), _get(post, "uri"), endpoint)
            )


def _bluesky_records(repo: Any, collection: Any, records: list, rows: _Rows) -> None:
    source = f"{collection} record"
    for record in records:
        value = _get(record, "value")
        if not isinstance(value, dict):
            continue
        at = value.get("createdAt")
        if collection == "app.bsky.graph.follow":
            subject = value.get("subject")
            if isinstance(subject, str):
                rows.records.append((repo, subject, at))
        elif collection in ("app.bsky.feed.like", "app.bsky.feed.repost"):
            uri = _get(value, "subject", "uri")
            rows.engagement.append((repo, _did_of(uri), "like" if collection.endswith("like") else "repost", at, uri, source))
        elif collection == "app.bsky.feed.post":
            uri = _get(record, "uri")
            parent = _did_of(_get(value, "reply", "parent", "uri"))
            if parent:
                rows.engagement.append((repo, parent, "reply", at, uri, source))
            quoted = _did_of(_get(value, "embed", "record", "uri")) or _did_of(_get(value, "embed", "record", "record", "uri"))
            if quoted:
                rows.engagement.append((repo, quoted, "quote", at, uri, source))
            for facet in value.get("facets") or []:
                for feature in _get(facet, "features") or []:
                    if _get(feature, "$type") == "app.bsky.richtext.facet#mention" and isinstance(_get(feature, "did"), str):
                        rows.engagement.append((repo, feature["did"], "mention", at, f"{uri}#{feature['did']}", source))


# ---------------------------------------------------------------------------------------------
# Mastodon pages

_ACCOUNT_PATH = re.compile(r"/api/v1/accounts/([^/?]+)/(followers|following|statuses)")


def _mastodon_page(page: StoredPage, data: Any, rows: _Rows, owner: str, since: str) -> None:
    endpoint, about = page.endpoint, page.meta.get("about") or {}
    if endpoint == "accounts/lookup":
        rows.handle(data)
        rows.profile = data
        return
    if endpoint == "context":
        for reply in data.get("descendants") or []:
            if _get(reply, "in_reply_to_id") == about.get("status"):
                rows.handle(_get(reply, "account"))
                rows.engagement.append(
                    (_get(reply, "account", "id"), about.get("author"), "reply", _get(reply, "created_at"), _get(reply, "id"), endpoint)
                )
        return
    if not isinstance(data, list):
        return
    match = _ACCOUNT_PATH.search(page.meta.get("url", ""))
    account = match.group(1) if match else None
    for item in data:
        if not isinstance(item, dict):
            continue
        if endpoint in ("followers", "following"):
            rows.handle(item)
            if isinstance(item.get("id"), str) and account:
                rows.listed.append((item["id"], account) if endpoint == "followers" else (account, item["id"]))
        elif endpoint in ("favourited_by", "reblogged_by"):
            rows.handle(item)
            kind = "like" if endpoint == "favourited_by" else "repost"
            # Mastodon does not say when a favourite or boost was made.
            rows.engagement.append((item.get("id"), about.get("author"), kind, None, about.get("status"), endpoint))
        elif endpoint == "favourites":
            # Mastodon does not say when the owner favourited a post; counting only posts made in the window
            # matches the other direction (favourites of the owner's posts made in the window).
            made = pd.Timestamp(item["created_at"]) if isinstance(item.get("created_at"), str) else None
            if made is not None and made >= pd.Timestamp(since):
                rows.handle(item.get("account"))
                rows.engagement.append((owner, _get(item, "account", "id"), "like", None, item.get("id"), endpoint))
        elif endpoint == "statuses" and account:
            at = item.get("created_at")
            boosted = item.get("reblog")
            if isinstance(boosted, dict):
                rows.handle(boosted.get("account"))
                rows.engagement.append((account, _get(boosted, "account", "id"), "repost", at, boosted.get("id"), endpoint))
                continue
            replied = item.get("in_reply_to_account_id")
            if isinstance(replied, str) and replied != account:
                rows.engagement.append((account, replied, "reply", at, item.get("id"), endpoint))
            for mention in item.get("mentions") or []:
                rows.handle(mention)
                if _get(mention, "id") not in (replied, account):
                    rows.engagement.append((account, mention.get("id"), "mention", at, f"{item.get('id')}#{mention.get('id')}", endpoint))


# ---------------------------------------------------------------------------------------------


def _read_pages(store: PageStore, manifest: dict[str, Any], rows: _Rows) -> int:
    platform, owner = manifest["platform"], manifest.get("owner")
    read = 0
    for page in store:
        if page.meta.get("status") != 200:
            continue  # errors and malformed pages are counted in the manifest
        try:
            data = json.loads(page.body().decode("utf-8"))
        except (ValueError, UnicodeDecodeError, OSError) as error:
            raise DatasetValidationError(str(page.body_path), "(page)", "body", "the JSON the server sent", str(error)) from None
        if platform == "bluesky":
            if isinstance(data, dict):
                _bluesky_page(page, data, rows)
        else:
            _mastodon_page(page, data, rows, owner, manifest["since"])
        read += 1
    return read


def load_collected(path: str | Path, owner_id: str | None = None) -> StudyDataset:
    """A collection folder as a dataset (see the module's description)."""
    path = Path(path)
    store = PageStore(path)
    manifest = store.read_manifest()
    if not manifest or manifest.get("platform") not in EGO_KINDS:
        raise DatasetValidationError(
            str(path / MANIFEST), "(file)", "platform", "a manifest written by reciprocity collect", str(manifest)[:80]
        )
    platform, mode = manifest["platform"], manifest["mode"]
    owner = manifest.get("owner")
    if not owner:
        raise DatasetValidationError(
            str(path / MANIFEST),
            "(file)",
            "owner",
            "the owner's id (the collection stopped before it was known: run the same collect command again)",
            "none",
        )
    if owner_id and owner_id != owner:
        raise DatasetValidationError(str(path / MANIFEST), "(file)", "owner", f"the owner given ({owner_id})", owner)
    rows = _Rows()
    pages = _read_pages(store, manifest, rows)
    notes: list[str] = []
    since = pd.Timestamp(manifest["since"])
    end = pd.Timestamp(manifest.get("finished_at") or datetime.now(timezone.utc).isoformat())

    listed = pd.DataFrame(rows.listed, columns=["follower_id", "followee_id"], dtype="string").drop_duplicates()
    records = pd.DataFrame(rows.records, columns=["follower_id", "followee_id", "followed_at"])
    records["followed_at"] = pd.to_datetime(records["followed_at"], utc=True, errors="coerce", format="ISO8601")
    times = records.groupby(["follower_id", "followee_id"], sort=False)["followed_at"].min()
    if mode == "ego":
        group = None
        follows = listed[(listed["follower_id"] == owner) | (listed["followee_id"] == owner)]
        unlisted = records[(records["follower_id"] == owner) & ~records["followee_id"].isin(follows["followee_id"])]
        if len(unlisted):
            notes.append(
                f"{len(unlisted):,} of the owner's follow records name accounts the AppView no longer lists "
                "(deleted, suspended or blocking accounts); they are left out."
            )
    else:
        group = pd.Index(manifest.get("members") or [owner])
        from_records = records[records["followee_id"].isin(group) & records["follower_id"].isin(group)][["follower_id", "followee_id"]]
        follows = pd.concat([listed, from_records.astype("string")]).drop_duplicates()
        inside = follows["follower_id"].isin(group) & follows["followee_id"].isin(group)
        if (~inside).any():
            notes.append(
                f"{int((~inside).sum()):,} follows of the owner with contacts beyond the collection's bound "
                f"({len(group) - 1:,} contacts collected) are left out."
            )
        follows = follows[inside]
    # Pages are stored under hashes of their URLs: sort, so the dataset does not depend on the server's address.
    follows = follows.sort_values(["follower_id", "followee_id"]).reset_index(drop=True)
    key = pd.MultiIndex.from_frame(follows[["follower_id", "followee_id"]].astype(object))
    follows["followed_at"] = times.reindex(key).to_numpy() if len(times) else pd.NaT
    follows["source"] = f"{platform} collection"
    dated = int(follows["followed_at"].notna().sum())
    if platform == "bluesky":
        notes.append(
            f"Follow times come from the follow records in each account's repository: {dated:,} of {len(follows):,} "
            "follows are dated" + (" (the owner's own, and each mutual's follow of the owner that was found)." if mode == "ego" else ".")
        )
    else:
        notes.append("Mastodon does not publish when a follow began: follow times are unknown.")

    engagement = pd.DataFrame(rows.engagement, columns=["actor_id", "target_id", "kind", "at", "ref", "source"])
    engagement = engagement.dropna(subset=["actor_id", "target_id"]).drop_duplicates(["actor_id", "kind", "ref"])
    engagement["at"] = pd.to_datetime(engagement["at"], utc=True, errors="coerce", format="ISO8601")
    engagement = engagement.sort_values(["actor_id", "kind", "ref", "target_id"]).reset_index(drop=True)
    engagement = _engagement_in_scope(engagement, platform, mode, owner, group, manifest, since, notes)
    accounts = pd.DataFrame(
        {
            "account_id": pd.concat(
                [pd.Series([owner]), follows["follower_id"], follows["followee_id"], engagement["actor_id"], engagement["target_id"]]
            )
            .astype("string")
            .drop_duplicates()
        }
    )
    accounts["handle"] = accounts["account_id"].map(rows.handles).astype("string")
    notes.extend(_collection_notes(manifest, platform))
    coverage = Coverage(
        scope="network" if mode == "network" else "ego",
        followers_known=not manifest.get("followers_hidden"),
        following_known=not manifest.get("follows_hidden"),
        engagement_observed="everyone",
        follow_times=platform == "bluesky" and dated > 0,
        time_start=since.isoformat(),
        time_end=end.isoformat(),
        notes=notes,
    )
    manifest_path = path / MANIFEST
    provenance = Provenance(
        loader="collected",
        inputs=[InputFile(name=MANIFEST, sha256=file_sha256(manifest_path), bytes=manifest_path.stat().st_size)],
        parameters={
            "platform": platform,
            "mode": mode,
            "engagement since": manifest["since"][:10],
            "pages read": pages,
            "complete": bool(manifest.get("complete")),
        },
    )
    return build_dataset(
        RawTable(follows, f"{path.name} (follows collected from {platform})"),
        RawTable(engagement[["actor_id", "target_id", "kind", "at", "source"]].assign(count=1), f"{path.name} (engagement collected)"),
        RawTable(accounts, f"{path.name} (accounts)"),
        coverage=coverage,
        provenance=provenance,
        owner_id=owner,
        platform=platform,
        source=f"{platform.capitalize()} collection ({mode} mode)",
    )


def _engagement_in_scope(
    engagement: pd.DataFrame,
    platform: str,
    mode: str,
    owner: str,
    group: pd.Index | None,
    manifest: dict[str, Any],
    since: pd.Timestamp,
    notes: list[str],
) -> pd.DataFrame:
    """Engagement kinds seen both ways, inside the window, between the accounts the mode covers; each cut counted."""
    kinds = list(EGO_KINDS[platform] if mode == "ego" else NETWORK_KINDS[platform])
    if platform == "mastodon" and mode == "ego" and manifest.get("token_used"):
        kinds.append("like")
    left_out = engagement.loc[~engagement["kind"].isin(kinds), "kind"].value_counts()
    if len(left_out):
        why = (
            "they can be seen in one direction only (others' mentions of the owner are not listed; the owner's favourites need a token)"
            if mode == "ego"
            else "they are not published for every account"
        )
        notes.append(
            "Left out so both directions are measured alike: "
            + ", ".join(f"{n:,} {KIND_WORDS[k]}" for k, n in left_out.items())
            + f", because {why}."
        )
    engagement = engagement[engagement["kind"].isin(kinds)]
    early = engagement["at"].notna() & (engagement["at"] < since)
    if early.any():
        notes.append(f"{int(early.sum()):,} engagement records from before the window ({since:%Y-%m-%d}) are left out.")
    engagement = engagement[~early]
    if mode == "ego":
        inside = (engagement["actor_id"] == owner) | (engagement["target_id"] == owner)
    else:
        inside = engagement["actor_id"].isin(group) & engagement["target_id"].isin(group)
    if (~inside).any():
        whom = "between two accounts other than the owner" if mode == "ego" else "with accounts outside the collected group"
        notes.append(f"{int((~inside).sum()):,} engagement records {whom} are left out.")
    engagement = engagement[inside]
    self_engaged = engagement["actor_id"] == engagement["target_id"]
    if self_engaged.any():
        notes.append(f"{int(self_engaged.sum()):,} records of accounts engaging with their own posts are left out.")
    untimed = int(engagement["at"].isna().sum())
    if untimed:
        notes.append(
            f"{untimed:,} engagement records have no time (the platform does not say when a "
            + ("repost" if platform == "bluesky" else "favourite or boost")
            + " was made); each counts when the post it engages with was made within the window."
        )
    shown = ", ".join(KIND_WORDS[k] for k in kinds)
    notes.append(f"Engagement kinds collected in both directions: {shown}.")
    return engagement[~self_engaged]


def _collection_notes(manifest: dict[str, Any], platform: str) -> list[str]:
    notes = []
    mode = manifest["mode"]
    if mode == "ego":
        notes.append(
            f"Collected from the {platform.capitalize()} API in ego mode: the owner's followers and follows, the owner's "
            "engagement, and others' engagement on the owner's posts since " + manifest["since"][:10] + "."
        )
    else:
        notes.append(
            f"Collected from the {platform.capitalize()} API in network mode: follows and engagement of the owner and "
            f"{len(manifest.get('members', [])) - 1:,} contacts since " + manifest["since"][:10] + "."
        )
        if platform == "mastodon":
            notes.append("Contacts on other instances are seen through the owner's instance, which may hold only part of their posts.")
    if not manifest.get("complete"):
        notes.append("The collection did not finish: run the same collect command again to resume it. What is shown is partial.")
    for reason, count in (manifest.get("gone_accounts") or {}).items():
        notes.append(f"{count:,} account listings could not be read because the account is gone or hidden ({reason}).")
    for what, count in (manifest.get("cut_lists") or {}).items():
        notes.append(f"Bounded by the collection's limits: {what} ({count:,}).")
    for what, count in (manifest.get("unreadable") or {}).items():
        notes.append(f"Not read: {what} ({count:,}).")
    requests = manifest.get("requests") or {}
    if requests.get("malformed_pages"):
        notes.append(f"{requests['malformed_pages']:,} pages were malformed after retries and could not be read.")
    return notes

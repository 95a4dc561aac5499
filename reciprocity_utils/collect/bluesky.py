"""Collecting one Bluesky account's network and two-way engagement from the public AppView and PDSes.

No login is needed. What is asked, and why:

- ``app.bsky.actor.getProfile``: the owner's DID, handle and counts.
- ``app.bsky.graph.getFollowers`` / ``getFollows``: both follow directions of the owner.
- The owner's repository records (``com.atproto.repo.listRecords`` on the owner's PDS, found in
  the DID document from the PLC directory): follows with their ``createdAt`` (follow times), and
  the owner's likes, reposts and posts (replies, quotes, mentions) in the window.
- Ego mode (``depth=0``): for each of the owner's posts in the window, who liked it
  (``getLikes``), reposted it (``getRepostedBy``), quoted it (``getQuotes``) and replied to it
  (``getPostThread``); for each mutual, their own follow record of the owner (their repository),
  which dates the follow-back.
- Network mode (``depth=1``): the same repository records for each contact (up to
  ``max_accounts``): their follows, likes, reposts and posts, so follows and engagement among
  the owner's contacts are known in every direction.

Records are listed newest first; engagement listings stop at the window's start.
"""

from __future__ import annotations

from typing import Any

from .base import Collector, parse_time
from .http import CollectionError, Page, server_words

DEFAULT_APPVIEW = "https://public.api.bsky.app"
DEFAULT_PLC = "https://plc.directory"
ENGAGEMENT_COLLECTIONS = ("app.bsky.feed.like", "app.bsky.feed.repost", "app.bsky.feed.post")
FOLLOW_COLLECTION = "app.bsky.graph.follow"
# XRPC error names that mean the account is gone or hidden, not that the server failed.
GONE_ERRORS = (
    "AccountDeactivated",
    "AccountTakedown",
    "RepoDeactivated",
    "RepoTakendown",
    "RepoSuspended",
    "RepoNotFound",
    "NotFound",
    "BlockedActor",
    "BlockedByActor",
)


def xrpc_error(page: Page) -> str:
    """The XRPC error name of a failed page (``{"error": "...", "message": "..."}``), or its status."""
    error = server_words(page.data.get("error")) if isinstance(page.data, dict) else None
    return error or f"HTTP {page.status}"


class BlueskyCollector(Collector):
    platform = "bluesky"

    def __init__(self, *args: Any, appview: str = DEFAULT_APPVIEW, plc: str = DEFAULT_PLC, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.appview = appview.rstrip("/")
        self.plc = plc.rstrip("/")

    def collect(self, target: str) -> dict[str, Any]:
        self.start(target, {"appview": self.appview, "plc": self.plc})
        profile = self.fetcher.get(
            self.appview, "/xrpc/app.bsky.actor.getProfile", {"actor": target}, endpoint="app.bsky.actor.getProfile", role="owner"
        )
        if not profile.ok or not isinstance(profile.data.get("did"), str):
            raise CollectionError(
                f"{target}: the AppView does not return this account ({xrpc_error(profile)}); "
                "give a handle such as alice.bsky.social or a DID"
            )
        owner = profile.data["did"]
        self.record(owner=owner, owner_handle=profile.data.get("handle"))
        self.say(
            f"Collecting {profile.data.get('handle', owner)} ({owner}), {self.mode} mode, engagement since {self.manifest['since'][:10]}"
        )
        followers = self._actors("app.bsky.graph.getFollowers", owner, "followers", "owner's followers")
        follows = self._actors("app.bsky.graph.getFollows", owner, "follows", "owner's follows")
        owner_pds = self._pds(owner)
        if owner_pds is None:
            raise CollectionError(f"{target}: the owner's repository cannot be located (DID document of {owner})")
        self._records(owner_pds, owner, FOLLOW_COLLECTION, role="owner follow records")
        posts = []
        for collection in ENGAGEMENT_COLLECTIONS:
            records = self._records(owner_pds, owner, collection, role="owner engagement records", windowed=True)
            if collection == "app.bsky.feed.post":
                posts = [
                    r["uri"]
                    for r in records
                    if isinstance(r, dict) and isinstance(r.get("uri"), str) and self._in_window(r.get("value", {}).get("createdAt"))
                ]
        follower_set = set(followers)
        mutuals = [did for did in follows if did in follower_set]
        facts: dict[str, Any] = {
            "owner": owner,
            "owner_handle": profile.data.get("handle"),
            "followers_listed": len(followers),
            "follows_listed": len(follows),
            "mutuals_listed": len(mutuals),
        }
        if self.depth == 0:
            posts = self.first_posts(posts)
            for uri in self.accounts_progress(posts, "engagement on the owner's posts", unit="post"):
                self._engagement_on(uri)
            looked_up = mutuals[: self.bounds.max_accounts]
            if len(mutuals) > len(looked_up):
                self.log.cut(f"mutuals whose follow of the owner was not dated (beyond {self.bounds.max_accounts})")
            for did in self.accounts_progress(looked_up, "dating mutuals' follows of the owner"):
                pds = self._pds(did)
                if pds is not None:
                    self._records(pds, did, FOLLOW_COLLECTION, role="mutual follow records", stop_at_subject=owner)
            facts.update(posts_examined=len(posts), mutuals_dated=len(looked_up))
        else:
            members, contacts = self.network_members(owner, mutuals, followers, follows)
            for did in self.accounts_progress(members, "contacts' follows and engagement"):
                pds = self._pds(did)
                if pds is None:
                    continue
                self._records(pds, did, FOLLOW_COLLECTION, role="member follow records")
                for collection in ENGAGEMENT_COLLECTIONS:
                    self._records(pds, did, collection, role="member engagement records", windowed=True)
            facts.update(members=[owner, *members], contacts=contacts)
        return self.finish(**facts)

    # ---------------------------------------------------------------------------------------
    def _in_window(self, value: Any) -> bool:
        at = parse_time(value)
        return at is not None and at >= self.since

    def _actors(self, endpoint: str, actor: str, key: str, role: str) -> list[str]:
        """Every DID of a followers/follows listing, following cursors up to the page bound."""
        dids: list[str] = []
        cursor = None
        for number in range(self.bounds.max_pages):
            page = self.fetcher.get(
                self.appview, f"/xrpc/{endpoint}", {"actor": actor, "limit": 100, "cursor": cursor}, endpoint=endpoint, role=role
            )
            if not page.ok:
                self.log.bad(
                    f"{role}: pages that are not valid listings ({xrpc_error(page) if page.status != 'malformed' else 'malformed'})"
                )
                return dids
            items = page.data.get(key)
            if not isinstance(items, list):
                self.log.bad(f"{role}: pages without a '{key}' list")
                return dids
            dids.extend(item["did"] for item in items if isinstance(item, dict) and isinstance(item.get("did"), str))
            cursor = page.data.get("cursor")
            if not cursor or not items:
                return dids
        self.log.cut(f"{role} cut at {self.bounds.max_pages} pages")
        return dids

    def _pds(self, did: str) -> str | None:
        """The PDS URL in the account's DID document (did:plc from the directory, did:web from its host)."""
        if did.startswith("did:plc:"):
            page = self.fetcher.get(self.plc, f"/{did}", endpoint="did document", role="identity")
        elif did.startswith("did:web:"):
            host = did[len("did:web:") :].replace("%3A", ":")
            page = self.fetcher.get(
                f"https://{host}", "/.well-known/did.json", endpoint="did document", role="identity", key=f"did document {did}"
            )
        else:
            self.log.gone("DIDs of an unknown method")
            return None
        if page.status in (404, 410):
            self.log.gone("DID not found or tombstoned")
            return None
        if not page.ok or not isinstance(page.data, dict):
            self.log.bad("DID documents")
            return None
        for service in page.data.get("service") or []:
            if (
                isinstance(service, dict)
                and (service.get("id") in ("#atproto_pds", f"{did}#atproto_pds"))
                and isinstance(service.get("serviceEndpoint"), str)
            ):
                return service["serviceEndpoint"].rstrip("/")
        self.log.bad("DID documents without a PDS")
        return None

    def _records(
        self, pds: str, did: str, collection: str, role: str, windowed: bool = False, stop_at_subject: str | None = None
    ) -> list[dict]:
        records: list[dict] = []
        cursor = None
        for _ in range(self.bounds.max_pages):
            page = self.fetcher.get(
                pds,
                "/xrpc/com.atproto.repo.listRecords",
                {"repo": did, "collection": collection, "limit": 100, "cursor": cursor},
                endpoint="com.atproto.repo.listRecords",
                role=role,
            )
            if not page.ok:
                error = xrpc_error(page) if page.status != "malformed" else "malformed"
                if error in GONE_ERRORS or page.status in (404, 410):
                    self.log.gone(error)
                else:
                    self.log.bad(f"{collection} listings ({error})")
                return records
            batch = page.data.get("records")
            if not isinstance(batch, list):
                self.log.bad(f"{collection} listings without a 'records' list")
                return records
            records.extend(batch)
            cursor = page.data.get("cursor")
            if not cursor or not batch:
                return records
            if stop_at_subject and any(
                isinstance(r, dict) and isinstance(r.get("value"), dict) and r["value"].get("subject") == stop_at_subject for r in batch
            ):
                return records
            if windowed:
                oldest = parse_time((batch[-1].get("value") or {}).get("createdAt") if isinstance(batch[-1], dict) else None)
                if oldest is not None and oldest < self.since:
                    return records
        self.log.cut(f"{role} cut at {self.bounds.max_pages} pages")
        return records

    def _engagement_on(self, uri: str) -> None:
        """Likes, reposts, quotes and direct replies of one of the owner's posts."""
        for endpoint, key in (
            ("app.bsky.feed.getLikes", "likes"),
            ("app.bsky.feed.getRepostedBy", "repostedBy"),
            ("app.bsky.feed.getQuotes", "posts"),
        ):
            cursor = None
            for number in range(self.bounds.max_engagement_pages):
                page = self.fetcher.get(
                    self.appview,
                    f"/xrpc/{endpoint}",
                    {"uri": uri, "limit": 100, "cursor": cursor},
                    endpoint=endpoint,
                    role="engagement on owner's posts",
                )
                if not page.ok or not isinstance(page.data.get(key), list):
                    self.log.bad(f"{endpoint} pages ({xrpc_error(page) if page.status != 'malformed' else 'malformed'})")
                    break
                cursor = page.data.get("cursor")
                if not cursor or not page.data[key]:
                    break
            else:
                self.log.cut(f"{endpoint} listings cut at {self.bounds.max_engagement_pages} pages")
        page = self.fetcher.get(
            self.appview,
            "/xrpc/app.bsky.feed.getPostThread",
            {"uri": uri, "depth": 1, "parentHeight": 0},
            endpoint="app.bsky.feed.getPostThread",
            role="engagement on owner's posts",
        )
        if not page.ok:
            self.log.bad(f"app.bsky.feed.getPostThread pages ({xrpc_error(page) if page.status != 'malformed' else 'malformed'})")

"""Collecting one Mastodon account's network and two-way engagement from its instance's REST API.

Public endpoints need no token; an access token (``--token``, or the ``MASTODON_TOKEN``
environment variable) adds the owner's own favourites and works on instances that require
login. Listings page with ``Link: <...>; rel="next"`` headers. What is asked:

- ``/api/v1/accounts/lookup?acct=``: the owner's id, handle and counts;
- ``/api/v1/accounts/:id/followers`` and ``/following``: both follow directions (no follow
  times: Mastodon does not publish when a follow began);
- ``/api/v1/accounts/:id/statuses``: the owner's posts, replies and boosts in the window;
- ego mode: for each of the owner's posts, ``favourited_by``, ``reblogged_by`` and ``context``
  (direct replies), and with a token ``/api/v1/favourites`` (what the owner liked);
- network mode: each contact's following list and statuses (their replies, boosts, mentions).
  Accounts on other instances are seen through the owner's instance, which may hold only part
  of their posts: the coverage notes say so.
"""

from __future__ import annotations

from typing import Any

from .base import Collector, parse_time
from .http import CollectionError, Page, server_words


def status_error(page: Page) -> str:
    error = server_words(page.data.get("error")) if isinstance(page.data, dict) else None
    if error:
        return f"HTTP {page.status}: {error}"
    return "malformed" if page.status == "malformed" else f"HTTP {page.status}"


def split_address(address: str) -> tuple[str, str]:
    """``@user@instance`` -> (``user``, ``instance``)."""
    parts = address.strip().lstrip("@").split("@")
    if len(parts) != 2 or not all(parts):
        raise ValueError(f"{address!r}: give a Mastodon account as @user@instance (e.g. @alice@mastodon.social)")
    return parts[0], parts[1]


class MastodonCollector(Collector):
    platform = "mastodon"

    def __init__(self, *args: Any, base_url: str | None = None, instance: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = (base_url or f"https://{instance}").rstrip("/")
        self.has_token = bool(self.fetcher.token)

    def collect(self, target: str) -> dict[str, Any]:
        user, instance = split_address(target)
        self.start(target, {"instance": self.base})
        page = self.fetcher.get(self.base, "/api/v1/accounts/lookup", {"acct": user}, endpoint="accounts/lookup", role="owner")
        if page.status in (401, 403):
            raise CollectionError(f"{target}: {self.base} requires an access token for this (set MASTODON_TOKEN or pass --token)")
        if not page.ok or not isinstance(page.data, dict) or not isinstance(page.data.get("id"), str):
            raise CollectionError(f"{target}: {self.base} does not return this account ({status_error(page)})")
        owner = page.data["id"]
        self.record(owner=owner, owner_handle=page.data.get("acct"), token_used=self.has_token)
        self.say(f"Collecting {target} (id {owner}), {self.mode} mode, engagement since {self.manifest['since'][:10]}")
        followers = self._accounts(f"/api/v1/accounts/{owner}/followers", "followers", "owner's followers")
        following = self._accounts(f"/api/v1/accounts/{owner}/following", "following", "owner's follows")
        statuses = self._statuses(owner, "owner's statuses")
        followers_set = set(followers)
        mutuals = [a for a in following if a in followers_set]
        facts: dict[str, Any] = {
            "owner": owner,
            "owner_handle": page.data.get("acct"),
            "followers_listed": len(followers),
            "follows_listed": len(following),
            "mutuals_listed": len(mutuals),
            "token_used": self.has_token,
        }
        for count_field, listed, what in (("followers_count", followers, "followers"), ("following_count", following, "follows")):
            claimed = page.data.get(count_field)
            hidden = isinstance(claimed, int) and claimed > 0 and not listed
            # An account may hide its lists: an empty list then means "not shown", not "none".
            facts[f"{what}_hidden"] = hidden
            if hidden:
                self.log.bad(f"owner's {what} hidden by the account's privacy setting ({claimed} claimed, none listed)")
        if self.depth == 0:
            own = [s for s in statuses if isinstance(s, dict) and not s.get("reblog") and self._in_window(s.get("created_at"))]
            own = self.first_posts(own)
            for status in self.accounts_progress(own, "engagement on the owner's posts", unit="post"):
                self._engagement_on(status["id"], owner)
            if self.has_token:
                self._pages("/api/v1/favourites", {"limit": 40}, "favourites", "owner's favourites", self.bounds.max_engagement_pages)
            facts.update(posts_examined=len(own))
        else:
            members, contacts = self.network_members(owner, mutuals, followers, following)
            for account in self.accounts_progress(members, "contacts' follows and posts"):
                self._accounts(f"/api/v1/accounts/{account}/following", "following", "member follows")
                self._statuses(account, "member statuses")
            facts.update(members=[owner, *members], contacts=contacts)
        return self.finish(**facts)

    # ---------------------------------------------------------------------------------------
    def _in_window(self, value: Any) -> bool:
        at = parse_time(value)
        return at is not None and at >= self.since

    def _pages(
        self, path: str, params: dict[str, Any], endpoint: str, role: str, max_pages: int, windowed: bool = False, about: dict | None = None
    ) -> list[dict] | None:
        """Every item of a Link-paginated listing up to ``max_pages``; ``None`` when the account is gone."""
        items: list[dict] = []
        url = None
        for _ in range(max_pages):
            page = self.fetcher.get(self.base, path, params, endpoint=endpoint, role=role, url=url, about=about)
            if page.status in (404, 410):
                self.log.gone(status_error(page))
                return None
            if page.status in (401, 403):
                self.log.bad(f"{endpoint} listings refused without a token")
                return items
            if not page.ok or not isinstance(page.data, list):
                self.log.bad(f"{endpoint} pages ({status_error(page)})")
                return items
            items.extend(item for item in page.data if isinstance(item, dict))
            url = page.next_url
            if not url or not page.data:
                return items
            if windowed and not self._in_window(page.data[-1].get("created_at")):
                return items
        self.log.cut(f"{role} cut at {max_pages} pages")
        return items

    def _accounts(self, path: str, endpoint: str, role: str) -> list[str]:
        items = self._pages(path, {"limit": 80}, endpoint, role, self.bounds.max_pages) or []
        return [a["id"] for a in items if isinstance(a.get("id"), str)]

    def _statuses(self, account: str, role: str) -> list[dict]:
        return (
            self._pages(f"/api/v1/accounts/{account}/statuses", {"limit": 40}, "statuses", role, self.bounds.max_pages, windowed=True) or []
        )

    def _engagement_on(self, status: str, author: str) -> None:
        about = {"status": status, "author": author}
        for endpoint in ("favourited_by", "reblogged_by"):
            self._pages(
                f"/api/v1/statuses/{status}/{endpoint}",
                {"limit": 80},
                endpoint,
                "engagement on owner's posts",
                self.bounds.max_engagement_pages,
                about=about,
            )
        page = self.fetcher.get(
            self.base, f"/api/v1/statuses/{status}/context", endpoint="context", role="engagement on owner's posts", about=about
        )
        if not page.ok:
            self.log.bad(f"context pages ({status_error(page)})")

"""What both platforms' collectors share: bounds, the manifest, counting what went wrong."""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from .http import CollectionError, PageFetcher
from .store import COLLECTOR_NAME, PageStore


@dataclass(frozen=True)
class Bounds:
    """How much a collection asks for. Each bound that cuts something is counted in the manifest."""

    # Engagement window: the owner's posts and everyone's engagement records from the last ``days``.
    days: float = 180.0
    # The owner's posts whose likes, reposts, quotes and replies are collected (newest first).
    max_posts: int = 300
    # Network mode: accounts besides the owner whose follows and engagement are collected
    # (mutuals first, then the newest followers and followees). Ego mode: mutuals whose own
    # follow record of the owner is looked up, for follow-back times.
    max_accounts: int = 500
    # Pages of one account's follows, followers or records (100 per page on Bluesky, 80 on Mastodon).
    max_pages: int = 100
    # Pages of likes / reposts / replies of one post.
    max_engagement_pages: int = 10

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"--{name.replace('_', '-')} must be more than 0, not {value}")


@dataclass
class CollectionLog:
    """Counts of what was cut or could not be read, for the manifest and the report's coverage notes."""

    gone_accounts: dict[str, int] = field(default_factory=dict)
    cut_lists: dict[str, int] = field(default_factory=dict)
    unreadable: dict[str, int] = field(default_factory=dict)

    def gone(self, reason: str) -> None:
        self.gone_accounts[reason] = self.gone_accounts.get(reason, 0) + 1

    def cut(self, what: str) -> None:
        self.cut_lists[what] = self.cut_lists.get(what, 0) + 1

    def bad(self, what: str) -> None:
        self.unreadable[what] = self.unreadable.get(what, 0) + 1


class Collector:
    """A run: fetcher, bounds, the store's manifest; subclasses walk one platform's endpoints."""

    platform = ""

    def __init__(self, store: PageStore, fetcher: PageFetcher, bounds: Bounds, depth: int, progress: bool = True) -> None:
        if depth not in (0, 1):
            raise ValueError(f"--depth must be 0 (the owner's own network) or 1 (also follows among the owner's contacts), not {depth}")
        self.store = store
        self.fetcher = fetcher
        self.bounds = bounds
        self.depth = depth
        self.progress = progress
        self.log = CollectionLog()
        self.manifest: dict[str, Any] = {}

    @property
    def mode(self) -> str:
        return "network" if self.depth else "ego"

    def start(self, target: str, servers: dict[str, str]) -> None:
        self.store.create()
        previous = self.store.read_manifest()
        if previous is not None:
            same = (previous.get("platform"), previous.get("target"), previous.get("mode"), previous.get("bounds"))
            if same != (self.platform, target, self.mode, asdict(self.bounds)):
                raise CollectionError(
                    f"{self.store.folder}: holds a collection of {previous.get('platform')} {previous.get('target')} "
                    f"({previous.get('mode')} mode, other bounds or account); resume it with the same command, or collect into an "
                    "empty folder"
                )
            since = previous["since"]
            started = previous["started_at"]
        else:
            now = datetime.now(timezone.utc)
            # The window is fixed when a collection starts, so a resumed run asks for the same pages.
            since = (now - timedelta(days=self.bounds.days)).isoformat(timespec="seconds")
            started = now.isoformat(timespec="seconds")
        self.manifest = {
            "collected_by": COLLECTOR_NAME,
            "platform": self.platform,
            "target": target,
            "mode": self.mode,
            "depth": self.depth,
            "bounds": asdict(self.bounds),
            "servers": servers,
            "started_at": started,
            "since": since,
            "complete": False,
        }
        self.store.write_manifest(self.manifest)

    @property
    def since(self) -> datetime:
        return datetime.fromisoformat(self.manifest["since"])

    def record(self, **facts: Any) -> None:
        """Write facts into the manifest as soon as they are known, so an interrupted collection still loads."""
        self.manifest.update(facts)
        self.store.write_manifest(self.manifest)

    def finish(self, **facts: Any) -> dict[str, Any]:
        counts = self.fetcher.counts
        self.manifest.update(facts)
        self.manifest.update(
            {
                "complete": True,
                "finished_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "requests": asdict(counts),
                "gone_accounts": self.log.gone_accounts,
                "cut_lists": self.log.cut_lists,
                "unreadable": self.log.unreadable,
            }
        )
        self.store.write_manifest(self.manifest)
        return self.manifest

    def first_posts(self, posts: list) -> list:
        """The owner's posts whose engagement is collected, newest first, up to the bound (a cut is counted)."""
        if len(posts) > self.bounds.max_posts:
            self.log.cut(f"owner's posts in the window beyond the first {self.bounds.max_posts}")
        return posts[: self.bounds.max_posts]

    def network_members(self, owner: str, mutuals: list[str], followers: list[str], follows: list[str]) -> tuple[list[str], int]:
        """Network mode's contacts, mutuals first, up to the bound; recorded at once so a partial run loads."""
        contacts = list(dict.fromkeys(mutuals + followers + follows))
        members = contacts[: self.bounds.max_accounts]
        if len(contacts) > len(members):
            self.log.cut(f"contacts left out of the network (beyond {self.bounds.max_accounts}; mutuals were taken first)")
        self.record(members=[owner, *members])
        return members, len(contacts)

    def say(self, message: str) -> None:
        if self.progress:
            print(message, file=sys.stderr, flush=True)

    def accounts_progress(self, items: list, what: str, unit: str = "account"):
        if not self.progress:
            return items
        from tqdm.auto import tqdm

        return tqdm(items, desc=what, unit=unit, file=sys.stderr)


def parse_time(value: Any) -> datetime | None:
    """An API timestamp (ISO 8601) as an aware datetime, or ``None``."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)

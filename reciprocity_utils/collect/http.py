"""Asking a public API for pages, politely and without losing any.

:class:`PageFetcher` is the only code that talks to the network. For each request it

- answers from the collection folder when the page is already there (a resumed run);
- waits when the server says the rate limit is spent (a 429, or a page saying none remain),
  until the reset time the server gives (Bluesky's ``ratelimit-reset`` in epoch seconds,
  Mastodon's ``X-RateLimit-Reset`` as an ISO time, or ``Retry-After``), with a progress bar
  that says it is waiting and until when;
- retries server errors, timeouts and dropped connections with exponential backoff, and a body
  that is not whole JSON (a truncated page) a few times before recording it as malformed;
- stores every answer as received, including 4xx answers about deleted or suspended accounts,
  which the collectors count and skip.

Why not the platforms' SDKs (``atproto``, ``Mastodon.py``): they parse answers into their own
objects, so the page as received is lost, and each handles rate limits its own way; here one
small layer keeps raw pages, resumes at page granularity and treats both platforms alike.
The standard library's HTTP client is enough for GET requests with JSON answers.
"""

from __future__ import annotations

import json
import socket
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from .store import PageStore

USER_AGENT = "reciprocity-utils collector (+https://example.org/reciprocity; research, read-only)"
# Headers kept with each page: what a reader needs to audit the run, nothing personal.
KEPT_HEADERS = (
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "retry-after",
    "link",
    "content-type",
    "date",
)


class CollectionError(Exception):
    """A collection that cannot go on; what is on disk is kept, and the same command resumes it."""


@dataclass
class Page:
    """One answer: its status, parsed JSON (``None`` when absent or malformed) and Link next URL."""

    status: int | str
    data: Any
    next_url: str | None
    reused: bool

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.data is not None


@dataclass
class FetchCounts:
    requests: int = 0
    pages_fetched: int = 0
    pages_reused: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    seconds_waited_for_rate_limits: float = 0.0
    malformed_pages: int = 0
    error_pages: dict[str, int] = field(default_factory=dict)


def server_words(value: object, limit: int = 80) -> str | None:
    """A server's error text, as it may reach a report's notes: one line, at most ``limit`` characters."""
    if not isinstance(value, str):
        return None
    words = " ".join(value.split())
    return words if len(words) <= limit else words[: limit - 1] + "…"


def _link_next(link: str | None) -> str | None:
    """The rel="next" URL of an RFC 8288 Link header (Mastodon's pagination)."""
    if not link:
        return None
    for part in link.split(","):
        pieces = part.split(";")
        target = pieces[0].strip()
        if (
            target.startswith("<")
            and target.endswith(">")
            and any(p.strip().replace(" ", "") in ('rel="next"', "rel=next") for p in pieces[1:])
        ):
            return target[1:-1]
    return None


def reset_time(headers: dict[str, str], now: float) -> float | None:
    """When the server says its rate limit resets, in epoch seconds (``None`` if it does not say)."""
    if headers.get("retry-after"):
        try:
            return now + float(headers["retry-after"])
        except ValueError:
            pass
    for name in ("ratelimit-reset", "x-ratelimit-reset"):
        value = headers.get(name)
        if not value:
            continue
        try:
            number = float(value)
        except ValueError:
            try:
                return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(timezone.utc).timestamp()
            except ValueError:
                continue
        # Epoch seconds, or (some servers) seconds from now.
        return number if number > 1e9 else now + number
    return None


class PageFetcher:
    """GET JSON pages through a :class:`PageStore`; see the module's description."""

    def __init__(
        self,
        store: PageStore,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 1.0,
        max_wait: float = 900.0,
        token: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        progress: bool = True,
    ) -> None:
        self.store = store
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_wait = max_wait
        self.token = token
        self.sleep = sleep
        self.clock = clock
        self.progress = progress
        self.counts = FetchCounts()
        self._not_before = 0.0

    # ---------------------------------------------------------------------------------------
    def get(
        self,
        base: str,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        endpoint: str,
        role: str = "",
        url: str | None = None,
        about: dict[str, Any] | None = None,
        key: str | None = None,
    ) -> Page:
        """One page: from disk if stored, else from ``base + path`` with ``params`` (or a full ``url``)."""
        if url is None:
            query = urllib.parse.urlencode({k: v for k, v in (params or {}).items() if v is not None}, doseq=True)
            url = base.rstrip("/") + path + (f"?{query}" if query else "")
        # Stored under what was asked (endpoint, path, query), not the host: a resumed run that reaches the same
        # service under another address (a mirror, a new port) still finds its pages.
        parts = urllib.parse.urlsplit(url)
        key = key or f"{endpoint} {parts.path}?{parts.query}"
        stored = self.store.get(key)
        if stored is not None:
            self.counts.pages_reused += 1
            return self._page(stored.meta, stored.body(), reused=True)
        status, body, headers = self._request_with_retries(url)
        meta = {
            "endpoint": endpoint,
            "params": params or dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query)),
            "role": role,
            "about": about or {},
            "status": status,
            "received_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "headers": {k: v for k, v in headers.items() if k in KEPT_HEADERS},
        }
        self.store.put(key, body, {**meta, "url": url})
        self.counts.pages_fetched += 1
        if status == "malformed":
            self.counts.malformed_pages += 1
        elif status != 200:
            key = f"{endpoint} {status}"
            self.counts.error_pages[key] = self.counts.error_pages.get(key, 0) + 1
        return self._page(meta, body, reused=False)

    @staticmethod
    def _page(meta: dict[str, Any], body: bytes, reused: bool) -> Page:
        status = meta["status"]
        data = None
        if status != "malformed":
            try:
                data = json.loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError):
                data = None
        return Page(status=status, data=data, next_url=_link_next(meta.get("headers", {}).get("link")), reused=reused)

    # ---------------------------------------------------------------------------------------
    def _request_with_retries(self, url: str) -> tuple[int | str, bytes, dict[str, str]]:
        failures = 0
        malformed = 0
        while True:
            self._respect_rate_limit()
            try:
                status, body, headers = self._request(url)
            except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError, OSError) as error:
                status, body, headers = None, b"", {}
                problem = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
            else:
                problem = None
            now = self.clock()
            if status == 429:
                reset = reset_time(headers, now)
                self._wait((reset - now) if reset else 60.0, "rate limited by the server")
                continue
            remaining = headers.get("ratelimit-remaining", headers.get("x-ratelimit-remaining"))
            if remaining is not None and remaining.strip() == "0":
                reset = reset_time({k: v for k, v in headers.items() if k != "retry-after"}, now)
                self._not_before = reset if reset else now + 60.0
            if status is not None and status < 500:
                if status == 200 and not _is_json(body):
                    malformed += 1
                    if malformed <= 2:
                        self.counts.retries += 1
                        self.sleep(self.backoff * malformed)
                        continue
                    return "malformed", body, headers
                return status, body, headers
            failures += 1
            if failures > self.max_retries:
                what = problem or f"HTTP {status}"
                raise CollectionError(
                    f"{url.split('?')[0]}: {what} after {self.max_retries} retries; the pages fetched so far "
                    "are kept: run the same command again to resume"
                )
            self.counts.retries += 1
            self.sleep(self.backoff * 2 ** (failures - 1))

    def _request(self, url: str) -> tuple[int, bytes, dict[str, str]]:
        self.counts.requests += 1
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return response.status, response.read(), {k.lower(): v for k, v in response.headers.items()}
        except urllib.error.HTTPError as error:
            return error.code, error.read(), {k.lower(): v for k, v in (error.headers or {}).items()}

    def _respect_rate_limit(self) -> None:
        now = self.clock()
        if self._not_before > now:
            self._wait(self._not_before - now, "rate limit spent")
        self._not_before = 0.0

    def _wait(self, seconds: float, why: str) -> None:
        seconds = min(max(seconds, 1.0), self.max_wait)
        self.counts.rate_limit_waits += 1
        self.counts.seconds_waited_for_rate_limits += seconds
        until = datetime.fromtimestamp(self.clock() + seconds, timezone.utc).strftime("%H:%M:%S UTC")
        label = f"{why}: waiting until {until}"
        if self.progress and seconds >= 2:
            from tqdm.auto import tqdm

            with tqdm(total=int(seconds), desc=label, unit="s", file=sys.stderr, leave=False) as bar:
                for _ in range(int(seconds)):
                    self.sleep(1.0)
                    bar.update(1)
                self.sleep(seconds - int(seconds))
        else:
            if self.progress:
                print(label, file=sys.stderr)
            self.sleep(seconds)


def _is_json(body: bytes) -> bool:
    try:
        json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        return False
    return True

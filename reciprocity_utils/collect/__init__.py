"""Collecting an account's follows and two-way engagement from public APIs (Bluesky, Mastodon).

``reciprocity collect bluesky HANDLE --out DIR`` and ``reciprocity collect mastodon
@user@instance --out DIR`` write every page as received and a manifest into ``DIR`` (see
:mod:`.store`); ``reciprocity run DIR`` reads it through :mod:`reciprocity_utils.io.collected`.
An interrupted collection resumes from what is on disk when the same command runs again.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable

from .base import Bounds
from .bluesky import DEFAULT_APPVIEW, DEFAULT_PLC, BlueskyCollector
from .http import CollectionError, PageFetcher
from .mastodon import MastodonCollector, split_address
from .store import PageStore, is_collection

PLATFORMS = ("bluesky", "mastodon")


def collect(
    platform: str,
    target: str,
    out: str | Path,
    *,
    depth: int = 0,
    bounds: Bounds | None = None,
    appview: str = DEFAULT_APPVIEW,
    plc: str = DEFAULT_PLC,
    base_url: str | None = None,
    token: str | None = None,
    progress: bool = True,
    sleep: Callable[[float], None] | None = None,
    **fetch_options: Any,
) -> dict[str, Any]:
    """Collect ``target``'s network into ``out``; returns the manifest. See the module's description."""
    if platform not in PLATFORMS:
        raise ValueError(f"platform must be one of {', '.join(PLATFORMS)}, not {platform!r}")
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out}: --out must be a folder (it is a file)")
    if out.is_dir() and any(out.iterdir()) and not is_collection(out):
        raise ValueError(f"{out}: this folder holds other files; collect into an empty folder or resume a collection")
    bounds = bounds or Bounds()
    store = PageStore(out)
    options = dict(fetch_options, progress=progress)
    if sleep is not None:
        options["sleep"] = sleep
    if platform == "bluesky":
        fetcher = PageFetcher(store, **options)
        return BlueskyCollector(store, fetcher, bounds, depth, progress=progress, appview=appview, plc=plc).collect(target)
    _, instance = split_address(target)
    token = token or os.environ.get("MASTODON_TOKEN") or None
    fetcher = PageFetcher(store, token=token, **options)
    return MastodonCollector(store, fetcher, bounds, depth, progress=progress, base_url=base_url, instance=instance).collect(target)


__all__ = ["Bounds", "CollectionError", "PLATFORMS", "collect", "is_collection"]

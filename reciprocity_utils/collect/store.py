"""Where a collection lives on disk: every page as received, and a manifest of the run.

A collection folder holds

- ``collection.json``  the manifest: platform, whose account, mode and bounds, the base URLs,
                       when it started and ended, whether it is complete, and counts of what went
                       wrong (deleted accounts, malformed pages, retries, rate-limit waits);
- ``pages/<key>.body`` each response body exactly as received (bytes), and
  ``pages/<key>.json`` what was asked and answered: endpoint, parameters, URL, HTTP status,
                       time, rate-limit headers, and the page's role in the collection.

A page's key is a hash of what was asked (endpoint, path and query, not the host), so the same request maps to the same file: a resumed run
finds the pages it already has and asks the server only for the rest. The description file is
written after the body, both through a temporary name and a rename, so a page on disk is always
whole; a run killed mid-write leaves no half page behind.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

MANIFEST = "collection.json"
PAGES = "pages"
COLLECTOR_NAME = "reciprocity collect"


def page_key(request: str) -> str:
    return hashlib.sha256(request.encode("utf-8")).hexdigest()[:32]


def write_atomically(path: Path, data: bytes) -> None:
    temporary = path.with_name(path.name + ".partial")
    with open(temporary, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@dataclass(frozen=True)
class StoredPage:
    """One page on disk: its description and its body (parsed lazily by the reader)."""

    meta: dict[str, Any]
    body_path: Path

    @property
    def endpoint(self) -> str:
        return self.meta["endpoint"]

    @property
    def params(self) -> dict[str, Any]:
        return self.meta.get("params", {})

    def body(self) -> bytes:
        return self.body_path.read_bytes()


class PageStore:
    """The pages of one collection folder."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.pages = self.folder / PAGES

    def create(self) -> None:
        self.pages.mkdir(parents=True, exist_ok=True)

    def get(self, request: str) -> StoredPage | None:
        meta_path = self.pages / f"{page_key(request)}.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return StoredPage(meta, self.pages / f"{page_key(request)}.body")

    def put(self, request: str, body: bytes, meta: dict[str, Any]) -> StoredPage:
        key = page_key(request)
        write_atomically(self.pages / f"{key}.body", body)
        meta = {**meta, "request": request}
        write_atomically(self.pages / f"{key}.json", json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))
        return StoredPage(meta, self.pages / f"{key}.body")

    def __iter__(self) -> Iterator[StoredPage]:
        for meta_path in sorted(self.pages.glob("*.json")):
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            yield StoredPage(meta, meta_path.with_suffix(".body"))

    # The manifest -------------------------------------------------------------------------

    @property
    def manifest_path(self) -> Path:
        return self.folder / MANIFEST

    def read_manifest(self) -> dict[str, Any] | None:
        if not self.manifest_path.is_file():
            return None
        return json.loads(self.manifest_path.read_text(encoding="utf-8"))

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        write_atomically(self.manifest_path, json.dumps(manifest, indent=1, sort_keys=True).encode("utf-8"))


def is_collection(path: Path) -> bool:
    """Whether a folder is one this package's collector wrote."""
    manifest = path / MANIFEST
    if not (path.is_dir() and manifest.is_file() and (path / PAGES).is_dir()):
        return False
    try:
        return json.loads(manifest.read_text(encoding="utf-8")).get("collected_by") == COLLECTOR_NAME
    except (ValueError, UnicodeDecodeError, OSError):
        return False

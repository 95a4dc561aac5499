"""The publish folder: it can only ever hold the site, and it changes all at once.

A report is built aside, in a fresh hidden folder next to ``--out`` that only this run can
enter (mode 0700), and moved into place when every check has passed:

- ``--out`` may not be, contain or lie inside an input (raw exports would be published), may
  not be a link, and may hold only a previous report of this tool: its files are listed in
  :data:`SITE_MANIFEST`. Anything else there is refused by name; ``force`` also accepts files
  named as the tool names its own (an older report without a manifest), never others.
- One run at a time per report: a lock next to it; a second run fails at once with a clear line.
- Nothing is written through a link: the staging folder is new, so no link can be waiting in
  it, and an existing ``--out`` or private folder that is a link is refused.
- The private sibling (raw ids, executed notebooks, the full recipe) is made 0700 with files
  0600 before it moves into place.
- A failed run leaves the published folder as it was; its private work moves to
  ``.NAME.failed.private`` for inspection.
"""

from __future__ import annotations

import errno
import fcntl
import fnmatch
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .paths import private_dir

SITE_MANIFEST = ".reciprocity-site.json"
# How this tool names the files of a site (index, stylesheet, run record, recipe, one page and
# one results file per numbered study).
TOOL_FILE_PATTERNS = ("index.html", "style.css", "run.json", "params.yaml", "[0-9][0-9]-*.html", "[0-9][0-9]-*.results.json", SITE_MANIFEST)


class PublishError(ValueError):
    """The report cannot be written where asked (one line: which folder, why, what to do)."""


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_location(output_dir: Path, inputs: list[Path]) -> None:
    """Refuse a report folder (or its private sibling) that is a link, or is, holds or lies inside an input."""
    for folder in (output_dir, private_dir(output_dir)):
        if folder.is_symlink():
            raise PublishError(
                f"{folder} is a link; the report is written only into a real folder (remove the link or choose another --out)"
            )
        real = folder.resolve()
        for given in inputs:
            source = Path(given).resolve()
            if _inside(real, source) or _inside(source, real):
                relation = "is" if real == source else ("lies inside" if _inside(real, source) else "contains")
                raise PublishError(
                    f"--out {output_dir}: the folder {relation} the input {Path(given).name}; the published folder must never "
                    "hold raw exports. Choose a folder outside your data, e.g. reports/NAME"
                )


def _listed_files(folder: Path) -> list[str]:
    """Every entry below ``folder`` (links included, never followed), as relative POSIX paths."""
    found = []
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        found += [(here / name).relative_to(folder).as_posix() for name in files]
        found += [(here / name).relative_to(folder).as_posix() for name in dirs if (here / name).is_symlink()]
    return sorted(found)


def _manifest(folder: Path) -> set[str]:
    path = folder / SITE_MANIFEST
    if path.is_symlink() or not path.is_file():
        return set()
    try:
        listed = json.loads(path.read_text(encoding="utf-8")).get("files", [])
    except (ValueError, AttributeError, UnicodeDecodeError):
        return set()
    return {name for name in listed if isinstance(name, str)} | {SITE_MANIFEST}


def check_existing_site(output_dir: Path, force: bool = False) -> None:
    """An existing ``--out`` must hold only what this tool made (see the module docstring)."""
    if not output_dir.exists() and not output_dir.is_symlink():
        return
    if not output_dir.is_dir():
        raise PublishError(f"--out {output_dir} is a file, not a folder")
    own = _manifest(output_dir)
    present = _listed_files(output_dir)
    foreign = [name for name in present if name not in own]
    if force:
        foreign = [
            name
            for name in foreign
            if "/" in name or not any(fnmatch.fnmatch(name, p) for p in TOOL_FILE_PATTERNS) or (output_dir / name).is_symlink()
        ]
    if foreign:
        shown = ", ".join(foreign[:3]) + (f" and {len(foreign) - 3} more" if len(foreign) > 3 else "")
        looks_like_ours = not own and all(any(fnmatch.fnmatch(n, p) for p in TOOL_FILE_PATTERNS) for n in foreign)
        hint = (
            "it looks like a report of an older version: add --force to replace it"
            if looks_like_ours and not force
            else "choose a new or empty folder, or move those files away"
        )
        raise PublishError(
            f"--out {output_dir} already holds files this tool did not make ({shown}); they would be published with the report: {hint}"
        )


@dataclass
class StagedReport:
    """A report being built: ``site`` and ``private`` inside a fresh folder next to ``final``."""

    final: Path
    staging: Path
    lock_fd: int
    lock_path: Path
    done: bool = field(default=False)

    @property
    def site(self) -> Path:
        return self.staging / self.final.name

    @property
    def private(self) -> Path:
        return private_dir(self.site)

    def publish(self) -> None:
        """Write the manifest, tighten the private folder, and move both into place."""
        files = _listed_files(self.site)
        (self.site / SITE_MANIFEST).write_text(json.dumps({"files": files}, indent=1) + "\n", encoding="utf-8")
        _set_modes(self.site, directory=0o755, file=0o644)
        _set_modes(self.private, directory=0o700, file=0o600)
        old = self.staging / "previous"
        old.mkdir()
        for staged, final in ((self.private, private_dir(self.final)), (self.site, self.final)):
            if final.is_symlink():
                raise PublishError(f"{final} became a link during the run; nothing was published")
            if final.exists():
                os.rename(final, old / final.name)
            os.rename(staged, final)
        self.done = True

    def close(self) -> None:
        """Remove the staging folder; after a failure keep its private work as ``.NAME.failed.private``."""
        try:
            if not self.done and self.private.is_dir():
                failed = self.final.parent / f".{self.final.name}.failed.private"
                if failed.is_dir() and not failed.is_symlink():
                    shutil.rmtree(failed)
                elif failed.is_symlink() or failed.exists():
                    failed.unlink()
                _set_modes(self.private, directory=0o700, file=0o600)
                os.rename(self.private, failed)
            shutil.rmtree(self.staging, ignore_errors=True)
        finally:
            _release(self.lock_fd, self.lock_path)

    @property
    def failed_private(self) -> Path:
        return self.final.parent / f".{self.final.name}.failed.private"


def _set_modes(folder: Path, directory: int, file: int) -> None:
    if not folder.is_dir():
        return
    os.chmod(folder, directory)
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in dirs:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, directory)
        for name in files:
            path = os.path.join(root, name)
            if not os.path.islink(path):
                os.chmod(path, file)


def _acquire(lock_path: Path, final: Path) -> int:
    """An exclusive lock on ``lock_path``, or :class:`PublishError` at once if another run holds it."""
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise PublishError(f"{lock_path} is a link; remove it") from None
            raise
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise PublishError(
                f"another reciprocity run is writing {final} right now; wait for it to finish, or choose another --out"
            ) from None
        # The lock file is removed on release; if it was removed between open and lock, this
        # descriptor locks a file nobody else will find: start again on the current one.
        try:
            same = os.stat(lock_path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            return fd
        os.close(fd)


def _release(fd: int, lock_path: Path) -> None:
    try:
        lock_path.unlink()
    except FileNotFoundError:
        pass
    os.close(fd)


def stage_report(final: Path, inputs: list[Path], force: bool = False) -> StagedReport:
    """Check ``final`` and its inputs, take the lock, and make a fresh staging folder beside it."""
    final = Path(os.path.abspath(final))
    check_output_location(final, inputs)
    final.parent.mkdir(parents=True, exist_ok=True)
    lock_path = final.parent / f".{final.name}.lock"
    fd = _acquire(lock_path, final)
    try:
        check_existing_site(final, force)
        # Staging folders of runs that were killed (their lock is gone with them).
        for stale in final.parent.glob(f".{final.name}.staging-*"):
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{final.name}.staging-", dir=final.parent))
        staged = StagedReport(final, staging, fd, lock_path)
        staged.site.mkdir(mode=0o755)
        staged.private.mkdir(mode=0o700)
        return staged
    except BaseException:
        _release(fd, lock_path)
        raise

"""Every malformed or hostile input loads (counting its repairs) or stops with exit code 2 and one line.

The corpus is built by ``tests/hostile_corpus.py`` in a temporary folder; nothing of it is
committed. For each case ``reciprocity load CASE --out OUT`` must: return 0 for a valid input
(hostile text, odd layout) or 2 with one line naming the input; never print a traceback or an
internal error; finish in bounded time (cycles and deep nesting included); write nothing
outside ``--out``; change nothing in the input.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time
from pathlib import Path

import pytest
from hostile_corpus import build_corpus

from reciprocity_utils import StudyDataset
from reciprocity_utils.cli import main

CORPUS_ROOT: Path | None = None


def _corpus(tmp_path_factory) -> list:
    root = tmp_path_factory.mktemp("hostile") / "in"
    return build_corpus(root)


def _fingerprint(root: Path) -> dict[str, str]:
    """Every entry under root with its type and, for regular files, a hash of its bytes (links not followed)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in dirnames + filenames:
            path = Path(dirpath) / name
            mode = path.lstat().st_mode
            if stat.S_ISREG(mode):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                found[str(path)] = stat.filemode(mode)
    return found


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return _corpus(tmp_path_factory)


def test_the_corpus_covers_every_format_family(corpus):
    names = " ".join(case.name for case in corpus)
    for family in ("x ", "generic", "instagram", "mastodon", "bluesky", "GML", "GraphML", "Pajek", "MatrixMarket", "twarc", "FIFO", "zip"):
        assert family in names
    assert len(corpus) >= 45


def test_every_hostile_input_loads_or_fails_in_one_line_naming_it(corpus, tmp_path, capsys):
    inputs_root = corpus[0].path.parent if corpus[0].path.parent.name == "in" else corpus[0].path.parents[1]
    before = _fingerprint(inputs_root)
    failures = []
    for position, case in enumerate(corpus):
        out = tmp_path / f"out{position}"
        started = time.perf_counter()
        code = main(["load", str(case.path), "--out", str(out), *case.args])
        elapsed = time.perf_counter() - started
        captured = capsys.readouterr()
        err = captured.err.strip()
        problems = []
        if case.loads and code != 0:
            problems.append(f"should load, exit {code}: {err[:200]}")
        if not case.loads:
            if code != 2:
                problems.append(f"exit {code}, expected 2: {err[:200]}")
            elif len(err.splitlines()) != 1 or not err.startswith("error: "):
                problems.append(f"not one 'error:' line: {err[:300]!r}")
            elif case.path.name not in err:
                problems.append(f"the message does not name {case.path.name}: {err[:200]}")
        if "Traceback" in captured.err or "internal error" in captured.err:
            problems.append(f"traceback or internal error: {err[:300]}")
        if elapsed > 30:
            problems.append(f"took {elapsed:.0f} s")
        if problems:
            failures.append(f"{case.name}: " + "; ".join(problems))
    assert not failures, "\n".join(failures)
    # Nothing changed in the inputs; nothing was written beside the --out folders.
    assert _fingerprint(inputs_root) == before
    assert {p.name for p in tmp_path.iterdir()} <= {f"out{i}" for i in range(len(corpus))}


def test_ids_of_19_digits_and_beyond_64_bits_are_kept_digit_for_digit(corpus, tmp_path, capsys):
    by_name = {case.name: case for case in corpus}
    out = tmp_path / "generic"
    assert main(["load", str(by_name["generic 19-digit ids"].path), "--out", str(out)]) == 0
    ids = set(StudyDataset.load(out).accounts["account_id"].astype(str))
    assert {"9223372036854775807", "1234567890123456789"} <= ids
    out = tmp_path / "x"
    assert main(["load", str(by_name["x follower id beyond 64 bits"].path), "--out", str(out)]) == 0
    assert "123456789012345678901234" in set(StudyDataset.load(out).accounts["account_id"].astype(str))


def test_an_unexpected_error_is_one_line_with_exit_3_and_the_input_named(tmp_path, capsys, monkeypatch):
    """The last guard: a bug in a loader still prints one line, names the input and exits 3 (never a traceback)."""
    import reciprocity_utils.cli as cli

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(cli, "load_paths", broken, raising=False)
    monkeypatch.setattr("reciprocity_utils.io.load_paths", broken)
    path = tmp_path / "follows.edges"
    path.write_text("1 2\n")
    code = main(["load", str(path)])
    err = capsys.readouterr().err.strip()
    assert code == 3 and len(err.splitlines()) == 1
    assert err.startswith("internal error while reading") and str(path) in err and "ZeroDivisionError" in err


def test_a_json_file_beyond_the_limit_stops_with_the_reason_and_how_to_raise_it(tmp_path, capsys, monkeypatch):
    from hostile_corpus import _x_archive

    archive = _x_archive(tmp_path / "big")
    monkeypatch.setenv("RECIPROCITY_MAX_JSON_MB", "0.0001")  # about 100 bytes: the follower file is larger
    assert main(["load", str(archive)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "RECIPROCITY_MAX_JSON_MB" in err and "MB of JSON" in err
    monkeypatch.setenv("RECIPROCITY_MAX_JSON_MB", "10")
    assert main(["load", str(archive)]) == 0

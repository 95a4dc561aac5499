"""How long the loaders take on large inputs, and how much memory they need.

Writes synthetic inputs into a temporary folder (nothing real is used): a SNAP edge list, an
X archive with many followers and tweets (as a folder and as a zip), and prints one line per
load: seconds and the growth of the process's peak resident memory.

    python benchmarks/bench_loaders.py           # 2M-arc edge list, 200k followers, 100k tweets
    python benchmarks/bench_loaders.py --quick   # ten times smaller
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from reciprocity_utils.io import load_dataset

OWNER = "1234567890123456789"


def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_edge_list(path: Path, arcs: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    nodes = max(arcs // 10, 10)
    pairs = rng.integers(0, nodes, size=(arcs, 2))
    with open(path, "w") as handle:
        handle.write(f"# Directed graph: synthetic\n# Nodes: {nodes} Edges: {arcs}\n# FromNodeId\tToNodeId\n")
        np.savetxt(handle, pairs, fmt="%d", delimiter="\t")


def write_x_archive(folder: Path, followers: int, tweets: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    data = folder / "data"
    data.mkdir(parents=True)
    ids = (rng.integers(10**15, 10**18, size=followers)).astype(str)
    wrap = lambda kind, part, records: f"window.YTD.{kind}.part{part} = " + json.dumps(records)
    (data / "follower.js").write_text(wrap("follower", 0, [{"follower": {"accountId": i}} for i in ids]))
    (data / "following.js").write_text(wrap("following", 0, [{"following": {"accountId": i}} for i in ids[: followers // 10]]))
    targets = rng.choice(ids, size=tweets)
    records = [
        {
            "tweet": {
                "id_str": str(10**18 + n),
                "created_at": "Mon Jan 03 10:00:00 +0000 2022",
                "full_text": f"@u{t[-6:]} hello",
                "in_reply_to_user_id_str": t if n % 2 else None,
                "in_reply_to_screen_name": f"u{t[-6:]}",
                "entities": {"user_mentions": [{"id_str": t, "screen_name": f"u{t[-6:]}"}], "urls": []},
            }
        }
        for n, t in enumerate(targets)
    ]
    (data / "tweets.js").write_text(wrap("tweets", 0, records))
    manifest = {
        "userInfo": {"accountId": OWNER, "userName": "bench"},
        "archiveInfo": {"generationDate": "2024-01-01T00:00:00Z"},
        "dataTypes": {
            name: {"files": [{"fileName": f"data/{name}.js", "globalName": f"YTD.{name}.part0"}]}
            for name in ("follower", "following", "tweets")
        },
    }
    (data / "manifest.js").write_text("window.__THAR_CONFIG = " + json.dumps(manifest))


def timed(label: str, path: Path) -> None:
    before, start = peak_mib(), time.perf_counter()
    dataset = load_dataset(path)
    seconds = time.perf_counter() - start
    counts = dataset.counts()
    print(
        f"{label:<38} {seconds:8.2f} s   peak +{peak_mib() - before:7.0f} MiB   "
        f"{counts['follows']:>10,} follows {counts['interaction_rows']:>9,} interactions"
    )


def reader_peak(path: Path, reader: str) -> None:
    """In a fresh process: read an edge list with one reader; print seconds and peak memory (VmHWM)."""
    from reciprocity_utils.io import common

    if reader == "line reader":
        common._read_uniform_columns = lambda *args, **kwargs: None
    start = time.perf_counter()
    rows, _ = common.read_whitespace_lines(path, min_fields=2, max_fields=2, names=["follower_id", "followee_id"])
    seconds = time.perf_counter() - start
    peak = [float(line.split()[1]) / 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
    print(json.dumps({"seconds": seconds, "peak_mib": peak, "rows": len(rows)}))


def compare_readers(path: Path, arcs: int) -> None:
    """The edge-list reader alone, Arrow's CSV reader against the line reader, each in its own process."""
    import subprocess
    import sys

    baseline = json.loads(
        subprocess.run(
            [
                sys.executable,
                "-c",
                "import json; from reciprocity_utils.io import common; "
                "print(json.dumps([float(l.split()[1]) / 1024 for l in open('/proc/self/status') "
                "if l.startswith('VmHWM:')][0]))",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    )
    for reader in ("Arrow CSV reader", "line reader"):
        out = subprocess.run(
            [sys.executable, __file__, "--reader", reader, "--path", str(path)], capture_output=True, text=True, check=True
        ).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        per_edge = (figures["peak_mib"] - baseline) * 2**20 / arcs
        print(
            f"  edge-list reader, {reader:<17} {figures['seconds']:6.2f} s   peak {figures['peak_mib']:7.0f} MiB "
            f"({per_edge:,.0f} B per edge above the {baseline:.0f} MiB of an idle process)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="ten times smaller inputs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--reader", help=argparse.SUPPRESS)
    parser.add_argument("--path", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        reader_peak(Path(args.path), args.reader)
        return
    scale = 10 if args.quick else 1
    arcs, followers, tweets = 2_000_000 // scale, 200_000 // scale, 100_000 // scale
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        write_edge_list(scratch / "edges.txt", arcs, args.seed)
        write_x_archive(scratch / "archive", followers, tweets, args.seed)
        with zipfile.ZipFile(scratch / "archive.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            for path in (scratch / "archive").rglob("*.js"):
                archive.write(path, "twitter-export/" + path.relative_to(scratch / "archive").as_posix())
        print(f"{'input':<38} {'time':>10}   {'memory':>17}   sizes")
        timed(f"SNAP edge list, {arcs:,} arcs", scratch / "edges.txt")
        compare_readers(scratch / "edges.txt", arcs)
        timed(f"X archive folder, {followers:,} followers", scratch / "archive")
        timed(f"X archive zip, {tweets:,} tweets", scratch / "archive.zip")


if __name__ == "__main__":
    main()

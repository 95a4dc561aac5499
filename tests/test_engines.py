"""The three engines (memory, DuckDB out of core, Spark local[2]) give identical measures.

Checked against counts computed here independently (Python sets), on real networks of
../shared/data and on a generated network with 19-digit ids, self-follows and repeated rows, in
each input shape the engines read.
"""

from __future__ import annotations

import gzip
import json
import shutil
import stat

import numpy as np
import pandas as pd
import pytest
from conftest import needs_shared_data

from reciprocity_utils import load_dataset, metrics
from reciprocity_utils.cli import main
from reciprocity_utils.engines import configuration_model_r, measure_follows
from reciprocity_utils.engines.choice import choose_engine
from reciprocity_utils.engines.duckdb_engine import EngineMemoryError
from reciprocity_utils.engines.inputs import follow_input
from reciprocity_utils.model import DatasetValidationError


def _spark_missing() -> str | None:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark is not installed (make test installs it)"
    if shutil.which("java") is None:
        return "Java is not installed (PySpark 4 needs Java 17; .ci/run installs it)"
    return None


ENGINES = ["memory", "duckdb", pytest.param("spark", marks=pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing())))]


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A reciprocal random network with 19-digit ids, 20 self-follows and 60 repeated rows, in three shapes."""
    rng = np.random.default_rng(7)
    n, m = 2_000, 12_000
    ids = np.array([str(v) for v in rng.integers(10**18, 2**63 - 1, size=n, dtype=np.int64)])
    follower, followee = rng.integers(0, n, m), rng.integers(0, n, m)
    back = rng.random(m) < 0.3  # returned follows
    follower, followee = np.concatenate([follower, followee[back]]), np.concatenate([followee, follower[back]])
    keep = follower != followee
    follower, followee = follower[keep], followee[keep]
    loops = rng.integers(0, n, 20)
    repeats = rng.integers(0, len(follower), 60)
    rows = pd.DataFrame(
        {
            "follower_id": np.concatenate([ids[follower], ids[loops], ids[follower[repeats]]]),
            "followee_id": np.concatenate([ids[followee], ids[loops], ids[followee[repeats]]]),
        }
    ).sample(frac=1.0, random_state=3)
    folder = tmp_path_factory.mktemp("engines")
    shapes = {"parquet": folder / "follows.parquet", "csv": folder / "follows.csv", "edgelist": folder / "follows.txt.gz"}
    rows.astype("string").to_parquet(shapes["parquet"], index=False)
    rows.to_csv(shapes["csv"], index=False)
    with gzip.open(shapes["edgelist"], "wt", newline="") as handle:
        handle.write("# a comment line\r\n% another\r\n")
        for a, b in rows.itertuples(index=False):
            handle.write(f"{a}\t{b}\t1\r\n")
    arcs = {(a, b) for a, b in rows.itertuples(index=False) if a != b}
    expected = {
        "rows_read": len(rows),
        "self_follows_removed": int((rows["follower_id"] == rows["followee_id"]).sum()),
        "follows": len(arcs),
        "accounts": len({a for a, _ in arcs} | {b for _, b in arcs}),
        "returned_follows": sum((b, a) in arcs for a, b in arcs),
    }
    expected["repeated_follows_removed"] = expected["rows_read"] - expected["self_follows_removed"] - expected["follows"]
    return shapes, expected, arcs


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("shape", ["parquet", "csv", "edgelist"])
def test_every_engine_counts_what_independent_set_arithmetic_counts(generated, engine, shape):
    shapes, expected, _ = generated
    measures = measure_follows(shapes[shape], engine=engine)
    assert {key: getattr(measures, key) for key in expected} == expected
    assert expected["repeated_follows_removed"] > 0 and expected["self_follows_removed"] == 20
    assert measures.r == pytest.approx(expected["returned_follows"] / expected["follows"], rel=1e-15)


@pytest.mark.parametrize("engine", ["duckdb", *ENGINES[2:]])
def test_per_account_tables_are_identical_to_the_memory_engines_with_19_digit_ids_exact(generated, engine, tmp_path):
    shapes, _, arcs = generated
    reference = measure_follows(shapes["parquet"], engine="memory", accounts_file=tmp_path / "memory.parquet")
    other = measure_follows(shapes["edgelist"], engine=engine, accounts_file=tmp_path / f"{engine}.parquet")
    mine = pd.read_parquet(tmp_path / "memory.parquet").reset_index(drop=True)
    theirs = pd.read_parquet(tmp_path / f"{engine}.parquet").sort_values("account_id").reset_index(drop=True)
    assert mine["account_id"].astype(str).str.len().min() == 19
    assert mine["account_id"].astype(str).tolist() == theirs["account_id"].astype(str).tolist()
    for column in ("followers", "following", "mutual"):
        assert mine[column].astype(np.int64).tolist() == theirs[column].astype(np.int64).tolist(), column
    np.testing.assert_allclose(mine["followback_rate"].to_numpy(float), theirs["followback_rate"].to_numpy(float), rtol=1e-15)
    # Independently: an account's mutual partners are its follows returned.
    first = mine.iloc[0]["account_id"]
    assert int(mine.iloc[0]["mutual"]) == sum(1 for a, b in arcs if a == first and (b, a) in arcs)
    assert other.configuration_r == pytest.approx(reference.configuration_r, rel=1e-12)


@pytest.mark.parametrize(
    "parts, r",
    [
        (("exports", "research", "snap_edgelist", "Wiki-Vote.txt"), 0.0565),
        (("exports", "research", "higgs", "higgs-reply_network.edgelist"), 0.1633),
    ],
)
def test_engines_agree_on_real_networks_and_with_the_studies_loader(parts, r):
    path = needs_shared_data(*parts)
    results = [measure_follows(path, engine=engine) for engine in ("memory", "duckdb") + (() if _spark_missing() else ("spark",))]
    keys = ("rows_read", "self_follows_removed", "repeated_follows_removed", "follows", "accounts", "returned_follows")
    assert len({tuple(getattr(m, k) for k in keys) for m in results}) == 1
    assert round(results[0].r, 4) == r  # the figure in ../shared/data/README.md
    # What study 02 computes from the loaded dataset is the same r.
    dataset = load_dataset(path, **({"as_follows": True} if "higgs" in parts else {}))
    assert metrics.reciprocity(dataset).arc_reciprocity == pytest.approx(results[0].r, rel=1e-15)


def test_configuration_model_r_is_the_sum_over_pairs_it_states():
    rng = np.random.default_rng(1)
    k_out, k_in = rng.integers(0, 6, 40).astype(float), rng.integers(0, 6, 40).astype(float)
    k_in *= k_out.sum() / k_in.sum()  # one number of follows on both sides
    m = k_out.sum()
    p = np.outer(k_out, k_in) / m
    np.fill_diagonal(p, 0.0)
    assert configuration_model_r(k_out, k_in) == pytest.approx((p * p.T).sum() / m, rel=1e-12)
    assert np.isnan(configuration_model_r(np.zeros(3), np.zeros(3)))


@pytest.mark.parametrize(
    "parts, tolerance",
    [(("exports", "research", "snap_edgelist", "Wiki-Vote.txt"), 0.06), (("networks", "ucd-twitter-multiview", "football"), 0.05)],
)
def test_configuration_model_r_is_close_to_degree_preserving_rewiring(parts, tolerance):
    dataset = load_dataset(needs_shared_data(*parts))
    arcs = metrics.encode_follows(dataset)
    null = metrics.degree_preserving_null(arcs.follower, arcs.followee, arcs.n_accounts, n_networks=10, seed=1)
    counts = metrics.account_counts(arcs.follower, arcs.followee, arcs.n_accounts)
    analytic = configuration_model_r(counts["following"], counts["followers"])
    assert analytic == pytest.approx(null.mean, rel=tolerance)
    assert abs(analytic - null.mean) < 0.2 * null.observed  # far below the observed r either way


def test_duckdb_spills_to_disk_under_a_memory_limit_smaller_than_the_network(tmp_path):
    rng = np.random.default_rng(3)
    n, m = 200_000, 1_000_000
    a, b = rng.integers(0, n, m), rng.integers(0, n, m)
    back = rng.random(m) < 0.2
    frame = pd.DataFrame({"follower_id": np.concatenate([a, b[back]]), "followee_id": np.concatenate([b, a[back]])})
    frame = (frame + 10**18).astype(str)
    frame.to_parquet(tmp_path / "big.parquet", index=False)
    spill = tmp_path / "spill"
    # About 1.2M follows of 19-digit text ids: well over 100 MB as DuckDB holds them.
    limited = measure_follows(tmp_path / "big.parquet", engine="duckdb", memory_limit="100MB", temp_directory=spill, threads=1)
    reference = measure_follows(tmp_path / "big.parquet", engine="memory")
    keys = ("rows_read", "self_follows_removed", "repeated_follows_removed", "follows", "accounts", "returned_follows")
    assert [getattr(limited, k) for k in keys] == [getattr(reference, k) for k in keys]
    # A limit too small even for spilling is one error naming the parameter to raise, not a crash.
    with pytest.raises(EngineMemoryError, match=r"memory limit \(2MB\).*raise --memory-limit"):
        measure_follows(tmp_path / "big.parquet", engine="duckdb", memory_limit="2MB", temp_directory=spill, threads=1)


@pytest.mark.parametrize("engine", ENGINES)
def test_a_line_without_two_ids_is_one_error_naming_its_line(tmp_path, engine):
    path = tmp_path / "edges.txt"
    path.write_text("# header\n1 2\n2 1\n3\n4 5\n")
    with pytest.raises(DatasetValidationError, match=r"edges.txt, line 4, field 'follower, followee': expected two account ids"):
        measure_follows(path, engine=engine)


def test_auto_takes_memory_for_what_fits_and_duckdb_beyond(tmp_path):
    path = tmp_path / "edges.txt"
    path.write_text("1 2\n2 1\n" * 1000)
    source = follow_input(path)
    assert choose_engine(source, available=2**34) == "memory"
    assert choose_engine(source, available=source.bytes) == "duckdb"
    assert "Engine chosen by input size: memory" in measure_follows(path).in_words()


def test_cli_measure_writes_the_private_folder_and_says_the_numbers(generated, tmp_path, capsys):
    shapes, expected, _ = generated
    out = tmp_path / "measured"
    assert main(["measure", str(shapes["csv"]), "--engine", "duckdb", "--out", str(out)]) == 0
    said = capsys.readouterr().out
    assert f"{expected['follows']:,} follows among {expected['accounts']:,} accounts" in said
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    saved = json.loads((out / "measures.json").read_text())
    assert saved["returned_follows"] == expected["returned_follows"] and saved["engine"] == "duckdb"
    assert len(pd.read_parquet(out / "accounts.parquet")) == expected["accounts"]
    assert main(["measure", str(tmp_path / "absent.txt")]) == 2
    assert "absent.txt: no such file" in capsys.readouterr().err


@pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing()))
def test_spark_reads_a_storage_url_as_a_cluster_would_and_auto_picks_it(generated):
    shapes, expected, _ = generated
    measures = measure_follows(shapes["edgelist"].as_uri())  # file:///...: a URL as hdfs:// or s3a:// would be
    assert measures.engine == "spark" and measures.returned_follows == expected["returned_follows"]
    assert "on a cluster's storage" in measures.in_words()
    with pytest.raises(ValueError, match="read by the spark engine only"):
        measure_follows(shapes["edgelist"].as_uri(), engine="duckdb")


def test_a_matrixmarket_file_is_refused_with_the_way_to_convert_it(tmp_path):
    path = tmp_path / "follows.mtx"
    path.write_text("%%MatrixMarket matrix coordinate integer general\n3 3 2\n1 2 1\n2 1 1\n")
    for engine in ("memory", "duckdb"):
        with pytest.raises(DatasetValidationError, match="MatrixMarket file: convert it with `reciprocity load FILE --out DIR`"):
            measure_follows(path, engine=engine)


def test_spark_without_java_is_one_line_saying_what_to_install(monkeypatch, capsys, tmp_path):
    monkeypatch.delenv("JAVA_HOME", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    from reciprocity_utils.engines import spark_engine

    monkeypatch.setattr(spark_engine.shutil, "which", lambda name: None)
    if _spark_missing() == "PySpark is not installed (make test installs it)":
        pytest.skip("PySpark is not installed")
    monkeypatch.setattr("pyspark.sql.SparkSession.getActiveSession", staticmethod(lambda: None))
    path = tmp_path / "edges.txt"
    path.write_text("1 2\n2 1\n")
    assert main(["measure", str(path), "--engine", "spark"]) == 2
    assert "needs Java 17 or newer" in capsys.readouterr().err


@pytest.mark.skipif(_spark_missing() is not None, reason=str(_spark_missing()))
def test_spark_keeps_the_jvm_banner_off_stderr(generated, tmp_path):
    """In a notebook, stderr is the cell's output: the JVM's warnings must not reach a published page."""
    import subprocess
    import sys

    shapes, expected, _ = generated
    script = (
        f"from reciprocity_utils.engines import measure_follows; print(measure_follows({str(shapes['parquet'])!r}, engine='spark').follows)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.split() == [str(expected["follows"])]
    assert "WARN" not in done.stderr and "log level" not in done.stderr, done.stderr[-500:]


def test_duckdb_draws_no_progress_bar_a_published_page_would_carry():
    """In a notebook kernel DuckDB draws queries over two seconds as a widget (seen on a 1.3M-follow report's page)."""
    from reciprocity_utils.engines.duckdb_engine import DuckDBEngine

    engine = DuckDBEngine("1GB")
    try:
        assert engine.connection.execute("SELECT current_setting('enable_progress_bar')").fetchone()[0] is False
    finally:
        engine.close()

"""Every study notebook executed by papermill, on the sample and on edge cases, with checks on what it records."""

from __future__ import annotations

import pandas as pd
import papermill
import pytest
from conftest import execute_study

from reciprocity_utils import SAMPLE_DIR, StudyDataset, load_dataset
from reciprocity_utils.paths import private_dir
from reciprocity_utils.synthetic import generate_network

pytestmark = pytest.mark.notebook


def run_notebook(name: str, output_dir, **parameters) -> dict:
    return execute_study(name, output_dir, **parameters)[0]


def test_01_on_the_sample_records_what_an_independent_count_finds(tmp_path):
    results = run_notebook("01-load-and-validate.ipynb", tmp_path, input_path=str(SAMPLE_DIR))
    follows = pd.read_csv(SAMPLE_DIR / "follows.csv", dtype=str)
    pairs = set(zip(follows["follower_id"], follows["followee_id"]))
    returned = sum((b, a) in pairs for a, b in pairs)
    interactions = pd.read_csv(SAMPLE_DIR / "interactions.csv", dtype=str)
    headline = results["headline"]
    assert headline["follows"] == len(pairs)
    assert headline["mutual_pairs"] == returned // 2
    assert headline["arc_reciprocity"] == pytest.approx(returned / len(pairs), abs=1e-12)
    assert headline["engagement_events"] == interactions["count"].astype(int).sum()
    assert results["details"]["provenance"]["loader"] == "generic"
    # The saved dataset is what the later studies read, and it matches a direct load.
    saved = StudyDataset.load(private_dir(tmp_path) / "dataset")
    assert saved.counts() == load_dataset(SAMPLE_DIR).counts()


def test_01_with_no_interactions(tmp_path, write_folder):
    folder = write_folder(
        {"follows.csv": "follower_id,followee_id,followed_at\n1,2,2024-01-01T00:00:00Z\n2,1,2024-01-05T00:00:00Z\n3,1,\n"}
    )
    results = run_notebook("01-load-and-validate.ipynb", tmp_path, input_path=str(folder))
    assert results["headline"]["engagement_events"] == 0
    assert results["headline"]["mutual_pairs"] == 1
    assert results["details"]["coverage"]["engagement_observed"] == "none"


def test_01_with_a_single_account_and_no_follows(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n", "accounts.csv": "account_id,handle\n1234567890123456789,solo\n"})
    results = run_notebook("01-load-and-validate.ipynb", tmp_path, input_path=str(folder), owner_id="1234567890123456789")
    assert results["headline"]["accounts"] == 1
    assert results["headline"]["follows"] == 0
    assert results["headline"]["arc_reciprocity"] is None


def test_01_reports_bad_input_with_file_and_line(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id,followed_at\n1,2,soon\n"})
    with pytest.raises(papermill.PapermillExecutionError) as error:
        run_notebook("01-load-and-validate.ipynb", tmp_path, input_path=str(folder))
    assert "line 2" in error.value.evalue and "followed_at" in error.value.evalue


def test_01_on_a_freshly_generated_network(tmp_path):
    results = run_notebook("01-load-and-validate.ipynb", tmp_path, input_path="synthetic", seed=7)
    realised = generate_network(seed=7).truth["realised"]
    assert results["headline"]["follows"] == realised["n_follows"]
    assert results["headline"]["mutual_pairs"] == realised["n_mutual_pairs"]
    assert results["headline"]["rows_repaired"] == 0
    assert results["details"]["provenance"]["loader"] == "synthetic"

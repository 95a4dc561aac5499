"""The generic folder format: CSV or Parquet tables, optional coverage.json, errors with file and line."""

from __future__ import annotations

import pandas as pd
import pytest

from reciprocity_utils import DatasetValidationError, detect_format, load_dataset

FOLLOWS = "follower_id,followee_id,followed_at\n1234567890123456789,2,2024-01-01T10:00:00Z\n2,1234567890123456789,2024-01-03T10:00:00Z\n"
INTERACTIONS = "actor_id,target_id,kind,at,count\n2,1234567890123456789,reply,2024-01-04T09:00:00Z,3\n"


def test_loads_tables_with_exact_ids_and_provenance(write_folder):
    folder = write_folder({"follows.csv": FOLLOWS, "interactions.csv": INTERACTIONS})
    assert detect_format(folder) == "generic"
    dataset = load_dataset(folder)
    assert set(dataset.accounts["account_id"]) == {"1234567890123456789", "2"}
    assert dataset.counts()["mutual_pairs"] == 1
    assert dataset.interactions["count"].tolist() == [3]
    names = [item.name for item in dataset.provenance.inputs]
    assert names == ["follows.csv", "interactions.csv"]
    assert all(len(item.sha256) == 64 for item in dataset.provenance.inputs)
    assert dataset.provenance.loader == "generic"


def test_blank_lines_do_not_shift_the_reported_line(write_folder):
    text = "follower_id,followee_id,followed_at\n1,2,2024-01-01\n\n3,4,not-a-date\n"
    folder = write_folder({"follows.csv": text})
    with pytest.raises(DatasetValidationError) as error:
        load_dataset(folder)
    assert error.value.where == "line 4"
    assert error.value.origin.endswith("follows.csv")


def test_non_utf8_file_is_a_clear_error(write_folder, tmp_path):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n"})
    (folder / "follows.csv").write_bytes("follower_id,followee_id\ncaf\xe9,2\n".encode("latin-1"))
    with pytest.raises(DatasetValidationError, match="UTF-8"):
        load_dataset(folder)


def test_empty_file_is_a_clear_error(write_folder):
    folder = write_folder({"follows.csv": ""})
    with pytest.raises(DatasetValidationError, match="header"):
        load_dataset(folder)


def test_parquet_tables_load_like_csv(tmp_path):
    folder = tmp_path / "pq"
    folder.mkdir()
    pd.DataFrame({"follower_id": ["1234567890123456789"], "followee_id": ["5"]}).to_parquet(folder / "follows.parquet")
    dataset = load_dataset(folder)
    assert dataset.follows["follower_id"].iloc[0] == "1234567890123456789"
    assert dataset.coverage.engagement_observed == "none"


def test_coverage_json_is_read_and_checked(write_folder):
    folder = write_folder(
        {
            "follows.csv": "follower_id,followee_id\nowner,a\n",
            "coverage.json": '{"scope": "ego", "followers_known": false, "engagement_observed": "owner_outgoing"}',
        }
    )
    dataset = load_dataset(folder, owner_id="owner")
    assert dataset.coverage.scope == "ego" and not dataset.coverage.mutuality_observable
    assert dataset.owner_id == "owner"
    (folder / "coverage.json").write_text('{"scope": "ego", "colour": "blue"}')
    with pytest.raises(DatasetValidationError, match="colour"):
        load_dataset(folder)


def test_accounts_file_keeps_extra_attributes(write_folder):
    folder = write_folder(
        {
            "follows.csv": "follower_id,followee_id\n1,2\n",
            "accounts.csv": "account_id,handle,kind,followers_count,region\n1,ann,person,10,north\n2,acme,brand,5000,south\n",
        }
    )
    dataset = load_dataset(folder)
    accounts = dataset.accounts.set_index("account_id")
    assert accounts.loc["2", "kind"] == "brand"
    assert accounts.loc["2", "followers_count"] == 5000
    assert accounts.loc["1", "region"] == "north"


def test_unrecognised_folder_explains_what_was_expected(tmp_path):
    with pytest.raises(ValueError, match="follows.csv"):
        detect_format(tmp_path)
    with pytest.raises(FileNotFoundError):
        detect_format(tmp_path / "missing")

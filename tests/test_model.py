"""The data model: validation errors name file, line, field and expectation; repairs are counted."""

from __future__ import annotations

import pandas as pd
import pytest

from reciprocity_utils import Coverage, DatasetValidationError, RawTable, StudyDataset, build_dataset

BIG_ID = "1234567890123456789"  # 19 digits: above 2**53, a float would change it


def raw(frame: dict, origin: str = "follows.csv") -> RawTable:
    return RawTable(pd.DataFrame(frame, dtype=object), origin, first_line=2)


def follows(*pairs, times=None) -> RawTable:
    frame = {"follower_id": [a for a, _ in pairs], "followee_id": [b for _, b in pairs]}
    if times is not None:
        frame["followed_at"] = times
    return raw(frame)


def test_missing_required_column_names_file_and_column():
    with pytest.raises(DatasetValidationError) as error:
        build_dataset(raw({"follower_id": ["1"], "target": ["2"]}))
    message = str(error.value)
    assert "follows.csv" in message and "followee_id" in message and "header" in message


def test_unknown_column_in_follows_is_refused_with_the_allowed_ones():
    with pytest.raises(DatasetValidationError, match="only the columns follower_id, followee_id"):
        build_dataset(raw({"follower_id": ["1"], "followee_id": ["2"], "weight": ["3"]}))


def test_unparseable_timestamp_names_line_field_and_value():
    with pytest.raises(DatasetValidationError) as error:
        build_dataset(follows(("1", "2"), ("2", "3"), times=["2024-01-01T00:00:00Z", "last tuesday"]))
    assert error.value.where == "line 3"
    assert error.value.field == "followed_at"
    assert "last tuesday" in str(error.value) and "ISO-8601" in str(error.value)


def test_empty_id_is_an_error_with_its_line():
    with pytest.raises(DatasetValidationError) as error:
        build_dataset(follows(("1", "2"), ("3", ""), ("4", "")))
    assert error.value.where == "line 3" and error.value.field == "followee_id"
    assert "1 more rows" in str(error.value)


@pytest.mark.parametrize("written", ["1.2345678901234568e+18", "1234567890123456800.0"])
def test_id_written_as_float_is_refused(written):
    with pytest.raises(DatasetValidationError, match="float"):
        build_dataset(follows((written, "2")))


def test_float_column_of_ids_is_refused():
    frame = pd.DataFrame({"follower_id": [1.0], "followee_id": [2.0]})
    with pytest.raises(DatasetValidationError, match="2\\^53"):
        build_dataset(RawTable(frame, "follows.parquet"))


def test_nineteen_digit_ids_survive_exactly_through_save_and_load(tmp_path):
    dataset = build_dataset(follows((BIG_ID, "9007199254740993"), ("9007199254740993", BIG_ID)))
    assert set(dataset.accounts["account_id"]) == {BIG_ID, "9007199254740993"}
    dataset.save(tmp_path / "saved")
    again = StudyDataset.load(tmp_path / "saved")
    assert again.follows["follower_id"].tolist() == [BIG_ID, "9007199254740993"]
    assert again.counts()["mutual_pairs"] == 1


def test_integer_ids_from_parquet_become_exact_text():
    frame = pd.DataFrame({"follower_id": pd.array([int(BIG_ID)], dtype="int64"), "followee_id": pd.array([7], dtype="int64")})
    dataset = build_dataset(RawTable(frame, "follows.parquet"))
    assert dataset.follows["follower_id"].iloc[0] == BIG_ID


def test_wrong_kind_and_bad_count_are_errors():
    with pytest.raises(DatasetValidationError, match="one of reply, mention, repost, quote, like"):
        build_dataset(follows(("1", "2")), raw({"actor_id": ["1"], "target_id": ["2"], "kind": ["poke"]}, "interactions.csv"))
    with pytest.raises(DatasetValidationError) as error:
        build_dataset(
            follows(("1", "2")), raw({"actor_id": ["1"], "target_id": ["2"], "kind": ["like"], "count": ["-1"]}, "interactions.csv")
        )
    assert error.value.field == "count" and error.value.origin == "interactions.csv"


def test_kind_synonyms_and_default_count():
    dataset = build_dataset(
        follows(("1", "2")), raw({"actor_id": ["1", "2"], "target_id": ["2", "1"], "kind": ["Retweet", "favourite"]}, "i.csv")
    )
    assert dataset.interactions["kind"].tolist() == ["repost", "like"]
    assert dataset.interactions["count"].tolist() == [1, 1]


def test_repairs_are_counted_not_silent():
    dataset = build_dataset(
        follows(("1", "2"), ("1", "2"), ("3", "3"), ("2", "1"), ("1", "4"), times=["2024-02-01", "2024-01-01", "2024-01-05", "", ""]),
        raw({"actor_id": ["1", "1", "5"], "target_id": ["1", "2", "2"], "kind": ["reply", "like", "mention"]}, "interactions.csv"),
        raw({"account_id": ["1", "2", "2"], "handle": ["one", "two", "dup"]}, "accounts.csv"),
    )
    repairs = dataset.validation.repairs
    assert repairs["follow_self_loops_removed"] == 1
    assert repairs["duplicate_follows_removed"] == 1
    assert repairs["interaction_self_loops_removed"] == 1
    assert repairs["duplicate_accounts_removed"] == 1
    assert repairs["accounts_added_from_follows"] == 1  # account 4; account 3 was only in a removed self-loop
    assert repairs["accounts_added_from_interactions"] == 1  # account 5
    # The earliest record of the repeated follow is the one kept.
    kept = dataset.follows.query("follower_id == '1' and followee_id == '2'")["followed_at"]
    assert kept.tolist() == [pd.Timestamp("2024-01-01", tz="UTC")]
    assert dataset.validation.rows_read == {"follows": 5, "interactions": 3, "accounts": 3}
    assert dataset.validation.rows_kept == {"follows": 3, "interactions": 2, "accounts": 4}
    assert "self" in dataset.validation.summary()


def test_remove_policy_counts_edges_outside_the_group():
    dataset = build_dataset(
        follows(("1", "2"), ("1", "9")),
        raw({"actor_id": ["9"], "target_id": ["1"], "kind": ["mention"]}, "interactions.csv"),
        raw({"account_id": ["1", "2"]}, "accounts.csv"),
        unknown_accounts="remove",
    )
    assert dataset.validation.repairs["follows_unknown_removed"] == 1
    assert dataset.validation.repairs["interactions_unknown_removed"] == 1
    assert len(dataset.accounts) == 2 and len(dataset.interactions) == 0


def test_empty_tables_are_valid_and_counts_say_undefined():
    dataset = build_dataset(raw({"follower_id": [], "followee_id": []}))
    counts = dataset.counts()
    assert counts["accounts"] == 0 and counts["follows"] == 0 and counts["arc_reciprocity"] is None
    assert dataset.coverage.engagement_observed == "none"


def test_owner_must_exist_and_be_unique():
    with pytest.raises(DatasetValidationError, match="owner_id"):
        build_dataset(follows(("1", "2")), owner_id="77")
    dataset = build_dataset(follows(("1", "2")), owner_id="2")
    assert dataset.owner_id == "2"
    with pytest.raises(DatasetValidationError, match="at most one owner"):
        build_dataset(follows(("1", "2")), accounts=raw({"account_id": ["1", "2"], "is_owner": ["true", "yes"]}, "accounts.csv"))


def test_coverage_without_followers_hides_mutuality():
    coverage = Coverage(scope="ego", followers_known=False, engagement_observed="owner_outgoing")
    dataset = build_dataset(follows(("1", "2"), ("2", "1")), coverage=coverage, owner_id="1")
    counts = dataset.counts()
    assert counts["mutual_pairs"] is None and counts["arc_reciprocity"] is None
    text = " ".join(dataset.coverage.describe())
    assert "NOT known" in text and "cannot be counted" in text and "only from the owner" in text


def test_coverage_rejects_unknown_values():
    with pytest.raises(ValueError, match="scope"):
        Coverage(scope="galaxy")


def test_time_span_and_follow_times_come_from_the_data():
    dataset = build_dataset(follows(("1", "2"), ("2", "1"), times=["2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z"]))
    assert dataset.coverage.follow_times
    assert dataset.coverage.time_start.startswith("2024-01-01") and dataset.coverage.time_end.startswith("2024-03-01")
    assert any("no UTC offset" in note for note in dataset.validation.notes) is False


def test_validation_report_frame_lists_every_repair():
    dataset = build_dataset(follows(("1", "2")))
    frame = dataset.validation.to_frame()
    assert {"check", "count", "meaning"} <= set(frame.columns)
    assert (frame["check"] == "duplicate follows removed").sum() == 1

"""X/Twitter archives (2021 and 2022+ layouts, zip or folder), classic archives, snapshots, bad input.

Real archives are read in place from ../shared/data (skipped when absent) and checked against
the figures in its README and against counts made here with plain ``json``; the committed
fixtures (tests/fixtures/io, written by make_fixtures.py) cover the rules one by one.
"""

from __future__ import annotations

import json
import re
import shutil
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from conftest import needs_shared_data

from reciprocity_utils import DatasetValidationError, detect_format, load_dataset
from reciprocity_utils.io import load_paths

FIXTURES = Path(__file__).parent / "fixtures" / "io"
BAD = FIXTURES / "bad"
OWNER = "1234567890123456789"
BIG = "9007199254740993"


def _ytd_records(path: Path) -> list[dict]:
    """Records of a YTD file, read the plain way: cut at the first '=' and parse."""
    text = path.read_text(encoding="utf-8")
    return [next(iter(r.values())) for r in json.loads(text[text.index("=") + 1 :])]


def _zip(folder: Path, target: Path, top: str = "") -> Path:
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, top + path.relative_to(folder).as_posix())
    return target


# --- real archives ---------------------------------------------------------------------------


@pytest.mark.shared_data
def test_2021_archive_matches_published_follow_figures():
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    assert detect_format(folder) == "x_archive"
    dataset = load_dataset(folder)
    owner = dataset.owner_id
    assert owner == "3128746474"
    assert dataset.accounts.set_index("account_id").loc[owner, "handle"] == "larsbrinkhoff"
    assert int((dataset.follows["followee_id"] == owner).sum()) == 405
    assert int((dataset.follows["follower_id"] == owner).sum()) == 59
    assert dataset.counts()["mutual_pairs"] == 25
    coverage = dataset.coverage
    assert (coverage.scope, coverage.engagement_observed) == ("ego", "owner_outgoing")
    assert coverage.mutuality_observable
    assert any("4 unresolved" in note for note in coverage.notes)
    assert any(note.startswith("Handles resolved") for note in coverage.notes)


@pytest.mark.shared_data
def test_the_inner_data_folder_of_an_archive_names_the_folder_to_pass():
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    with pytest.raises(ValueError, match="data folder inside an X archive; pass the archive's own folder") as raised:
        detect_format(folder / "data")
    assert "larsbrinkhoff_2021-03-22" in str(raised.value)


@pytest.mark.shared_data
def test_2021_archive_engagement_matches_plain_json_counts():
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    owner = "3128746474"
    tweets = _ytd_records(folder / "data" / "tweet.js")
    retweets = [t for t in tweets if t["full_text"].startswith("RT @")]
    replies = [t for t in tweets if t.get("in_reply_to_user_id_str") not in (None, owner) and t not in retweets]
    mentions = sum(
        len({m["id_str"] for m in t["entities"]["user_mentions"]} - {t.get("in_reply_to_user_id_str"), owner})
        for t in tweets
        if t not in retweets
    )
    counts = load_dataset(folder).counts()
    assert counts["events_reply"] == len(replies)
    assert counts["events_repost"] == len(retweets)
    assert counts["events_mention"] == mentions
    # Every reply and mention target keeps all its digits (ids above 2^53 included).
    dataset = load_dataset(folder)
    assert dataset.interactions["target_id"].str.fullmatch(r"\d+").all()
    big = {m["id_str"] for t in tweets for m in t["entities"]["user_mentions"] if int(m["id_str"]) > 2**53}
    assert big and big <= set(dataset.accounts["account_id"])


@pytest.mark.shared_data
def test_2021_archive_loads_the_same_from_a_zip(tmp_path):
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    archive = _zip(folder, tmp_path / "twitter-2021.zip", top="twitter-2021-03-22/")
    assert detect_format(archive) == "x_archive"
    from_zip, from_folder = load_dataset(archive), load_dataset(folder)
    assert from_zip.counts() == from_folder.counts()
    assert [i.name for i in from_zip.provenance.inputs] == ["twitter-2021.zip"]
    assert "twitter-2021-03-22/data/follower.js" in from_zip.provenance.parameters["members_read"]


@pytest.mark.shared_data
def test_2023_archive_without_tweets_loads_follows_and_says_tweets_are_absent():
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2023-08-20")
    dataset = load_dataset(folder)
    owner = dataset.owner_id
    followers = _ytd_records(folder / "data" / "follower.js")
    assert len(followers) == 764
    assert int((dataset.follows["followee_id"] == owner).sum()) == 764
    assert int((dataset.follows["follower_id"] == owner).sum()) == 79
    assert dataset.counts()["mutual_pairs"] == 36
    assert dataset.counts()["interaction_rows"] == 0
    assert any("Tweets are absent" in note and "3,456" in note for note in dataset.coverage.notes)
    assert any("12 unresolved" in note for note in dataset.coverage.notes)
    assert str(dataset.accounts.set_index("account_id").loc[owner, "created_at"]).startswith("2015-03-30")


@pytest.mark.shared_data
def test_two_real_archives_are_snapshots_with_follow_events():
    early = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    late = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2023-08-20")
    dataset, detected = load_paths([late, early])
    assert detected.startswith("2 snapshots")
    owner = dataset.owner_id
    before = {r["accountId"] for r in _ytd_records(early / "data" / "follower.js")}
    after = {r["accountId"] for r in _ytd_records(late / "data" / "follower.js")}
    events = dataset.follow_events
    incoming = events[events["followee_id"] == owner]
    assert set(incoming.loc[incoming["event"] == "follow", "follower_id"]) == after - before
    assert set(incoming.loc[incoming["event"] == "unfollow", "follower_id"]) == before - after
    assert (events["observed_after"] < events["observed_before"]).all()
    assert dataset.counts()["follows"] == 843  # the latest snapshot's follows
    assert dataset.counts()["events_reply"] == load_dataset(early).counts()["events_reply"]


@pytest.mark.shared_data
def test_classic_archive_reads_tweets_and_says_there_are_no_follows():
    folder = needs_shared_data("exports", "twitter_classic_2015")
    assert detect_format(folder) == "x_classic"
    dataset = load_dataset(folder)
    assert dataset.owner_id == "3052317647"
    assert not dataset.coverage.followers_known and not dataset.coverage.following_known
    assert dataset.counts()["follows"] == 0
    rows = pd.read_csv(folder / "tweets.csv", dtype=str, keep_default_na=False)
    assert any(f"holds {len(rows):,} tweets" in note for note in dataset.coverage.notes)
    assert any("2 of the 10 monthly files" in note for note in dataset.coverage.notes)


# --- fixtures: the rules one by one ----------------------------------------------------------


def test_split_tweets_and_every_engagement_rule():
    dataset = load_dataset(FIXTURES / "x_archive_2022")
    inter = dataset.interactions
    by_kind = {kind: sorted(rows["target_id"]) for kind, rows in inter.groupby("kind")}
    assert by_kind == {
        "reply": ["111"],  # the reply to alice (her tag is part of the reply)
        "mention": ["222", BIG],  # bob in the reply; big in the second part file
        "repost": ["444"],  # RT @carol; dave's tag belongs to carol's tweet
        "quote": ["222"],  # the link to bob's status
        "like": ["111", "222"],  # liked tweets the owner replied to / linked
    }
    assert dataset.validation.repairs["interaction_self_loops_removed"] == 1  # the thread reply
    assert inter["at"].notna().sum() == 5 and inter.loc[inter["kind"] == "like", "at"].isna().all()


def test_fixture_archive_owner_handles_labels_and_big_ids():
    dataset = load_dataset(FIXTURES / "x_archive_2022")
    accounts = dataset.accounts.set_index("account_id")
    assert dataset.owner_id == OWNER and accounts.loc[OWNER, "handle"] == "owner_x"
    assert accounts.loc[OWNER, "labels"] == "list:someone/cool-people"
    assert accounts.loc["333", "labels"] == "muted"
    assert accounts.loc[BIG, "handle"] == "big"
    assert dataset.counts()["mutual_pairs"] == 1  # BIG follows and is followed: exact digits meet
    notes = " ".join(dataset.coverage.notes)
    assert "block.js is listed" in notes and "1 unresolved" in notes


def test_fixture_archive_in_a_zip_with_a_top_folder(tmp_path):
    archive = _zip(FIXTURES / "x_archive_2022", tmp_path / "export.zip", top="twitter-export/")
    assert load_dataset(archive).counts() == load_dataset(FIXTURES / "x_archive_2022").counts()


def test_fixture_snapshots_give_follow_and_unfollow_events_with_bounds():
    dataset, _ = load_paths([FIXTURES / "x_archive_2024", FIXTURES / "x_archive_2022"])
    events = dataset.follow_events.set_index(["follower_id", "followee_id"])["event"].to_dict()
    assert events == {("666", OWNER): "follow", ("111", OWNER): "unfollow", (OWNER, "777"): "follow", (OWNER, "333"): "unfollow"}
    bounds = dataset.follow_events[["observed_after", "observed_before"]].drop_duplicates()
    assert bounds.astype(str).values.tolist() == [["2022-02-01 00:00:00+00:00", "2024-02-01 00:00:00+00:00"]]


def test_follow_events_survive_save_and_load(tmp_path):
    dataset, _ = load_paths([FIXTURES / "x_archive_2024", FIXTURES / "x_archive_2022"])
    again = load_dataset(dataset.save(tmp_path / "saved"), format="dataset")
    pd.testing.assert_frame_equal(again.follow_events, dataset.follow_events)


def test_owner_given_must_match_the_archive():
    with pytest.raises(DatasetValidationError, match="the owner given"):
        load_dataset(FIXTURES / "x_archive_2022", owner_id="42")


def test_classic_fixture_uses_id_str_and_csv_fields():
    dataset = load_dataset(FIXTURES / "classic_archive")
    rows = dataset.interactions.set_index("kind")["target_id"].to_dict()
    assert rows == {"reply": "42", "repost": "43", "mention": BIG}
    assert any("2 mentions name a handle" in note for note in dataset.coverage.notes)


# --- bad input: one clear error each ---------------------------------------------------------


def _archive_with(tmp_path: Path, name: str, replacement: Path) -> Path:
    folder = tmp_path / "archive"
    shutil.copytree(FIXTURES / "x_archive_2022", folder)
    shutil.copy(replacement, folder / "data" / name)
    return folder


def test_js_file_without_the_prefix_names_file_and_expected_prefix(tmp_path):
    folder = _archive_with(tmp_path, "follower.js", BAD / "follower_no_prefix.js")
    with pytest.raises(DatasetValidationError, match=r"window\.YTD\.follower\.part0 = ") as error:
        load_dataset(folder)
    assert error.value.origin.endswith("follower.js") and error.value.where == "line 1"


def test_invalid_json_names_the_line(tmp_path):
    folder = _archive_with(tmp_path, "follower.js", BAD / "follower_invalid_json.js")
    with pytest.raises(DatasetValidationError, match="valid JSON") as error:
        load_dataset(folder)
    assert error.value.where.startswith("line 3")


def test_non_utf8_text_names_line_and_byte(tmp_path):
    folder = _archive_with(tmp_path, "follower.js", BAD / "follower_latin1.js")
    with pytest.raises(DatasetValidationError, match="UTF-8") as error:
        load_dataset(folder)
    assert re.match(r"line 1, byte \d+", error.value.where)


def test_missing_manifest_part_is_an_error():
    with pytest.raises(DatasetValidationError, match="every part the manifest lists") as error:
        load_dataset(BAD / "x_archive_missing_part")
    assert error.value.origin.endswith("tweets-part1.js")


def test_truncated_zip_is_one_clear_error():
    with pytest.raises(DatasetValidationError, match="truncated"):
        load_dataset(BAD / "x_archive_truncated.zip")


def test_member_escaping_the_archive_is_refused():
    with pytest.raises(DatasetValidationError, match=r"no '\.\.'"):
        load_dataset(BAD / "x_archive_traversal.zip")


def test_zip_bomb_stops_at_the_size_cap():
    with pytest.raises(DatasetValidationError, match="zip bomb"):
        load_dataset(BAD / "x_archive_bomb.zip", max_archive_bytes=1_000_000)


def test_corrupt_zip_member_names_the_member():
    with pytest.raises(DatasetValidationError, match="Bad CRC-32") as error:
        load_dataset(BAD / "x_archive_corrupt.zip")
    assert error.value.origin.endswith("x_archive_corrupt.zip!data/follower.js")

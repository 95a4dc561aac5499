"""Instagram, Mastodon and Bluesky exports: real samples from ../shared/data and committed fixtures."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import libipld
import pytest
from conftest import needs_shared_data

from reciprocity_utils import DatasetValidationError, detect_format, load_dataset
from reciprocity_utils.io import PartialRepositoryWarning, load_paths

FIXTURES = Path(__file__).parent / "fixtures" / "io"
BAD = FIXTURES / "bad"
OWNER_DID = "did:plc:ownerownerownerowner"
ANN, BOB, CAT = "did:plc:annannannannannann", "did:plc:bobbobbobbobbobbob", "did:plc:catcatcatcatcatcat"


# --- Instagram -------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_instagram_export_matches_published_figures_with_follow_times():
    folder = needs_shared_data("exports", "instagram", "cek_followers_2025")
    assert detect_format(folder) == "instagram"
    dataset = load_dataset(folder)
    owner = dataset.owner_id
    assert int((dataset.follows["followee_id"] == owner).sum()) == 229
    assert int((dataset.follows["follower_id"] == owner).sum()) == 230
    assert dataset.counts()["mutual_pairs"] == 229
    assert dataset.coverage.follow_times and dataset.follows["followed_at"].notna().all()
    # Independent check of one follow time: the first follower entry, read with plain json.
    first = json.loads((folder / "followers_and_following" / "followers_1.json").read_text())[0]["string_list_data"][0]
    row = dataset.follows[(dataset.follows["follower_id"] == first["value"]) & (dataset.follows["followee_id"] == owner)]
    assert row["followed_at"].iloc[0].timestamp() == int(first["timestamp"])
    close = json.loads((folder / "followers_and_following" / "close_friends.json").read_text())["relationships_close_friends"]
    labelled = dataset.accounts.loc[dataset.accounts["labels"].fillna("").str.contains("close_friend"), "account_id"]
    assert set(labelled) == {e["string_list_data"][0]["value"] for e in close}


def test_instagram_newer_layout_split_followers_and_handles_outside_value():
    dataset = load_dataset(FIXTURES / "instagram_2024")
    assert dataset.owner_id == "me_insta"
    followers = set(dataset.follows.loc[dataset.follows["followee_id"] == "me_insta", "follower_id"])
    following = set(dataset.follows.loc[dataset.follows["follower_id"] == "me_insta", "followee_id"])
    assert followers == {"ann", "bob", "cat"}  # followers_1.json + followers_2.json
    assert following == {"ann", "dan", "eve"}  # value / title / href only
    assert "zed" not in set(dataset.accounts["account_id"])  # named only in recently_unfollowed_profiles.json
    assert any("unfollowed_recently" in note and "not added" in note for note in dataset.coverage.notes)


# --- Mastodon --------------------------------------------------------------------------------


@pytest.mark.shared_data
def test_mastodon_archive_engagement_and_honest_coverage():
    folder = needs_shared_data("exports", "mastodon", "dealingwith_archive_2024-07-23")
    assert detect_format(folder) == "mastodon"
    dataset = load_dataset(folder)
    assert dataset.owner_id == "dealingwith@indieweb.social"
    coverage = dataset.coverage
    assert not coverage.mutuality_observable and not coverage.following_known
    assert coverage.engagement_observed == "owner_outgoing"
    assert dataset.counts()["mutual_pairs"] is None
    items = json.loads((folder / "outbox.json").read_text())["orderedItems"]
    boosts = [i for i in items if i["type"] == "Announce"]
    assert any(f"{len(boosts):,} boosts" in note for note in coverage.notes)
    assert any("totalItems says 1,557" in note and "1,586" in note for note in coverage.notes)
    likes = json.loads((folder / "likes.json").read_text())["orderedItems"]
    resolved = [u for u in likes if "/users/" in u and "/statuses/" in u or "/@" in u]
    assert dataset.counts()["events_like"] == len(resolved)


@pytest.mark.shared_data
def test_mastodon_csv_exports_with_and_without_a_followers_list():
    folder = needs_shared_data("exports", "mastodon", "mastodon_spec_fixtures")
    alone = load_dataset(folder / "following_accounts.csv")
    assert sorted(alone.follows["followee_id"]) == ["user@example.com", "user@test.com"]
    assert not alone.coverage.followers_known
    dataset, detected = load_paths([folder / "following_accounts.csv", folder / "utf8-followers.txt", folder / "lists.csv"])
    assert detected.startswith("mastodon")
    assert dataset.coverage.mutuality_observable
    followers = dataset.follows.loc[dataset.follows["followee_id"] == dataset.owner_id, "follower_id"].tolist()
    assert followers == ["nare@թութ.հայ"]  # leading @ dropped, non-ASCII domain kept exactly


def test_mastodon_fixture_rules_and_idn_domains():
    dataset = load_dataset(FIXTURES / "mastodon_archive", followers=FIXTURES / "mastodon_followers.csv")
    assert dataset.owner_id == "me@example.social"
    inter = dataset.interactions.set_index("kind")["target_id"].to_dict()
    assert inter == {
        "reply": "ann@other.example",
        "mention": "bob@example.social",
        "repost": "carl@bücher.example",
        "like": "ann@other.example",
    }
    following = set(dataset.follows.loc[dataset.follows["follower_id"] == dataset.owner_id, "followee_id"])
    assert following == {"ann@other.example", "carl@bücher.example"}  # xn--bcher-kva and Bücher meet
    assert dataset.counts()["mutual_pairs"] == 1
    labels = dataset.accounts.set_index("account_id")["labels"]
    assert labels["ann@other.example"] == "list:Friends"


def test_mastodon_tar_gz_equals_folder_and_truncated_tar_is_clear():
    assert load_dataset(FIXTURES / "mastodon_archive.tar.gz").counts() == load_dataset(FIXTURES / "mastodon_archive").counts()
    with pytest.raises(DatasetValidationError, match="truncated"):
        load_dataset(BAD / "mastodon_truncated.tar.gz")


def test_following_csv_with_unknown_columns_names_what_was_expected(tmp_path):
    with pytest.raises(DatasetValidationError, match="Account address,Show boosts") as error:
        load_dataset(BAD / "following_unknown_columns.csv", format="mastodon")
    assert error.value.where == "line 1"


# --- Bluesky ---------------------------------------------------------------------------------


def _reachable_follow_subjects(path: Path) -> set[str]:
    """Walk the tree with libipld alone (no package code): subjects of reachable follow records."""
    header, blocks = libipld.decode_car(path.read_bytes())
    pending, subjects = [blocks[header["roots"][0]]["data"]], set()
    while pending:
        node = blocks[pending.pop()]
        pending += [node["l"]] if node.get("l") else []
        key = b""
        for entry in node["e"]:
            key = key[: entry["p"]] + entry["k"]
            pending += [entry["t"]] if entry.get("t") else []
            if key.startswith(b"app.bsky.graph.follow/"):
                subject = blocks[entry["v"]]["subject"]
                subjects.add(subject if isinstance(subject, str) else subject["did"])
    return subjects


@pytest.mark.shared_data
def test_paul_staging_counts_only_reachable_follows():
    path = needs_shared_data("exports", "bluesky", "indigo_testdata", "paul_staging.repo.car")
    assert detect_format(path) == "bluesky"
    dataset = load_dataset(path)
    _, blocks = libipld.decode_car(path.read_bytes())
    in_file = [b for b in blocks.values() if isinstance(b, dict) and b.get("$type") == "app.bsky.graph.follow"]
    assert len(in_file) == 17
    assert dataset.counts()["follows"] == 8
    assert set(dataset.follows["followee_id"]) == _reachable_follow_subjects(path)
    assert any("not reachable from the commit root" in note for note in dataset.coverage.notes)
    assert not dataset.coverage.followers_known


@pytest.mark.shared_data
def test_fakermaker_posts_likes_reposts_and_offsets():
    path = needs_shared_data("exports", "bluesky", "indigo_testdata", "fakermaker.repo.car")
    counts = load_dataset(path).counts()
    assert (counts["follows"], counts["events_reply"], counts["events_like"], counts["events_repost"]) == (78, 23, 22, 15)
    dataset = load_dataset(path)
    assert str(dataset.follows["followed_at"].min()).startswith("2023-04-26 07:")  # -07:00 read as UTC


@pytest.mark.shared_data
def test_real_partial_repository_warns_naming_missing_blocks():
    path = needs_shared_data("exports", "bluesky", "indigo_testdata", "repo_slice.car")
    with pytest.warns(PartialRepositoryWarning, match=r"absent: bafyrei"):
        dataset = load_dataset(path)
    assert any("partial repository" in note for note in dataset.coverage.notes)


def test_bluesky_fixture_every_record_kind():
    dataset = load_dataset(FIXTURES / "bluesky_v3.car")
    assert dataset.owner_id == OWNER_DID
    assert set(dataset.follows["followee_id"]) == {ANN, BOB}  # the stale follow of cat does not count
    inter = dataset.interactions.set_index("kind")["target_id"].to_dict()
    assert inter == {"reply": BOB, "quote": CAT, "mention": ANN, "like": CAT, "repost": ANN}
    accounts = dataset.accounts.set_index("account_id")
    assert accounts.loc[ANN, "handle"] == "ann.test" and accounts.loc[ANN, "labels"] == "list:Close"
    assert any("com.example.thing (1)" in note for note in dataset.coverage.notes)


def test_bluesky_legacy_commit_and_legacy_follow_subjects():
    dataset = load_dataset(FIXTURES / "bluesky_v1_legacy.car")
    assert dataset.owner_id == OWNER_DID
    assert set(dataset.follows["followee_id"]) == {ANN, BOB}


def test_bluesky_partial_fixture_warns_and_keeps_what_is_present():
    with pytest.warns(PartialRepositoryWarning, match="2 blocks"):
        dataset = load_dataset(FIXTURES / "bluesky_partial.car")
    assert set(dataset.follows["followee_id"]) == {ANN}
    assert dataset.counts()["events_like"] == 0


def test_bluesky_followers_list_makes_mutuality_observable():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dataset = load_dataset(FIXTURES / "bluesky_v3.car", followers=FIXTURES / "bluesky_followers.txt")
    assert dataset.coverage.mutuality_observable
    assert dataset.counts()["mutual_pairs"] == 1  # ann follows back; cat follows without being followed


def test_truncated_car_is_one_clear_error():
    with pytest.raises(DatasetValidationError, match="truncated") as error:
        load_dataset(BAD / "bluesky_truncated.car")
    assert error.value.origin.endswith("bluesky_truncated.car")

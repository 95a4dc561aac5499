"""Collecting from the Bluesky and Mastodon APIs, against a server these tests start on 127.0.0.1.

The served world has known truth (tests/fake_social_api.py): each test compares what a
collection loads with that truth, and the fault cases (429, 500, truncated or dropped pages,
accounts deleted, an interrupted run resumed) with a clean collection of the same world.
"""

from __future__ import annotations

import json
import statistics
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest
from fake_social_api import FakeSocialAPI, make_world

from reciprocity_utils.collect import Bounds, CollectionError, collect
from reciprocity_utils.io import detect_format, load_dataset

WORLD = make_world()
OWNER = 0


def servers(api: FakeSocialAPI, platform: str) -> dict:
    if platform == "bluesky":
        return {"appview": api.url, "plc": api.url + "/plc"}
    return {"base_url": api.url}


TARGET = {"bluesky": "user0.test", "mastodon": "@user0@x.test"}


def run_collection(tmp_path: Path, platform: str, depth: int = 0, world=WORLD, faults: dict | None = None, name: str = "c", **options):
    waits: list[float] = []
    with FakeSocialAPI(world) as api:
        api.faults = {k: list(v) for k, v in (faults or {}).items()}
        manifest = collect(
            platform,
            TARGET[platform],
            tmp_path / name,
            depth=depth,
            progress=False,
            sleep=waits.append,
            **servers(api, platform),
            **options,
        )
        requests = list(api.requests)
    return manifest, load_dataset(tmp_path / name), requests, waits


def ids(world, platform: str) -> dict[str, int]:
    return {(a.did if platform == "bluesky" else a.masto_id): a.key for a in world.accounts}


def as_keys(frame: pd.DataFrame, columns: list[str], world, platform: str) -> pd.DataFrame:
    mapping = ids(world, platform)
    return frame.assign(**{c: frame[c].astype(str).map(mapping) for c in columns})


def truth_engagement(world, since: datetime, mode: str, kinds: tuple[str, ...]) -> pd.Series:
    """Events by kind that a collection should see: see the collectors' module descriptions."""
    rows = []
    owner_post_in_window = {p.key for p in world.posts if p.author == OWNER and p.at >= since}
    for kind, acts in (("like", world.likes), ("repost", world.reposts)):
        for actor, key, at in acts:
            author = world.post(key).author
            rows.append((actor, author, kind, at, key in owner_post_in_window))
    for post in world.posts:
        for kind, parent in (("reply", post.reply_to), ("quote", post.quote_of)):
            if parent is not None:
                rows.append((post.author, world.post(parent).author, kind, post.at, parent in owner_post_in_window))
        for mentioned in post.mentions:
            rows.append((post.author, mentioned, "mention", post.at, False))
    table = pd.DataFrame(rows, columns=["actor", "target", "kind", "at", "on_owner_post_in_window"])
    table = table[(table["actor"] != table["target"]) & table["kind"].isin(kinds)]
    if mode == "ego":
        outgoing = (table["actor"] == OWNER) & (table["at"] >= since)
        incoming = (table["target"] == OWNER) & table["on_owner_post_in_window"]
        table = table[outgoing | incoming]
    else:
        table = table[table["at"] >= since]
    return table.groupby("kind").size().sort_index()


# ---------------------------------------------------------------------------------------------
# Bluesky


def test_bluesky_ego_collection_holds_both_follow_directions_times_and_engagement_both_ways(tmp_path):
    manifest, dataset, requests, _ = run_collection(tmp_path, "bluesky")
    assert detect_format(tmp_path / "c") == "collected"
    assert manifest["complete"] and manifest["owner"] == WORLD.accounts[0].did
    assert all(r.startswith(("/xrpc/", "/pds/xrpc/", "/plc/")) for r in requests)
    coverage = dataset.coverage
    assert coverage.scope == "ego" and coverage.mutuality_observable and coverage.engagement_observed == "everyone"
    follows = as_keys(dataset.follows, ["follower_id", "followee_id"], WORLD, "bluesky")
    truth = {(a, b): t for a, b, t in WORLD.follows if OWNER in (a, b)}
    assert set(zip(follows["follower_id"], follows["followee_id"])) == set(truth)
    # The owner's follows are dated from the owner's records, each mutual's follow of the owner from theirs.
    dated = follows.dropna(subset=["followed_at"])
    for a, b, at in zip(dated["follower_id"], dated["followee_id"], dated["followed_at"]):
        assert at == pd.Timestamp(truth[(a, b)]).floor("ms")
    mutuals = {b for a, b in truth if a == OWNER and (b, OWNER) in truth}
    assert set(dated.loc[dated["followee_id"] == OWNER, "follower_id"]) == mutuals
    assert set(dated.loc[dated["follower_id"] == OWNER, "followee_id"]) == {b for a, b in truth if a == OWNER}
    since = datetime.fromisoformat(manifest["since"])
    expected = truth_engagement(WORLD, since, "ego", ("like", "repost", "reply", "quote"))
    got = dataset.interactions.groupby("kind")["count"].sum().sort_index()
    assert got.to_dict() == expected.to_dict()
    assert any("mentions" in note for note in coverage.notes) or "mention" not in got


def test_bluesky_network_collection_holds_follows_and_engagement_among_contacts(tmp_path):
    manifest, dataset, _, _ = run_collection(tmp_path, "bluesky", depth=1)
    assert dataset.coverage.scope == "network" and dataset.coverage.follow_times
    follows = as_keys(dataset.follows, ["follower_id", "followee_id"], WORLD, "bluesky")
    assert len(follows) == len(WORLD.follows) and follows["followed_at"].notna().all()
    since = datetime.fromisoformat(manifest["since"])
    expected = truth_engagement(WORLD, since, "network", ("like", "repost", "reply", "quote", "mention"))
    assert dataset.interactions.groupby("kind")["count"].sum().sort_index().to_dict() == expected.to_dict()


def test_a_bound_on_contacts_is_counted_and_said(tmp_path):
    manifest, dataset, _, _ = run_collection(tmp_path, "bluesky", depth=1, bounds=Bounds(max_accounts=5))
    assert len(manifest["members"]) == 6 and sum(manifest["cut_lists"].values()) == 1
    assert dataset.accounts["account_id"].nunique() == 6
    assert any("beyond the collection's bound" in n for n in dataset.coverage.notes)
    assert any("Bounded by the collection's limits" in n for n in dataset.coverage.notes)


# ---------------------------------------------------------------------------------------------
# Mastodon


def test_mastodon_ego_collection_keeps_19_digit_ids_and_says_what_a_token_adds(tmp_path):
    manifest, without, _, _ = run_collection(tmp_path, "mastodon", name="public")
    owner_id = WORLD.accounts[0].masto_id
    assert len(owner_id) == 19 and manifest["owner"] == owner_id and owner_id in set(without.accounts["account_id"])
    assert set(without.accounts["account_id"]) <= set(ids(WORLD, "mastodon"))
    assert not without.coverage.follow_times
    assert "like" not in set(without.interactions["kind"])
    assert any("Left out so both directions are measured alike" in n and "likes" in n for n in without.coverage.notes)
    follows = as_keys(without.follows, ["follower_id", "followee_id"], WORLD, "mastodon")
    assert set(zip(follows["follower_id"], follows["followee_id"])) == {(a, b) for a, b, _ in WORLD.follows if OWNER in (a, b)}
    since = datetime.fromisoformat(manifest["since"])
    expected = truth_engagement(WORLD, since, "ego", ("repost", "reply"))
    assert without.interactions.groupby("kind")["count"].sum().sort_index().to_dict() == expected.to_dict()

    with_token, dataset, requests, _ = run_collection(tmp_path, "mastodon", name="token", token="secret")
    assert with_token["token_used"] and "secret" not in json.dumps(with_token)
    assert not any("secret" in p.read_text() for p in (tmp_path / "token").rglob("*.json"))
    likes = as_keys(dataset.interactions[dataset.interactions["kind"] == "like"], ["actor_id", "target_id"], WORLD, "mastodon")
    expected_likes = truth_engagement(WORLD, since, "ego", ("like",))["like"]
    assert len(likes) == expected_likes and set(likes["actor_id"]) > {OWNER}


def test_a_mastodon_account_that_hides_its_lists_is_not_read_as_having_none(tmp_path):
    world = make_world()
    world.hidden = {OWNER}
    manifest, dataset, _, _ = run_collection(tmp_path, "mastodon", world=world)
    assert manifest["followers_hidden"] and manifest["follows_hidden"]
    assert not dataset.coverage.followers_known and not dataset.coverage.mutuality_observable
    assert any("hidden by the account's privacy setting" in n for n in dataset.coverage.notes)


def test_mastodon_network_collection(tmp_path):
    manifest, dataset, _, _ = run_collection(tmp_path, "mastodon", depth=1)
    assert dataset.coverage.scope == "network" and len(dataset.follows) == len(WORLD.follows)
    since = datetime.fromisoformat(manifest["since"])
    expected = truth_engagement(WORLD, since, "network", ("repost", "reply", "mention"))
    assert dataset.interactions.groupby("kind")["count"].sum().sort_index().to_dict() == expected.to_dict()


# ---------------------------------------------------------------------------------------------
# Misbehaving servers lose nothing


def test_a_429_waits_until_the_reset_and_500s_dropped_and_truncated_pages_are_retried(tmp_path):
    clean_manifest, clean, _, _ = run_collection(tmp_path, "bluesky", depth=1, name="clean")
    faults = {"getFollowers": ["429"], "getFollows": ["500", "500"], "app.bsky.feed.like": ["truncate"], "app.bsky.feed.repost": ["drop"]}
    manifest, dataset, requests, waits = run_collection(tmp_path, "bluesky", depth=1, faults=faults, name="faulty")
    counts = manifest["requests"]
    assert counts["rate_limit_waits"] == 1 and 1.0 <= sum(waits) and counts["seconds_waited_for_rate_limits"] <= 3.5
    assert counts["retries"] == 4 and counts["malformed_pages"] == 0
    pd.testing.assert_frame_equal(dataset.follows, clean.follows)
    pd.testing.assert_frame_equal(dataset.interactions, clean.interactions)


def test_a_page_truncated_every_time_is_counted_and_said_not_fatal(tmp_path):
    manifest, dataset, _, _ = run_collection(tmp_path, "bluesky", faults={"getRepostedBy": ["truncate"] * 3})
    assert manifest["complete"] and manifest["requests"]["malformed_pages"] == 1
    assert any("malformed" in n for n in dataset.coverage.notes)
    pages = list((tmp_path / "c" / "pages").glob("*.json"))
    assert any(json.loads(p.read_text())["status"] == "malformed" for p in pages)  # kept as received, marked


def test_an_account_deleted_mid_collection_is_counted_and_skipped(tmp_path):
    world = make_world()
    world.gone = {25}  # listed as a follower, but its repository answers RepoDeactivated
    with FakeSocialAPI(world) as api:
        manifest = collect("bluesky", TARGET["bluesky"], tmp_path / "c", depth=1, progress=False, **servers(api, "bluesky"))
    assert manifest["complete"] and manifest["gone_accounts"] == {}  # the AppView hides it: never a member
    # Deleted after the owner's lists were read: the AppView listed it, its repository is gone.
    gone_world = make_world()
    with FakeSocialAPI(gone_world) as api:
        original = api.route

        def route(path, q, headers):
            if q.get("repo") == gone_world.accounts[25].did:
                return 400, {"error": "RepoDeactivated", "message": "Repo has been deactivated"}, {}
            return original(path, q, headers)

        api.route = route
        manifest = collect("bluesky", TARGET["bluesky"], tmp_path / "e", depth=1, progress=False, **servers(api, "bluesky"))
    assert manifest["complete"] and manifest["gone_accounts"] == {"RepoDeactivated": 4}  # its follow, like, repost, post listings
    dataset = load_dataset(tmp_path / "e")
    assert any("gone or hidden (RepoDeactivated)" in n for n in dataset.coverage.notes)


def test_an_interrupted_collection_resumes_from_disk_and_ends_equal_to_an_uninterrupted_one(tmp_path):
    _, clean, _, _ = run_collection(tmp_path, "bluesky", depth=1, name="clean")
    with FakeSocialAPI(WORLD) as api:
        api.faults = {"app.bsky.feed.post": ["500"] * 3}  # fails past the retries on the owner's posts
        with pytest.raises(CollectionError, match="run the same command again to resume"):
            collect(
                "bluesky",
                TARGET["bluesky"],
                tmp_path / "c",
                depth=1,
                progress=False,
                sleep=lambda s: None,
                max_retries=2,
                **servers(api, "bluesky"),
            )
        first = list(api.requests)
        partial = load_dataset(tmp_path / "c")
        assert any("did not finish" in n for n in partial.coverage.notes)
        assert not list((tmp_path / "c").rglob("*.partial"))
        stored = {json.loads(p.read_text())["url"] for p in (tmp_path / "c" / "pages").glob("*.json")}
        api.requests.clear()
        manifest = collect(
            "bluesky", TARGET["bluesky"], tmp_path / "c", depth=1, progress=False, sleep=lambda s: None, **servers(api, "bluesky")
        )
        second = list(api.requests)
    assert manifest["complete"] and manifest["requests"]["pages_reused"] == len(stored) > 0
    reasked = {r for r in second if any(url.endswith(r) for url in stored)}
    assert not reasked, "a page already on disk was asked for again"
    assert first and second
    resumed = load_dataset(tmp_path / "c")
    pd.testing.assert_frame_equal(resumed.follows, clean.follows)
    pd.testing.assert_frame_equal(resumed.interactions, clean.interactions)


def test_resuming_with_other_bounds_or_into_a_foreign_folder_is_refused(tmp_path):
    run_collection(tmp_path, "bluesky")
    with FakeSocialAPI(WORLD) as api, pytest.raises(CollectionError, match="resume it with the same command"):
        collect("bluesky", TARGET["bluesky"], tmp_path / "c", depth=1, progress=False, **servers(api, "bluesky"))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="holds other files"):
        collect("bluesky", TARGET["bluesky"], tmp_path / "other", progress=False)
    with pytest.raises(ValueError, match="@user@instance"):
        collect("mastodon", "bob", tmp_path / "m", progress=False)


def test_collect_command_reports_bad_input_in_one_line(tmp_path, capsys):
    from reciprocity_utils.cli import main

    with FakeSocialAPI(WORLD) as api:
        code = main(["collect", "bluesky", "nobody.test", "--out", str(tmp_path / "x"), "--appview", api.url, "--plc", api.url + "/plc"])
    error = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(error) == 1 and "nobody.test" in error[0] and "Traceback" not in error[0]
    assert main(["collect", "mastodon", "bob", "--out", str(tmp_path / "y")]) == 2
    assert "@user@instance" in capsys.readouterr().err
    assert main(["collect", "bluesky", "a.test", "--out", str(tmp_path / "z"), "--max-pages", "0"]) == 2
    assert "--max-pages must be more than 0" in capsys.readouterr().err


# ---------------------------------------------------------------------------------------------
# From collection to report


@pytest.fixture(scope="module")
def collected_reports(tmp_path_factory):
    """`reciprocity collect` then `reciprocity run`, ego mode and network mode, from the loopback server."""
    from reciprocity_utils.cli import main

    root = tmp_path_factory.mktemp("collected")
    with FakeSocialAPI(WORLD) as api:
        for depth in (0, 1):
            assert (
                main(
                    [
                        "collect",
                        "bluesky",
                        TARGET["bluesky"],
                        "--out",
                        str(root / f"c{depth}"),
                        "--depth",
                        str(depth),
                        "--appview",
                        api.url,
                        "--plc",
                        api.url + "/plc",
                    ]
                )
                == 0
            )
    for depth in (0, 1):
        assert (
            main(
                [
                    "run",
                    str(root / f"c{depth}"),
                    "--out",
                    str(root / f"site{depth}"),
                    "-p",
                    "n_permutations=49",
                    "-p",
                    "validation_replications=0",
                ]
            )
            == 0
        )
    return root


def results(site: Path, stem: str) -> dict:
    return json.loads(next(site.glob(f"**/{stem}.results.json")).read_text())


@pytest.mark.notebook
def test_ego_collection_report_shows_engagement_both_ways_and_follow_back_latency(collected_reports):
    site = collected_reports / "site0"
    head = results(site, "02-reciprocity")["headline"]
    truth_latency = statistics.median(1 + i % 5 for i in range(11, 21))
    assert head["median_followback_latency_days"] == pytest.approx(truth_latency)
    assert head["mutual_pairs_engaged_both_ways"] is not None and head["one_way_pairs_engaged_both_ways"] is not None
    study03 = results(site, "03-followback-engagement")["headline"]
    assert study03["adjusted_irr"] is None and study03["owner_irr"] > 1 and study03["toward_owner_irr"] > 1
    index = (site / "index.html").read_text()
    assert "Followers engage" in index and "engage both ways" in index
    from reciprocity_utils.site_check import visible_text

    words = " ".join(visible_text(index).split())
    assert "A collection around one owner from the platform's API" in words and "A personal export" not in words
    # Published pages carry pseudonyms: no contact's handle or DID.
    published = " ".join(p.read_text(errors="ignore") for p in site.rglob("*") if p.is_file() and p.suffix in (".html", ".json", ".csv"))
    assert "user12.test" not in published and "did:plc:acct" not in published
    private = next(collected_reports.glob(".site0.private"))
    lists = pd.read_csv(next(private.rglob("*ego-lists.csv")), dtype=str)
    assert "user12.test" in set(lists["handle"])


@pytest.mark.notebook
def test_network_collection_report_runs_the_network_models(collected_reports):
    site = collected_reports / "site1"
    study03 = results(site, "03-followback-engagement")["headline"]
    assert (
        study03["adjusted_irr"] is not None and study03["adjusted_irr_ci_low"] < study03["adjusted_irr"] < study03["adjusted_irr_ci_high"]
    )
    head = results(site, "02-reciprocity")["headline"]
    assert head["arc_reciprocity"] == pytest.approx(
        2 * sum(1 for a, b, _ in WORLD.follows if any(x == b and y == a for x, y, _ in WORLD.follows)) / 2 / len(WORLD.follows)
    )


def test_a_servers_error_text_reaches_the_notes_on_one_short_line(tmp_path):
    """Error names come from the server: a hostile one is cut to one line of at most 80 characters (pages escape it)."""
    world = make_world()
    hostile = "<script>alert(1)</script>\n" + "x" * 500
    with FakeSocialAPI(world) as api:
        original = api.route

        def route(path, q, headers):
            if q.get("repo") == world.accounts[25].did:
                return 400, {"error": hostile}, {}
            return original(path, q, headers)

        api.route = route
        manifest = collect("bluesky", TARGET["bluesky"], tmp_path / "c", depth=1, progress=False, **servers(api, "bluesky"))
    reasons = list(manifest["unreadable"])
    assert len(reasons) == 4  # its follow, like, repost and post listings
    assert all("<script>" in r and "\n" not in r and "x" * 100 not in r for r in reasons)
    notes = [n for n in load_dataset(tmp_path / "c").coverage.notes if "<script>" in n]
    assert notes and all(len(n) < 200 and "\n" not in n for n in notes)

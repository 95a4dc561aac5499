"""Notebook 02 executed by papermill on the sample, real networks and exports, and edge cases; recorded numbers checked independently."""

from __future__ import annotations

import json
from pathlib import Path

import diptest
import igraph
import networkx as nx
import numpy as np
import pandas as pd
import papermill
import pytest
from conftest import execute_study, needs_shared_data

from reciprocity_utils import SAMPLE_DIR, camps, load_dataset, metrics
from reciprocity_utils.paths import private_dir

pytestmark = pytest.mark.notebook

NOTEBOOK = "02-reciprocity.ipynb"
ENGAGEMENT_KEYS = (
    "mutual_pairs_engaged_both_ways",
    "mutual_pairs_engaged_one_way",
    "mutual_pairs_dormant",
    "one_way_pairs_engaged_both_ways",
)
OWNER_KEYS = ("owner_engages_mutuals", "owner_engages_followees_not_following_back")


def run_notebook(name: str, output_dir: Path, **parameters) -> tuple[dict, dict]:
    return execute_study(name, output_dir, **parameters)


def not_drawn_notes(notebook: dict) -> list[str]:
    """Figures with nothing to draw, shown as a sentence saying why (never as an empty box)."""
    html = [
        output["data"]["text/html"]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    html = ["".join(h) if isinstance(h, list) else h for h in html]
    return [h for h in html if 'class="not-drawn"' in h and "Not drawn." in h]


def figure_captions(notebook: dict) -> list[str]:
    html = [
        output["data"]["text/html"]
        for cell in notebook["cells"]
        for output in cell.get("outputs", [])
        if "text/html" in output.get("data", {})
    ]
    html = ["".join(h) if isinstance(h, list) else h for h in html]
    return [h.split("<figcaption", 1)[1].split(">", 1)[1].split("</figcaption>", 1)[0] for h in html if "<figcaption" in h]


# ---------------------------------------------------------------------------------------------
# Independent computations with pandas / networkx on the input files


def pairs_of(follows: pd.DataFrame) -> tuple[set, set]:
    arcs = set(zip(follows["follower_id"], follows["followee_id"]))
    mutual = {frozenset(arc) for arc in arcs if arc[::-1] in arcs}
    return arcs, mutual


def independent_camps(follows: pd.DataFrame, min_followers: int, seed: int) -> tuple[float, float, float, float]:
    """Shares above 80% and below 20%, the naive dip p, and the calibrated p from the accounts' own (k, n)."""
    arcs, _ = pairs_of(follows)
    followers = follows.groupby("followee_id").size()
    followed_back = follows[[(b, a) in arcs for a, b in zip(follows["follower_id"], follows["followee_id"])]]
    mutual = followed_back.groupby("followee_id").size().reindex(followers.index, fill_value=0)
    eligible = followers >= min_followers
    k, n = mutual[eligible].to_numpy(), followers[eligible].to_numpy()
    rates = k / n
    # Documented seeding: "all accounts" draws from the first child of SeedSequence(seed).
    calibrated = camps.calibrated_dip_test(k, n, draws=camps.DEFAULT_BOOTSTRAP_DRAWS, seed=np.random.SeedSequence(seed).spawn(1)[0])
    return float((rates > 0.8).mean()), float((rates < 0.2).mean()), float(diptest.diptest(rates)[1]), calibrated.calibrated_p


def independent_latency_days(follows: pd.DataFrame) -> float:
    times = pd.to_datetime(follows["followed_at"], utc=True)
    table = follows.assign(t=times)
    back = table.merge(table, left_on=["follower_id", "followee_id"], right_on=["followee_id", "follower_id"])
    back = back[back["follower_id_x"] < back["followee_id_x"]]
    return float((back["t_x"] - back["t_y"]).abs().dt.total_seconds().median() / 86_400)


def independent_engagement(follows: pd.DataFrame, interactions: pd.DataFrame, window_days: float | None) -> dict[str, float]:
    arcs, mutual = pairs_of(follows)
    if window_days is not None:
        times = pd.to_datetime(interactions["at"], utc=True)
        end = max(times.max(), pd.to_datetime(follows["followed_at"], utc=True).max())
        interactions = interactions[times >= end - pd.Timedelta(days=window_days)]
    engaged = set(zip(interactions["actor_id"], interactions["target_id"]))
    both = [((a, b) in engaged) + ((b, a) in engaged) for a, b in (tuple(p) for p in mutual)]
    one_way = [(a, b) for a, b in arcs if (b, a) not in arcs]
    return {
        "mutual_pairs_engaged_both_ways": both.count(2) / len(both),
        "mutual_pairs_engaged_one_way": both.count(1) / len(both),
        "mutual_pairs_dormant": both.count(0) / len(both),
        "one_way_pairs_engaged_both_ways": sum((a, b) in engaged and (b, a) in engaged for a, b in one_way) / len(one_way),
    }


# ---------------------------------------------------------------------------------------------
# The sample, as the report runs it: 01 saves the dataset, 02 reads it


def test_02_on_the_sample_after_01_matches_independent_computation(tmp_path):
    run_notebook("01-load-and-validate.ipynb", tmp_path, input_path=str(SAMPLE_DIR))
    results, notebook = run_notebook(
        NOTEBOOK, tmp_path, input_path=str(private_dir(tmp_path) / "dataset"), input_format="dataset", null_networks=40, seed=5
    )
    headline = results["headline"]
    follows = pd.read_csv(SAMPLE_DIR / "follows.csv", dtype=str)
    accounts = pd.read_csv(SAMPLE_DIR / "accounts.csv", dtype=str)
    interactions = pd.read_csv(SAMPLE_DIR / "interactions.csv", dtype=str)

    graph = nx.DiGraph(zip(follows["follower_id"], follows["followee_id"]))
    r = nx.overall_reciprocity(graph)
    density = len(follows) / (len(accounts) * (len(accounts) - 1))
    assert headline["arc_reciprocity"] == pytest.approx(r, abs=1e-12)
    assert headline["dyad_reciprocity"] == pytest.approx(
        igraph.Graph.TupleList(graph.edges, directed=True).reciprocity(mode="ratio"), abs=1e-12
    )
    assert headline["rho"] == pytest.approx((r - density) / (1 - density), abs=1e-12)

    # The null model: the same seed gives the same ensemble outside the notebook; planted reciprocity stands out.
    again = metrics.null_model(load_dataset(SAMPLE_DIR), n_networks=40, seed=5)
    assert headline["null_z"] == pytest.approx(again.z_score, abs=1e-12) and headline["null_p"] == pytest.approx(1 / 41)
    assert results["details"]["null_model"]["null_mean_r"] < 0.5 * r

    above, below, dip_p, calibrated_p = independent_camps(follows, min_followers=5, seed=5)
    assert headline["share_follow_back_above_80"] == pytest.approx(above)
    assert headline["share_follow_back_below_20"] == pytest.approx(below)
    assert headline["bimodality_p"] == pytest.approx(calibrated_p)  # the calibrated p, not the dip table's
    by_kind = {row["group"]: row for row in results["details"]["two_camps"]["table"]}
    assert by_kind["all accounts"]["naive_dip_p"] == pytest.approx(dip_p)
    assert by_kind["brand"]["share_above"] > 0.8 > by_kind["person"]["share_above"]  # the planted camps

    assert headline["median_followback_latency_days"] == pytest.approx(independent_latency_days(follows), abs=1e-9)
    for key, value in independent_engagement(follows, interactions, 90).items():
        assert headline[key] == pytest.approx(value, abs=1e-12), key
    assert not set(OWNER_KEYS) & set(headline)  # a whole network has no owner

    captions = figure_captions(notebook)
    assert len(captions) == 5 and all(len(caption) > 60 for caption in captions)
    assert not (private_dir(tmp_path) / metrics.EGO_LISTS_FILE).exists()


# ---------------------------------------------------------------------------------------------
# Real data


@pytest.mark.shared_data
def test_02_on_a_ucd_network(tmp_path):
    folder = needs_shared_data("networks", "ucd-twitter-multiview", "football")
    results, notebook = run_notebook(NOTEBOOK, tmp_path, input_path=str(folder), null_networks=30)
    headline = results["headline"]
    follows = pd.read_csv(
        folder / "football-follows.mtx", sep=" ", skiprows=1, header=None, names=["follower_id", "followee_id", "w"], dtype=str
    )
    graph = nx.DiGraph(zip(follows["follower_id"], follows["followee_id"]))
    assert headline["arc_reciprocity"] == pytest.approx(nx.overall_reciprocity(graph), abs=1e-12)
    assert round(headline["arc_reciprocity"], 4) == 0.6148 and round(headline["rho"], 4) == 0.5892  # data README
    assert headline["null_p"] == pytest.approx(1 / 31) and headline["null_z"] > 3
    above, below, dip_p, calibrated_p = independent_camps(follows, min_followers=5, seed=0)
    assert headline["share_follow_back_above_80"] == pytest.approx(above) and headline["bimodality_p"] == pytest.approx(calibrated_p)
    # Football: the dip table's p = 0.0025 calibrates to 0.0705 (seed 0, 9,999 draws per single-peaked model): no evidence.
    assert round(dip_p, 4) == 0.0025 and headline["bimodality_p"] == pytest.approx(0.0705, abs=1e-12)
    assert results["details"]["two_camps"]["verdict"] == "no evidence of two camps"
    text = json.dumps(notebook)
    assert "No evidence of two camps at this sample size" in text and "is not valid for fractions of follower counts" in text
    assert "single-peaked distribution" not in text and "split into two camps:" not in text
    assert headline["median_followback_latency_days"] is None  # no follow times in this collection
    engagement = pd.concat(
        pd.read_csv(folder / f"football-{name}.mtx", sep=" ", skiprows=1, header=None, names=["actor_id", "target_id", "count"], dtype=str)
        for name in ("mentions", "retweets")
    )
    # No engagement times: the window cannot apply, all recorded engagement counts (and the notebook says so).
    for key, value in independent_engagement(follows.assign(followed_at=pd.NaT), engagement, None).items():
        assert headline[key] == pytest.approx(value, abs=1e-12), key
    assert "window cannot be applied" in json.dumps(notebook)
    # Four figures; the time to follow-back needs follow times, so it is one sentence instead (the notes give the reason).
    assert len(figure_captions(notebook)) == 4 and len(not_drawn_notes(notebook)) == 1
    assert "not measured here" in not_drawn_notes(notebook)[0]
    assert "Follow times are not known in this source, so the timing of follow-backs cannot be measured." in json.dumps(notebook)


@pytest.mark.shared_data
def test_02_on_a_twitter_archive_shows_only_the_owners_side(tmp_path, monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "test-secret")
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    results, notebook = run_notebook(NOTEBOOK, tmp_path, input_path=str(folder))
    headline, details = results["headline"], results["details"]
    # Known figures (data README): 405 followers, 59 following, 25 mutual.
    assert details["ego_list_sizes"]["mutuals"] == 25
    assert details["ego_list_sizes"]["followers not followed back"] == 405 - 25
    assert details["ego_list_sizes"]["followees not following back"] == 59 - 25
    assert headline["arc_reciprocity"] == pytest.approx(50 / 464)
    assert headline["rho"] is None and headline["null_z"] is None and headline["bimodality_p"] is None
    assert all(headline[key] is None for key in ENGAGEMENT_KEYS)
    assert 0 <= headline["owner_engages_mutuals"] <= 1
    assert not (tmp_path / metrics.EGO_LISTS_FILE).exists()  # never in the published folder
    lists = pd.read_csv(private_dir(tmp_path) / metrics.EGO_LISTS_FILE, dtype=str, keep_default_na=False)
    assert len(lists) == 25 + 380 + 34 + details["ego_list_sizes"]["dormant mutuals"]
    # The owner's private file holds real ids and handles to act on, and the pseudonym the pages show.
    accounts = load_dataset(folder).accounts.set_index("account_id")
    assert set(lists["account_id"]) <= set(accounts.index) and len(set(lists["account_id"])) == 25 + 380 + 34
    assert lists["shown_in_the_report_as"].str.fullmatch(r"acct-[0-9a-f]{10}").all()
    assert (lists["handle"] != "").sum() > 100  # an X archive names only the handles it saw in tweets and likes
    published = " ".join(p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file())
    assert not set(lists.loc[lists["handle"] != "", "handle"]) & set(published.replace('"', " ").split())
    assert "Only the owner's outgoing engagement is recorded" in json.dumps(notebook)


@pytest.mark.shared_data
def test_02_on_an_instagram_export_measures_follow_back_latency(tmp_path):
    folder = needs_shared_data("exports", "instagram", "cek_followers_2025")
    results, _ = run_notebook(NOTEBOOK, tmp_path, input_path=str(folder))
    files = folder / "followers_and_following"

    def stamps(entries) -> dict[str, int]:
        return {item["string_list_data"][0]["value"]: item["string_list_data"][0]["timestamp"] for item in entries}

    followers = stamps(json.loads((files / "followers_1.json").read_text()))
    following = stamps(json.loads((files / "following.json").read_text())["relationships_following"])
    latencies = [abs(followers[h] - following[h]) / 86_400 for h in followers.keys() & following.keys()]
    assert results["headline"]["median_followback_latency_days"] == pytest.approx(float(np.median(latencies)), abs=1e-9)
    assert results["details"]["ego_list_sizes"]["mutuals"] == len(followers.keys() & following.keys()) == 229
    assert results["details"]["ego_list_sizes"]["dormant mutuals"] is None  # the export records no engagement
    assert results["headline"]["owner_engages_mutuals"] is None


# ---------------------------------------------------------------------------------------------
# Edge cases


def write_folder(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_02_on_a_single_account_without_follows(tmp_path):
    folder = write_folder(
        tmp_path / "input", {"follows.csv": "follower_id,followee_id\n", "accounts.csv": "account_id\n1234567890123456789\n"}
    )
    results, notebook = run_notebook(NOTEBOOK, tmp_path, input_path=str(folder))
    assert all(value is None for value in results["headline"].values())
    # Nothing can be drawn: each of the five figures is a sentence saying why, no empty box.
    assert len(figure_captions(notebook)) == 0 and len(not_drawn_notes(notebook)) == 5


def test_02_on_a_personal_export_with_owner_outgoing_engagement(tmp_path, monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "test-secret")
    owner, friend, fan, idol = "1200000000000000001", "1200000000000000002", "1200000000000000003", "1200000000000000004"
    folder = write_folder(
        tmp_path / "input",
        {
            "accounts.csv": f"account_id,handle\n{owner},me\n{friend},friend_handle\n{fan},fan_handle\n{idol},idol_handle\n",
            "follows.csv": "follower_id,followee_id,followed_at\n"
            f"{owner},{friend},2024-01-01T00:00:00Z\n{friend},{owner},2024-01-03T00:00:00Z\n"
            f"{fan},{owner},2024-02-01T00:00:00Z\n{owner},{idol},2024-02-02T00:00:00Z\n",
            "interactions.csv": f"actor_id,target_id,kind,at\n{owner},{idol},like,2024-03-01T00:00:00Z\n",
            "coverage.json": json.dumps({"scope": "ego", "engagement_observed": "owner_outgoing"}),
        },
    )
    results, _ = run_notebook(NOTEBOOK, tmp_path, input_path=str(folder), owner_id=owner)
    headline = results["headline"]
    assert headline["arc_reciprocity"] == pytest.approx(2 / 4) and headline["rho"] is None
    assert headline["median_followback_latency_days"] == pytest.approx(2.0)
    assert headline["owner_engages_mutuals"] == 0.0 and headline["owner_engages_followees_not_following_back"] == 1.0
    assert all(headline[key] is None for key in ENGAGEMENT_KEYS)
    assert results["details"]["ego_list_sizes"] == {
        "mutuals": 1,
        "followers not followed back": 1,
        "followees not following back": 1,
        "dormant mutuals": 1,
    }
    lists = pd.read_csv(private_dir(tmp_path) / metrics.EGO_LISTS_FILE, dtype=str, keep_default_na=False)
    assert {friend, fan} <= set(lists["account_id"])  # the owner's private file names them, to act on
    assert {"friend_handle", "fan_handle"} <= set(lists["handle"])
    published = "".join(p.read_text(errors="replace") for p in tmp_path.iterdir() if p.is_file())
    assert "friend_handle" not in published and friend not in published


def test_02_refuses_a_bad_study_parameter(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        run_notebook(NOTEBOOK, tmp_path, input_path=str(SAMPLE_DIR), min_followers=0)
    assert "min_followers" in error.value.evalue

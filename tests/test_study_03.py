"""Notebook 03 executed by papermill on the sample, a real network, a personal archive and edge cases.

Recorded numbers are checked against computations written here with plain pandas from the input
files, not through the package's dyad table.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
import scipy.stats
from conftest import execute_study, needs_shared_data

from reciprocity_utils import SAMPLE_DIR, load_dataset

pytestmark = pytest.mark.notebook
NOTEBOOK = "03-followback-engagement.ipynb"
# Small settings: the notebook's logic is what is tested here, not its precision.
FAST = {"n_permutations": 99, "n_bootstrap": 20, "validation_replications": 0}


def run(output_dir, **parameters) -> dict:
    return execute_study(NOTEBOOK, output_dir, **{**FAST, **parameters})[0]


def sample_by_state() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per follow of the sample CSVs: exposure and a's events toward b before and after the follow-back."""
    follows = pd.read_csv(SAMPLE_DIR / "follows.csv", dtype=str)
    events = pd.read_csv(SAMPLE_DIR / "interactions.csv", dtype=str)
    follows["followed_at"] = pd.to_datetime(follows["followed_at"], utc=True)
    events["at"] = pd.to_datetime(events["at"], utc=True)
    events["count"] = events["count"].astype(int)
    end = max(follows["followed_at"].max(), events["at"].max())
    reverse = follows.rename(columns={"follower_id": "followee_id", "followee_id": "follower_id", "followed_at": "back_at"})
    arcs = follows.merge(reverse, on=["follower_id", "followee_id"], how="left")
    arcs["since"] = arcs[["followed_at", "back_at"]].max(axis=1).where(arcs["back_at"].notna(), end)
    days = pd.Timedelta(days=1)
    arcs["one_way_days"] = (arcs["since"] - arcs["followed_at"]) / days
    arcs["mutual_days"] = (end - arcs["since"]) / days
    joined = events.merge(arcs, left_on=["actor_id", "target_id"], right_on=["follower_id", "followee_id"])
    joined = joined[joined["at"] >= joined["followed_at"]]
    return arcs, joined


def test_on_the_sample_the_recorded_numbers_match_an_independent_count(tmp_path):
    results = run(tmp_path, input_path=str(SAMPLE_DIR), validation_replications=2)
    headline, details = results["headline"], results["details"]
    arcs, joined = sample_by_state()
    in_mutual_state = joined["back_at"].notna() & (joined["at"] >= joined["since"])
    mutual_events, one_way_events = joined.loc[in_mutual_state, "count"].sum(), joined.loc[~in_mutual_state, "count"].sum()
    raw = (mutual_events / arcs["mutual_days"].sum()) / (one_way_events / arcs["one_way_days"].sum())
    assert headline["raw_irr"] == pytest.approx(raw, rel=1e-9)
    # The generator plants 2; confounding inflates the raw ratio, the adjusted model removes it.
    assert headline["planted_ratio"] == 2.0
    assert headline["adjusted_irr_ci_low"] <= 2.0 <= headline["adjusted_irr_ci_high"]
    assert headline["adjusted_irr"] < headline["raw_irr"]
    engaged = joined.groupby(["follower_id", "followee_id"])["count"].sum().gt(0)
    returned = arcs.set_index(["follower_id", "followee_id"])["back_at"].notna()
    share_mutual = engaged.reindex(returned[returned].index, fill_value=False).mean()
    by_status = {row["status"]: row for row in details["raw_by_status"]}
    assert by_status["mutual"]["share_engaged"] == pytest.approx(share_mutual)
    assert details["design"] == "states"
    assert isinstance(details["timing"]["supports_causal_reading"], bool)
    assert {row["predictor"] for row in details["prediction"]["auc"]} >= {"mutual status", "b's follower count"}
    assert details["permutation"]["n_permutations"] == 99 and details["permutation"]["p_value"] == pytest.approx(0.01)
    assert len(details["validation"]) > 0
    assert "planted ratio is 2" in details["conclusion"]
    executed = json.loads((tmp_path / NOTEBOOK).read_text(encoding="utf-8"))
    errors = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors


def read_mtx(path) -> pd.DataFrame:
    return pd.read_csv(path, sep=r"\s+", skiprows=1, header=None, names=["source", "target", "value"], dtype=str)


@pytest.mark.shared_data
def test_on_a_ucd_network_mentions_follow_mutual_status(tmp_path):
    folder = needs_shared_data("networks", "ucd-twitter-multiview", "football")
    results = run(tmp_path, input_path=str(folder), engagement_kinds="mention,repost")
    headline, details = results["headline"], results["details"]
    ids = set((folder / "football.ids").read_text().split())
    follows = read_mtx(folder / "football-follows.mtx")
    follows = follows[follows["source"].isin(ids) & follows["target"].isin(ids) & (follows["source"] != follows["target"])].drop_duplicates(
        ["source", "target"]
    )
    mentions = read_mtx(folder / "football-mentions.mtx")
    mentions = mentions[mentions["source"] != mentions["target"]]
    mentioned = set(zip(mentions["source"], mentions["target"]))
    pairs = set(zip(follows["source"], follows["target"]))
    mutual = [(a, b) for a, b in pairs if (b, a) in pairs]
    one_way = [(a, b) for a, b in pairs if (b, a) not in pairs]
    by_kind = {row["kind"]: row for row in details["raw_by_kind"]}
    assert by_kind["mention"]["mutual share"] == pytest.approx(np.mean([p in mentioned for p in mutual]))
    assert by_kind["mention"]["one-way share"] == pytest.approx(np.mean([p in mentioned for p in one_way]))
    assert 0.4 <= by_kind["mention"]["mutual share"] <= 0.9 and by_kind["mention"]["one-way share"] < by_kind["mention"]["mutual share"]
    assert details["design"] == "arcs" and "timing" not in details
    assert headline["adjusted_irr_ci_low"] <= headline["adjusted_irr"] <= headline["adjusted_irr_ci_high"]
    assert "planted_ratio" not in headline
    assert "no causal claim" in details["conclusion"]


@pytest.mark.shared_data
def test_on_a_personal_archive_only_the_owners_engagement_is_compared(tmp_path):
    folder = needs_shared_data("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
    results = run(tmp_path, input_path=str(folder))
    headline, details = results["headline"], results["details"]
    assert headline["adjusted_irr"] is None and headline["adjusted_irr_ci_low"] is None
    dataset = load_dataset(folder)
    owner = dataset.owner_id
    follows = dataset.follows
    followees = set(follows.loc[follows["follower_id"] == owner, "followee_id"])
    followers = set(follows.loc[follows["followee_id"] == owner, "follower_id"])
    events = dataset.interactions[dataset.interactions["actor_id"] == owner].groupby("target_id")["count"].sum()
    per_account = pd.Series({b: events.get(b, 0) for b in followees})
    is_mutual = pd.Series({b: b in followers for b in followees})
    expected = per_account[is_mutual].mean() / per_account[~is_mutual].mean()
    assert headline["owner_irr"] == pytest.approx(expected) and headline["raw_irr"] is None
    assert headline["owner_irr_ci_low"] < headline["owner_irr"] < headline["owner_irr_ci_high"]
    assert "toward_owner_irr" not in headline  # what others did toward the owner is not in an archive
    ego = {row["status"]: row for row in details["ego"]}
    assert ego["mutual"]["accounts"] == 25 and ego["owner follows, not followed back"]["accounts"] == 59 - 25


def test_with_follows_only_nothing_is_estimated_and_it_says_why(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n1,2\n2,1\n3,1\n"})
    results = run(tmp_path, input_path=str(folder))
    assert results["headline"]["adjusted_irr"] is None and results["headline"]["raw_irr"] is None
    assert "no engagement" in results["details"]["conclusion"]


def test_with_one_account_and_no_follows(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n", "accounts.csv": "account_id\n1234567890123456789\n"})
    results = run(tmp_path, input_path=str(folder))
    assert results["headline"]["adjusted_irr"] is None


def test_without_timestamps_the_models_run_and_the_timing_design_is_skipped(tmp_path):
    from reciprocity_utils.synthetic import generate_network

    network = generate_network(n_accounts=120, seed=3)
    folder = tmp_path / "input"
    folder.mkdir()
    network.follows.drop(columns=["followed_at"]).to_csv(folder / "follows.csv", index=False)
    network.interactions.drop(columns=["at"]).to_csv(folder / "interactions.csv", index=False)
    results = run(tmp_path, input_path=str(folder))
    assert results["details"]["design"] == "arcs" and "timing" not in results["details"]
    assert results["headline"]["adjusted_irr"] > 1
    assert any("no times" in note for note in results["details"]["notes"])


@pytest.mark.shared_data
def test_on_football_the_conclusion_carries_the_pair_control_the_e_value_and_no_causal_word(tmp_path):
    """Football's pair variables (a shared club, common followees) move the ratio from 5.50 to 3.73 and enter the headline."""
    folder = needs_shared_data("networks", "ucd-twitter-multiview", "football")
    results = run(tmp_path, input_path=str(folder), engagement_kinds="all")
    headline, details = results["headline"], results["details"]
    models = {row["model"]: row for row in details["models"]}
    assert models["adjusted: fixed effects for every a and b"]["estimate"] == pytest.approx(5.50, abs=0.01)
    assert headline["adjusted_irr"] == pytest.approx(3.73, abs=0.01)
    # Two-way interval referred to t(G* - 1): football's followees carry its information unevenly
    # (about 14 effective clusters among 248 accounts), so the interval is wider than the normal one.
    assert (headline["adjusted_irr_ci_low"], headline["adjusted_irr_ci_high"]) == (
        pytest.approx(2.63, abs=0.01),
        pytest.approx(5.29, abs=0.01),
    )
    two_way = next(row for row in details["intervals"] if row["interval"].startswith("two-way clustered"))
    assert two_way["effective_clusters"] == pytest.approx(13.62, abs=0.01)
    half_width = scipy.stats.t.ppf(0.975, two_way["effective_clusters"] - 1) * two_way["standard_error"]
    assert headline["adjusted_irr_ci_high"] == pytest.approx(headline["adjusted_irr"] * math.exp(half_width), rel=1e-9)
    conclusion = details["conclusion"]
    assert "whether the two share a community and how many accounts both follow" in conclusion and "E-values" in conclusion
    assert "could explain the whole association" in conclusion and "no causal claim" in conclusion
    assert "caus" not in conclusion.replace("no causal claim", "")
    # The thesis with the pair left out of b's rate: these data cannot tell (the interval crosses 1), said as such.
    moderation = {row["engagement"]: row for row in details["moderation"]}
    low, high = (float(x) for x in moderation["a's engagement toward b"]["95% interval of the change"].split(" to "))
    assert low < 1 < high

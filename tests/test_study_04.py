"""Notebook 04 executed by papermill on the sample, a personal X archive and edge cases; recorded numbers checked independently."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import papermill
import pytest
from conftest import execute_study, needs_shared_data

from reciprocity_utils import SAMPLE_DIR, detect_format, load_dataset, record_results
from reciprocity_utils import strategies as st

pytestmark = pytest.mark.notebook

NOTEBOOK = "04-follow-strategies.ipynb"
# Small runs for the edge cases: the point there is that the notebook copes, not the intervals.
QUICK = {"replications": 2, "grid_replications": 2, "grid_size": 2, "horizon_days": 40}


def run_notebook(output_dir: Path, **parameters) -> tuple[dict, dict]:
    return execute_study(NOTEBOOK, output_dir, **parameters)


def outputs_text(notebook: dict) -> str:
    parts = []
    for cell in notebook["cells"]:
        for output in cell.get("outputs", []):
            for value in output.get("data", {}).values():
                parts.append("".join(value) if isinstance(value, list) else str(value))
            parts.append("".join(output.get("text", "")))
    return "\n".join(parts)


def figure_captions(notebook: dict) -> list[str]:
    text = outputs_text(notebook)
    return [chunk.split(">", 1)[1].split("</figcaption>", 1)[0] for chunk in text.split("<figcaption")[1:]]


def independent_replay(follows: pd.DataFrame, interactions: pd.DataFrame, owner: str, engaged_twice_by: str) -> dict[str, float]:
    """Precision and recall of following everyone and of 'engaged twice', counted with plain pandas."""
    followers = set(follows.loc[follows["followee_id"] == owner, "follower_id"])
    timed = interactions.dropna(subset=["at"])
    involving = timed[(timed["actor_id"] == owner) | (timed["target_id"] == owner)]
    cutoff = involving["at"].min() + (involving["at"].max() - involving["at"].min()) / 2
    after = timed[(timed["at"] >= cutoff) & (timed["actor_id"] == owner)]
    valued = followers & set(after["target_id"])
    before = timed[timed["at"] < cutoff]
    if engaged_twice_by == "received":
        counts = before[before["target_id"] == owner].groupby("actor_id")["count"].sum()
    else:
        counts = before[before["actor_id"] == owner].groupby("target_id")["count"].sum()
    chosen = followers & set(counts[counts >= 2].index)
    return {
        "followers": len(followers),
        "valued": len(valued),
        "everyone_precision": len(valued) / len(followers),
        "selective_precision": len(chosen & valued) / len(chosen) if chosen else math.nan,
        "selective_recall": len(chosen & valued) / len(valued) if valued else math.nan,
    }


def test_04_on_the_sample(tmp_path):
    results, notebook = run_notebook(tmp_path, input_path=str(SAMPLE_DIR))
    headline, details = results["headline"], results["details"]

    # Calibration: no study 03 in this folder, so the parameter; the literature churn hazard.
    assert headline["mutual_rate_ratio_used"] == 2.0 and "not been run" in details["rate_ratio_source"]
    assert details["rate_ratio_calibration"]["case"] == "default"
    assert headline["churn_hazard_used"] == pytest.approx(round(st.literature_churn_hazard(), 5))
    assert "Kwak" in details["churn_source"]

    # The recorded simulation is reproducible from its parameters (same seed, same numbers).
    person = st.preset("person", churn_hazard=headline["churn_hazard_used"], mutual_rate_ratio=2.0)
    again = st.simulate(st.follow_everyone(), person, replications=details["simulation"]["replications"], seed=0)
    assert headline["person_signal_share_follow_everyone"] == pytest.approx(again.horizon["signal_share"].mean(), rel=1e-9)
    recorded = {(r["policy"], r["measure"]): r for r in details["horizon_outcomes"]["person"]}
    assert recorded[("follow everyone", "followers")]["mean"] == pytest.approx(again.horizon["followers"].mean())
    # The essay's claims as the simulation answers them with the default presets.
    assert headline["person_signal_share_selective"] > headline["person_signal_share_follow_everyone"]
    assert headline["brand_followers_follow_everyone"] > headline["brand_followers_selective"]
    assert 0 <= headline["map_share_won_by_follow_everyone_without_lists_person"] <= 1
    winners = details["sensitivity"]["winners"]["all policies / person"]
    assert len(winners) == 25 and all(row["winner"] in {p.name for p in st.standard_policies()} for row in winners)
    # The winners' share of runs is counted from the recorded runs, paired across policies.
    assert 0 < headline["person_winner_share_of_runs"] <= 1 and 0 < headline["brand_winner_share_of_runs"] <= 1
    # Every assumption varied alone at both ends, and the page says what moves the ranking.
    assumptions = details["assumptions"]
    assert len(assumptions["table"]) == 14 and assumptions["base_winner"] == headline["person_winner"]
    assert assumptions["sentence"] in outputs_text(notebook)

    # Replay: checked against a count with plain pandas on the input files.
    follows = pd.read_csv(SAMPLE_DIR / "follows.csv", dtype=str)
    interactions = pd.read_csv(SAMPLE_DIR / "interactions.csv", dtype={"actor_id": str, "target_id": str})
    interactions["at"] = pd.to_datetime(interactions["at"], utc=True)
    owner = follows.groupby("followee_id").size().sort_values(ascending=False).index[0]
    expected = independent_replay(follows, interactions, owner, "received")
    table = {row["policy"]: row for row in details["replay"]["table"]}
    assert details["replay"]["candidates"] == expected["followers"]
    assert details["replay"]["valued"] == expected["valued"]
    assert table["follow everyone"]["precision"] == pytest.approx(expected["everyone_precision"])
    assert headline["replay_precision_selective"] == pytest.approx(expected["selective_precision"])
    assert headline["replay_recall_selective"] == pytest.approx(expected["selective_recall"])

    # Five figures, each with a caption; no account id of the sample appears anywhere in the outputs.
    assert len(figure_captions(notebook)) == 6
    text = outputs_text(notebook)
    ids = pd.read_csv(SAMPLE_DIR / "accounts.csv", dtype=str)["account_id"]
    assert not [i for i in ids if i in text]
    assert "acct-" in text


def test_04_in_a_report_run_reads_the_saved_dataset_and_uses_study_03(tmp_path):
    # As the report runner does: 01 saved the dataset, 03 recorded its estimate in the same folder.
    load_dataset(SAMPLE_DIR).save(tmp_path / "dataset")
    record_results(
        tmp_path,
        "03-followback-engagement",
        headline={"adjusted_irr": 1.4, "adjusted_irr_ci_low": 1.1, "adjusted_irr_ci_high": 1.8},
        details={"timing": {"verdict": "inconclusive"}},
    )
    # interactive stays False as in a report run: displaying live widgets in a headless kernel
    # (papermill) has been seen to hang with ipykernel 7, and a static page cannot use them anyway.
    results, notebook = run_notebook(tmp_path, input_path=str(tmp_path / "dataset"), input_format="dataset", **QUICK)
    assert results["details"]["replay"]["candidates"] == 202  # the sample account with the most followers
    assert results["headline"]["mutual_rate_ratio_used"] == 1.4
    assert "study 03" in results["details"]["rate_ratio_source"]
    person = results["details"]["scenarios"]["person"]
    # Only an association: each run draws a multiplier between 1 and the association, from its interval.
    assert (person["mutual_rate_ratio"], person["rate_ratio_low"], person["rate_ratio_high"], person["rate_ratio_from_one"]) == (
        1.4,
        1.1,
        1.8,
        True,
    )
    assert results["details"]["rate_ratio_calibration"]["case"] == "association"
    assert "drawn between 1 (no effect) and the association, 1.40" in outputs_text(notebook)
    assert "application/vnd.jupyter.widget-view+json" not in outputs_text(notebook)


def test_04_with_a_single_account_and_no_follows(tmp_path, write_folder):
    folder = write_folder({"follows.csv": "follower_id,followee_id\n", "accounts.csv": "account_id,handle\n1234567890123456789,solo\n"})
    results, notebook = run_notebook(tmp_path, input_path=str(folder), **QUICK)
    assert results["headline"]["replay_precision_selective"] is None
    assert results["details"]["replay"]["candidates"] == 0
    assert "no account has a follower" in outputs_text(notebook)


def test_04_on_an_ego_export_that_records_only_the_owners_engagement(tmp_path, write_folder):
    owner = "1000000000000000001"
    a, b, c = "2000000000000000001", "2000000000000000002", "2000000000000000003"
    folder = write_folder(
        {
            "accounts.csv": f"account_id,is_owner\n{owner},true\n",
            "follows.csv": f"follower_id,followee_id\n{a},{owner}\n{b},{owner}\n{c},{owner}\n{owner},{a}\n",
            "interactions.csv": (
                f"actor_id,target_id,kind,at\n{owner},{a},reply,2024-01-01T00:00:00Z\n{owner},{a},like,2024-01-02T00:00:00Z\n"
                f"{owner},{b},reply,2024-01-03T00:00:00Z\n{owner},{a},reply,2024-03-01T00:00:00Z\n{owner},{c},reply,2024-03-02T00:00:00Z\n"
            ),
            "coverage.json": json.dumps({"scope": "ego", "engagement_observed": "owner_outgoing"}),
        }
    )
    results, notebook = run_notebook(tmp_path, input_path=str(folder), **QUICK)
    table = {row["policy"]: row for row in results["details"]["replay"]["table"]}
    # Cutoff at the midpoint (2024-01-31): a and c engaged after; a engaged twice before.
    assert results["details"]["replay"]["valued"] == 2
    assert table["follow everyone"]["precision"] == pytest.approx(2 / 3)
    assert results["headline"]["replay_precision_selective"] == 1.0 and results["headline"]["replay_recall_selective"] == 0.5
    assert "in place of engagement received" in table["selective (engaged twice)"]["how"]
    assert "outgoing engagement" in outputs_text(notebook)


def test_04_rejects_a_bad_study_parameter_with_a_clear_message(tmp_path):
    with pytest.raises(papermill.PapermillExecutionError) as error:
        run_notebook(tmp_path, input_path=str(SAMPLE_DIR), grid_size=1)
    assert "grid_size" in error.value.evalue


def x_archive(name: str) -> Path:
    path = needs_shared_data("exports", "twitter_archive", name)
    try:
        detect_format(path)
    except ValueError:
        pytest.skip("the X/Twitter archive loader is not available yet (load_dataset cannot detect the archive)")
    return path


@pytest.mark.shared_data
def test_04_on_the_2021_x_archive(tmp_path):
    path = x_archive("larsbrinkhoff_2021-03-22")
    results, notebook = run_notebook(tmp_path, input_path=str(path), **QUICK)
    dataset = load_dataset(path)
    expected = independent_replay(dataset.follows, dataset.interactions, dataset.owner_id, "given")
    replay = results["details"]["replay"]
    table = {row["policy"]: row for row in replay["table"]}
    assert replay["candidates"] == expected["followers"] == 405
    assert table["as the owner did"]["followed"] == 25
    assert replay["valued"] == expected["valued"]
    assert table["follow everyone"]["precision"] == pytest.approx(expected["everyone_precision"])
    assert results["headline"]["replay_precision_selective"] == pytest.approx(expected["selective_precision"])
    assert results["headline"]["replay_recall_selective"] == pytest.approx(expected["selective_recall"])
    assert replay["scores"] == ["engagement_given"]
    ids = set(dataset.follows["follower_id"]) | set(dataset.follows["followee_id"])
    text = outputs_text(notebook)
    assert not [i for i in ids if i in text]


@pytest.mark.shared_data
def test_04_estimates_churn_from_an_earlier_x_archive(tmp_path):
    earlier, later = x_archive("larsbrinkhoff_2021-03-22"), x_archive("larsbrinkhoff_2023-08-20")
    results, _ = run_notebook(tmp_path, input_path=str(later), earlier_snapshot_path=str(earlier), **QUICK)
    before, after = load_dataset(earlier), load_dataset(later)
    owner = before.owner_id
    followers = set(before.follows.loc[before.follows["followee_id"] == owner, "follower_id"])
    one_way = followers - set(before.follows.loc[before.follows["follower_id"] == owner, "followee_id"])
    lost = one_way - set(after.follows.loc[after.follows["followee_id"] == owner, "follower_id"])
    days = (
        pd.Timestamp(after.provenance.parameters["generated_at"]) - pd.Timestamp(before.provenance.parameters["generated_at"])
    ).total_seconds() / 86_400
    assert results["headline"]["churn_hazard_used"] == pytest.approx(-math.log1p(-len(lost) / len(one_way)) / days)
    assert results["details"]["scenarios"]["person"]["churn_hazard"] == pytest.approx(results["headline"]["churn_hazard_used"])

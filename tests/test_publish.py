"""Publishing a real export: one command to a site that carries no one's identity but the owner's."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest
from conftest import needs_shared_data

from reciprocity_utils import StudyDataset, load_dataset
from reciprocity_utils.cli import main
from reciprocity_utils.paths import private_dir

pytestmark = [pytest.mark.notebook, pytest.mark.shared_data]
ARCHIVE_2021 = ("exports", "twitter_archive", "larsbrinkhoff_2021-03-22")
ARCHIVE_2023 = ("exports", "twitter_archive", "larsbrinkhoff_2023-08-20")
OWNER_EMAIL = "owner@example.invalid"  # what the shared copy of account.js holds


def identities_in(dataset: StudyDataset) -> tuple[set[str], set[str]]:
    """Raw ids and handles of every account except the owner."""
    others = dataset.accounts[~dataset.accounts["is_owner"]]
    return set(others["account_id"]), {h for h in others["handle"].dropna() if h}


def leaks(text: str, ids: set[str], handles: set[str]) -> list[str]:
    """Ids anywhere; handles where a page or JSON would show one (@handle, a table cell, a JSON string)."""
    found = [i for i in ids if i in text]
    for handle in handles:
        pattern = rf"(@{re.escape(handle)}\b|>\s*{re.escape(handle)}\s*<|\"{re.escape(handle)}\")"
        if re.search(pattern, text, flags=re.IGNORECASE):
            found.append(handle)
    return found


def test_run_on_the_2021_archive_publishes_a_complete_site(published_2021, capsys):
    names = {p.name for p in published_2021.iterdir()}
    assert "index.html" in names and "01-load-and-validate.html" in names
    assert not any(name.endswith((".ipynb", ".parquet")) for name in names), "working files must stay private"
    index = (published_2021 / "index.html").read_text()
    headline = json.loads((published_2021 / "01-load-and-validate.results.json").read_text())["headline"]
    assert headline["mutual_pairs"] == 25
    assert f"{headline['follows']:,}" in index
    coverage = json.loads((published_2021 / "01-load-and-validate.results.json").read_text())["details"]["coverage"]
    assert coverage["engagement_observed"] == "owner_outgoing"
    # The limits of the source are stated in plain words on every page.
    for page in published_2021.glob("*.html"):
        assert "only from the owner to others" in page.read_text(), page.name


def test_the_personal_export_reads_plainly_and_says_what_it_cannot_answer(published_2021):
    """A newcomer reading the index of a personal export learns what was found and what the export could not show."""
    from test_answers import UNREADABLE, visible_text

    for page in sorted(published_2021.glob("*.html")):
        text = visible_text(page.read_text(encoding="utf-8"))
        found = UNREADABLE.search(text)
        assert not found, f"{page.name}: {text[max(0, found.start() - 80) : found.end() + 40]!r}"
    index = " ".join(visible_text((published_2021 / "index.html").read_text(encoding="utf-8")).split())
    assert "A personal export: it shows who follows the owner and whom the owner follows" in index
    assert "The owner engaged with" in index and "Whether mutual pairs engage both ways cannot be seen here" in index
    assert "Does a follow-back predict more engagement? The owner engages" in index
    assert "Whether others engage more with the owner once followed back cannot be seen, because a personal export" in index
    assert "a default, not a value measured on these data" in index


def test_published_files_carry_no_raw_identity_but_the_owners(published_2021):
    dataset = StudyDataset.load(private_dir(published_2021) / "dataset")
    ids, handles = identities_in(dataset)
    assert len(ids) > 900 and len(handles) > 500  # the scan below has something to find
    for path in published_2021.iterdir():
        found = leaks(path.read_text(encoding="utf-8"), ids, handles)
        assert not found, f"{path.name} shows {found[:5]}"


def test_published_files_show_no_local_path_and_the_private_recipe_keeps_it(published_2021):
    import yaml

    archive = needs_shared_data(*ARCHIVE_2021)
    for path in published_2021.iterdir():
        text = path.read_text(encoding="utf-8")
        assert str(archive.parent) not in text and str(published_2021) not in text, path.name
    assert yaml.safe_load((published_2021 / "params.yaml").read_text())["inputs"] == [archive.name]
    assert yaml.safe_load((private_dir(published_2021) / "params.yaml").read_text())["inputs"] == [str(archive.resolve())]


def test_the_owner_email_never_enters_the_dataset():
    archive = needs_shared_data(*ARCHIVE_2023)
    assert OWNER_EMAIL in (archive / "data" / "account.js").read_text()
    dataset = load_dataset(archive)
    stored = json.dumps([asdict(dataset.coverage), asdict(dataset.provenance), asdict(dataset.validation)])
    tables = [dataset.accounts, dataset.follows, dataset.interactions]
    assert OWNER_EMAIL not in stored
    assert not any(table.astype(str).apply(lambda column: column.str.contains(OWNER_EMAIL, regex=False)).any().any() for table in tables)


def test_reveal_names_is_an_opt_in_that_shows_handles(tmp_path):
    archive = needs_shared_data(*ARCHIVE_2021)
    out = tmp_path / "revealed"
    assert main(["run", str(archive), "--out", str(out), "--reveal-names", "-p", "ego_list_rows=5"]) == 0
    dataset = StudyDataset.load(private_dir(out) / "dataset")
    _, handles = identities_in(dataset)
    shown = "".join(p.read_text() for p in out.glob("*.html"))
    assert leaks(shown, set(), handles), "with --reveal-names the ego lists should show handles"


def test_run_with_bad_input_fails_with_the_file_and_line(tmp_path, capsys):
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "follows.csv").write_text("follower_id,followee_id,followed_at\n1,2,tomorrow\n")
    assert main(["run", str(folder), "--out", str(tmp_path / "site")]) == 2
    assert "line 2, field 'followed_at'" in capsys.readouterr().err


def test_two_snapshots_of_one_account_publish_a_site_that_says_what_changed(tmp_path):
    """Two X archives of one account, years apart: the run publishes, with no local path, and says what changed."""
    from test_answers import UNREADABLE, visible_text

    earlier, later = needs_shared_data(*ARCHIVE_2021), needs_shared_data(*ARCHIVE_2023)
    out = tmp_path / "two-snapshots"
    assert main(["run", str(earlier), str(later), "--out", str(out)]) == 0
    for path in out.iterdir():
        text = path.read_text(encoding="utf-8")
        assert str(earlier.parent) not in text and str(tmp_path) not in text, path.name
        if path.suffix == ".html":
            found = UNREADABLE.search(visible_text(text))
            assert not found, f"{path.name}: {found.group(0)!r}"
    page = " ".join(visible_text((out / "02-reciprocity.html").read_text(encoding="utf-8")).split())
    changes = json.loads((out / "02-reciprocity.results.json").read_text())["details"]["snapshot_changes"]
    assert len(changes) == 1 and changes[0]["from"] == "2021-03-22" and changes[0]["to"] == "2023-08-20"
    # The counts are accounts, and they add up: start + new - lost = end.
    row = changes[0]
    assert row["followers at the start"] + row["new followers"] - row["followers lost"] == row["followers at the end"]
    assert f"From 2021-03-22 to 2023-08-20 ({row['days']:,} days): followers went from {row['followers at the start']:,}" in page
    assert "the status of the snapshot nearest in time to each engagement" in page
    assert "Follow times are not known" not in page


def test_an_archive_without_tweets_or_likes_says_not_observable_never_zero(tmp_path):
    """Without tweets and likes nothing says whom the owner engaged with: no 0%, no list of 'dormant' mutuals."""
    import shutil

    from test_answers import visible_text

    from reciprocity_utils.site_check import check_site, find_browser

    archive = tmp_path / "archive"
    shutil.copytree(needs_shared_data(*ARCHIVE_2021), archive)
    for name in ("tweet.js", "like.js"):
        (archive / "data" / name).unlink()
    out = tmp_path / "site"
    assert main(["run", str(archive), "--out", str(out)]) == 0
    pages = {p.name: " ".join(visible_text(p.read_text(encoding="utf-8")).split()) for p in out.glob("*.html")}
    assert "share of mutuals the owner engaged with not observable" in pages["index.html"]
    for name, text in pages.items():
        assert not re.search(r"engaged with 0(\.0)?%", text), name
        assert "dormant mutuals" not in text.lower() or "no engagement is recorded" in text.lower(), name
    if find_browser():
        problems = check_site(out)
        assert not problems, "\n".join(map(str, problems))


def test_the_personal_export_card_of_study_04_shows_the_owners_replay_not_the_generic_preset(published_2021):
    from test_answers import visible_text

    index_html = (published_2021 / "index.html").read_text(encoding="utf-8")
    index = " ".join(visible_text(index_html).split())
    card = index[index.index("04 · Follow everyone") :]
    replay = json.loads((published_2021 / "04-follow-strategies.results.json").read_text())["details"]["replay"]
    assert card.startswith("04 · Follow everyone")
    assert f"On the owner's {replay['candidates']:,} real followers, {replay['valued']:,} were engaged with by the owner" in card
    assert "In a generic simulation, not calibrated on this export" in card
    assert "counted on the owner's own followers" in card
    # The card's picture is the replay on the owner's followers (its caption is the thumbnail's alternative text).
    import html

    alts = [html.unescape(alt) for alt in re.findall(r"alt='(Key figure of 04[^']*)'", index_html)]
    assert len(alts) == 1 and "applied to the owner's real followers" in alts[0], alts
    # The handle-level lists to act on stay private.
    assert not (published_2021 / "02-reciprocity.ego-lists.csv").exists()
    assert (private_dir(published_2021) / "02-reciprocity.ego-lists.csv").exists()

"""The rendered pages as a reader's browser shows them.

Three reports are opened page by page in headless Chromium: the bundled sample, a real whole
network (UCD football) and a real personal export (an X archive). The check reads the DOM the
browser built, so text the browser took for a tag (a missing value written as ``<NA>``) is caught
even though it shows nothing. Screenshots stay in each report's private folder for review.
"""

from __future__ import annotations

import base64
import io
import re
import shutil

import pytest

from reciprocity_utils.cli import main
from reciprocity_utils.paths import private_dir
from reciprocity_utils.site_check import check_site, find_browser, image_problems, text_problems

pytestmark = pytest.mark.notebook
BROWSER = find_browser()
needs_browser = pytest.mark.skipif(BROWSER is None, reason="Chromium is not installed (apt-get install chromium to run this check)")
REMOTE_RESOURCE = re.compile(r"<(script|link|img)[^>]+(src|href)=[\"']https?://", re.IGNORECASE)
GOOD_PAGE = "<html><head><title>02 · How reciprocal</title></head><body><p>{}</p></body></html>"


def png(colours: int) -> str:
    from PIL import Image

    image = Image.new("L", (64, 64), 255)
    for x in range(colours):
        image.putpixel((x, x), x * 4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.mark.parametrize(
    ("text", "what"),
    [
        ("share between other accounts is <na></na>.", "unknown tag <na>"),
        ("the median is nan days", "missing-value word"),
        ("the owner is None", "missing-value word"),
        ("as the notes say..", "doubled full stop"),
        ("p = 6.766e-113", "scientific notation"),
        ("Timestamp('2021-03-22 00:00:00')", "Python representation"),
        ("{'follows': 3}", "Python representation"),
    ],
)
def test_the_check_finds_what_a_reader_would_trip_over(text, what):
    problems = text_problems("page.html", GOOD_PAGE.format(text))
    assert any(what in problem.what for problem in problems), problems


def test_the_check_passes_plain_english_and_finds_headers_titles_and_figures():
    assert text_problems("page.html", GOOD_PAGE.format("None of the owner's likes have a time. Ratio 3.73 … done.")) == []
    assert "variable name" in str(text_problems("p", GOOD_PAGE.format("<table><tr><th>a_followers_excl_b</th></tr></table>")))
    assert "no title" in str(text_problems("p", "<html><head><title>Notebook</title></head><body>x</body></html>"))
    flat, drawn = png(0), png(40)
    assert [p.what for p in image_problems("p", f"<img src='data:image/png;base64,{drawn}' alt='Followers over time'>")] == []
    found = [p.what for p in image_problems("p", f"<img src='data:image/png;base64,{flat}'>")]
    assert found == ["figure 1 has no alt text", "figure 1 is empty (almost one flat colour)"]


@needs_browser
def test_a_hidden_missing_value_is_caught_in_the_browser_and_the_cli_exits_1(tmp_path, capsys):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text(GOOD_PAGE.format("Reciprocity between other accounts is <NA>."), encoding="utf-8")
    problems = check_site(site)
    assert [p.what for p in problems] == ["text taken for an unknown tag <na> (hidden from the reader)"]
    assert main(["check", str(site)]) == 1
    out = capsys.readouterr().out
    assert "index.html: text taken for an unknown tag <na>" in out and "1 problems" in out
    assert (private_dir(site) / "screenshots" / "index.png").stat().st_size > 0


def test_check_without_a_report_folder_is_one_line(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == 2
    assert "not a report folder" in capsys.readouterr().err


@pytest.fixture(params=["sample", "whole network", "personal export"])
def report_folder(request):
    return {
        "sample": lambda: request.getfixturevalue("sample_report").output_dir,
        "whole network": lambda: request.getfixturevalue("published_football"),
        "personal export": lambda: request.getfixturevalue("published_2021"),
    }[request.param]()


def test_pages_load_nothing_from_the_network(report_folder):
    for page in report_folder.glob("*.html"):
        assert not REMOTE_RESOURCE.search(page.read_text(encoding="utf-8")), f"{page.name} fetches a remote resource"


@needs_browser
def test_every_page_reads_cleanly_in_a_browser_and_screenshots_are_kept(report_folder):
    shots = private_dir(report_folder) / "screenshots"
    shutil.rmtree(shots, ignore_errors=True)
    problems = check_site(report_folder, shots)
    assert not problems, "\n".join(map(str, problems))
    pages = sorted(p.stem for p in report_folder.glob("*.html"))
    assert len(pages) == 5 and sorted(p.stem for p in shots.glob("*.png")) == pages
    from PIL import Image

    for shot in shots.glob("*.png"):
        histogram = Image.open(shot).convert("L").histogram()
        # A blank page is one flat colour; a rendered report has text and figures in many greys.
        assert sum(1 for count in histogram if count) > 50 and max(histogram) / sum(histogram) < 0.97, f"{shot.name} looks blank"


def test_the_index_of_every_report_answers_each_question_in_a_sentence(report_folder):
    from reciprocity_utils.answers import study_answer
    from reciprocity_utils.report import read_results
    from reciprocity_utils.site_check import visible_text

    index = visible_text((report_folder / "index.html").read_text(encoding="utf-8"))
    stems = sorted(p.name.removesuffix(".results.json") for p in report_folder.glob("*.results.json"))
    assert len(stems) == 4
    for stem in stems:
        answer = study_answer(stem, read_results(report_folder, stem))
        text = " ".join(answer.text.split())
        assert answer.question in index and text in index, stem
        # An answer is a sentence: it ends with a full stop and says something (or why it cannot).
        assert text.endswith(".") and len(text.split()) >= 8, text


def test_study_04_states_where_its_engagement_multiplier_came_from_and_its_range(report_folder):
    from reciprocity_utils.report import read_results
    from reciprocity_utils.site_check import visible_text

    calibration = read_results(report_folder, "04-follow-strategies")["details"]["rate_ratio_calibration"]
    page = visible_text((report_folder / "04-follow-strategies.html").read_text(encoding="utf-8"))
    stated = page[page.index("Engagement multiplier for mutual pairs:") :][:600]
    study_03 = read_results(report_folder, "03-followback-engagement")["headline"]
    if study_03.get("adjusted_irr") is None:
        assert calibration["case"] == "default" and "a default" in stated
    else:
        # Study 03's estimate is an effect only where its timing design said so; else a range from 1 up to it.
        assert calibration["case"] in ("association", "effect") and calibration["point"] == study_03["adjusted_irr"]
        if calibration["case"] == "association":
            assert f"drawn between 1 (no effect) and the association, {calibration['point']:.2f}" in stated
        else:
            assert f"drawn from {calibration['low']:.2f} to {calibration['high']:.2f}" in stated

"""The rendered pages as a reader's browser shows them: they load, fetch nothing remote, and are not blank."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

pytestmark = pytest.mark.notebook
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
REMOTE_RESOURCE = re.compile(r"<(script|link|img)[^>]+(src|href)=[\"']https?://", re.IGNORECASE)


@pytest.fixture
def site(sample_report):
    return sample_report


def test_pages_load_nothing_from_the_network(site):
    for page in site.output_dir.glob("*.html"):
        assert not REMOTE_RESOURCE.search(page.read_text(encoding="utf-8")), f"{page.name} fetches a remote resource"


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium to run this check)")
def test_pages_render_in_headless_chromium_and_are_not_blank(site, tmp_path):
    from PIL import Image

    for page in sorted(site.output_dir.glob("*.html")):
        shot = tmp_path / f"{page.stem}.png"
        profile = tmp_path / f"profile-{page.stem}"
        done = subprocess.run(
            [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1000,1400", f"--screenshot={shot}", page.as_uri()],
            capture_output=True, text=True, timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        image = Image.open(shot).convert("L")
        histogram = image.histogram()
        # A blank page is one flat colour; a rendered report has text and figures in many greys.
        assert sum(1 for count in histogram if count) > 50, f"{page.name} looks blank"
        assert max(histogram) / sum(histogram) < 0.97, f"{page.name} is almost entirely one colour"

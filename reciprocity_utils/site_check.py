"""A reader's check of a published report, in a real browser.

Each page is opened in headless Chromium; the check reads the DOM the browser built (not the HTML
file), because that is where a reader's problems show: a missing value written as ``<NA>`` is
parsed as an unknown element and silently disappears, leaving "… between other accounts is ."
The check fails on what a reader would trip over: hidden tags, missing-value words (nan, None,
NaT), doubled full stops, scientific notation, Python reprs, variable names in table headers,
figures without alt text or that are one flat colour, and pages without a title of their own.
Screenshots of every page are kept for a person to look at (under the report's private folder
when run from the command line).
"""

from __future__ import annotations

import base64
import html
import io
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
# The elements the pages are made of; anything else in the DOM is text the browser took for a tag.
KNOWN_ELEMENTS = frozenset(
    """
a abbr aside b blockquote body br caption code col colgroup dd del details div dl dt em figcaption
figure footer h1 h2 h3 h4 h5 h6 head header hr html i img ins kbd label li link main meta nav ol p
pre q s section small span strong style sub summary sup table tbody td tfoot th thead title tr u ul
svg g path rect circle line polyline polygon text tspan defs clippath use
""".split()
)
# "None" opens English sentences ("None of the …"); as a value it stands alone.
MISSING_WORDS = re.compile(r"(?<![\w-])(nan|NaN|NaT|<NA>|None(?!\s+[a-z]))(?![\w-])")
DOUBLED_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")
EXPONENT = re.compile(r"\d\.?\d*e[-+]\d+", re.IGNORECASE)
PYTHON_REPR = re.compile(
    r"\b(DataFrame|Series|Timestamp|Timedelta|Index|array|dtype)\(|<[\w.]+ object at 0x[0-9a-f]+>|\bdtype: \w+"
    r"|\{'\w+': |\[np\.\w+\(|\bnp\.(float|int)\d*\("
)
TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
IMAGE = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
HEADER_CELL = re.compile(r"<th\b[^>]*>(.*?)</th>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Problem:
    """One thing a reader would trip over: the page, what it is, and the text around it."""

    page: str
    what: str
    excerpt: str = ""

    def __str__(self) -> str:
        return f"{self.page}: {self.what}" + (f": {self.excerpt!r}" if self.excerpt else "")


def find_browser() -> str | None:
    """The path of a Chromium-family browser, or None."""
    return next((found for name in BROWSER_NAMES if (found := shutil.which(name))), None)


def _run_browser(browser: str, page: Path, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [browser, *BROWSER_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()],
        capture_output=True,
        text=True,
        timeout=180,
    )


def visible_text(dom: str) -> str:
    """What a reader sees: the text outside tags, styles and scripts, entities decoded, spaces collapsed."""
    dom = re.sub(r"<(script|style|title)[^>]*>.*?</\1>", " ", dom, flags=re.S | re.I)
    dom = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "", dom)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", dom)).split())


def _around(text: str, match: re.Match) -> str:
    return text[max(0, match.start() - 60) : match.end() + 40]


def text_problems(page: str, dom: str) -> list[Problem]:
    """Problems in the words of one rendered page."""
    problems = []
    unknown = sorted({t.lower() for t in TAG.findall(dom)} - KNOWN_ELEMENTS)
    for tag in unknown:
        problems.append(Problem(page, f"text taken for an unknown tag <{tag}> (hidden from the reader)"))
    text = visible_text(dom)
    for pattern, what in (
        (MISSING_WORDS, "a missing-value word"),
        (DOUBLED_STOP, "a doubled full stop"),
        (EXPONENT, "a number in scientific notation"),
        (PYTHON_REPR, "a Python representation"),
    ):
        found = pattern.search(text)
        if found:
            problems.append(Problem(page, what, _around(text, found)))
    for cell in HEADER_CELL.findall(dom):
        label = visible_text(cell)
        if re.search(r"\w_\w", label):
            problems.append(Problem(page, "a table header that is a variable name", label))
    title = re.search(r"<title>(.*?)</title>", dom, flags=re.S | re.I)
    if not title or not title.group(1).strip() or title.group(1).strip() == "Notebook":
        problems.append(Problem(page, "the page has no title of its own", title.group(1).strip() if title else ""))
    return problems


def image_problems(page: str, dom: str) -> list[Problem]:
    """Figures a reader cannot use: no alt text, or one flat colour (an empty chart)."""
    from PIL import Image

    problems = []
    for number, tag in enumerate(IMAGE.findall(dom), start=1):
        alt = re.search(r"\balt=(\"[^\"]*\"|'[^']*')", tag)
        if not alt or not alt.group(1).strip("\"' "):
            problems.append(Problem(page, f"figure {number} has no alt text"))
        data = re.search(r"src=[\"']data:image/png;base64,([A-Za-z0-9+/=]+)", tag)
        if data:
            image = Image.open(io.BytesIO(base64.b64decode(data.group(1)))).convert("L")
            histogram = image.histogram()
            if max(histogram) / sum(histogram) > 0.995 or sum(1 for count in histogram if count) < 8:
                problems.append(Problem(page, f"figure {number} is empty (almost one flat colour)"))
    return problems


def check_site(folder: Path, screenshots: Path | None = None, browser: str | None = None) -> list[Problem]:
    """Open every page of a published report in headless Chromium and list what a reader would trip over.

    ``screenshots``: a folder to keep a full-width screenshot of each page in, for a person to
    look at. Raises RuntimeError when no Chromium-family browser is installed.
    """
    browser = browser or find_browser()
    if browser is None:
        raise RuntimeError("no Chromium-family browser is installed (on Debian or Ubuntu: apt-get install chromium)")
    pages = sorted(Path(folder).glob("*.html"))
    if not pages:
        return [Problem(str(folder), "holds no page to check")]
    if screenshots is not None:
        screenshots.mkdir(parents=True, exist_ok=True)
    problems: list[Problem] = []
    with tempfile.TemporaryDirectory(prefix="site-check-") as work:
        for page in pages:
            profile = Path(work) / f"profile-{page.stem}"
            done = _run_browser(browser, page, profile, "--dump-dom")
            if done.returncode != 0 or "<body" not in done.stdout:
                problems.append(Problem(page.name, "the browser could not render it", done.stderr.strip()[-300:]))
                continue
            problems += text_problems(page.name, done.stdout) + image_problems(page.name, done.stdout)
            if screenshots is not None:
                _run_browser(
                    browser,
                    page,
                    profile,
                    "--hide-scrollbars",
                    "--window-size=1200,2400",
                    f"--screenshot={screenshots / (page.stem + '.png')}",
                )
    return problems

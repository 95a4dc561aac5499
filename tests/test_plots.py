"""How numbers appear in published tables."""

import re

import numpy as np
import pandas as pd
import pytest

from reciprocity_utils.plots import format_value, table_html


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (10090.0, "10,090"),
        (np.float64(1234567.8), "1,234,568"),
        (12345, "12,345"),
        (np.int64(7), "7"),
        (2.46612, "2.466"),
        (0.5614, "0.5614"),
        (1.133e-12, "< 0.000001"),
        (1.234e-5, "0.0000123"),
        (-2500.4, "-2,500"),
        (float("nan"), "—"),
        (None, "—"),
        (float("inf"), "inf"),
        (True, "yes"),
        ("text", "text"),
    ],
)
def test_format_value(value, shown):
    assert format_value(value) == shown


def test_table_html_formats_numbers_and_aligns_them_right():
    html = table_html({"events": 10090.0, "share": 0.56142, "kind": "reply"})
    assert "10,090" in html and "0.5614" in html and "e+04" not in html


def test_the_activity_caption_says_when_the_first_and_last_weeks_are_partial():
    from reciprocity_utils.plots.dataset import _partial_weeks

    # Wednesday noon to Tuesday 06:00: 4.5 days in the first week, 1.25 in the last.
    text = _partial_weeks(pd.Series(pd.to_datetime(["2024-01-03 12:00", "2024-02-06 06:00"], utc=True)))
    assert "first week holds 4.5 days" in text and "last week 1.2 days" in text
    # Monday 00:00 to Sunday 23:59 two weeks later: whole weeks, nothing to say.
    assert _partial_weeks(pd.Series(pd.to_datetime(["2024-01-01 00:00", "2024-01-14 23:59"], utc=True))) == ""


def test_table_headers_never_show_a_variable_name():
    import pandas as pd

    shown = table_html(pd.DataFrame({"daily_hazard": [0.001], "hazard_ci_low": [0.0005], "some_new_column": [3]}))
    assert "daily hazard of leaving" in shown and "95% interval, low" in shown
    assert "_" not in "".join(re.findall(r"<th[^>]*>(.*?)</th>", shown))


def test_null_figure_zooms_in_where_the_randomized_networks_are_a_sliver():
    """A sparse network: randomized r near 0.0001 beside an observed 0.40, the bars need an inset and the words digits."""
    from reciprocity_utils import metrics
    from reciprocity_utils.null_models import NullModel
    from reciprocity_utils.plots.reciprocity import null_distribution
    from reciprocity_utils.wording import decimal

    rng = np.random.default_rng(0)
    far = NullModel(0.40, rng.normal(0.00011, 0.00002, 100), 0, 10)
    figure = null_distribution(far)
    assert len(figure.figure.axes[0].child_axes) == 1 and "inset zooms in" in figure.caption
    assert "0.00011 ±" in metrics.in_words(far) and "0.0000 " not in metrics.in_words(far)
    near = NullModel(0.05, rng.normal(0.04, 0.004, 100), 0, 10)
    figure = null_distribution(near)
    assert not figure.figure.axes[0].child_axes and "inset" not in figure.caption
    assert [decimal(v) for v in (0.00011, 2.1e-05, 0.4006, 0.0)] == ["0.00011", "0.000021", "0.4006", "0.0000"]

"""Step times and progress lines: kept out of the results and out of the published pages."""

from __future__ import annotations

import time

import nbformat

from reciprocity_utils import stopwatch
from reciprocity_utils.site import drop_progress_lines


def test_steps_are_timed_in_order_and_a_failing_step_is_still_recorded():
    stopwatch.reset()
    with stopwatch.timed("first", observations=10):
        time.sleep(0.01)
    try:
        with stopwatch.timed("second"):
            raise ValueError("boom")
    except ValueError:
        pass
    steps = stopwatch.step_times()
    assert [s["step"] for s in steps] == ["first", "second"]
    assert steps[0]["observations"] == 10 and steps[0]["seconds"] >= 0.01
    assert steps[1]["observations"] is None


def test_only_steps_still_running_after_the_delay_announce_themselves(monkeypatch, capsys):
    monkeypatch.setattr(stopwatch, "ANNOUNCE_AFTER_SECONDS", 0.05)
    monkeypatch.delenv(stopwatch.PROGRESS_ENV, raising=False)
    with stopwatch.timed("silent without the runner"):
        time.sleep(0.1)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(stopwatch.PROGRESS_ENV, "1")
    with stopwatch.timed("quick"):
        pass
    with stopwatch.timed("slow", observations=1234):
        time.sleep(0.2)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{stopwatch.PROGRESS_MARK}slow (1,234 observations) ..."
    assert lines[1].startswith(f"{stopwatch.PROGRESS_MARK}slow: done in ") and len(lines) == 2


def test_progress_lines_are_dropped_from_pages_and_other_stderr_is_kept():
    mark = stopwatch.PROGRESS_MARK
    cell = nbformat.v4.new_code_cell("x")
    cell.outputs = [
        nbformat.v4.new_output("stream", name="stderr", text=f"{mark}model: a ...\n{mark}model: a: done in 4 s\n"),
        nbformat.v4.new_output("stream", name="stderr", text=f"{mark}step ...\na real warning\n"),
        nbformat.v4.new_output("stream", name="stdout", text=f"{mark}printed by the study itself\n"),
    ]
    notebook = nbformat.v4.new_notebook(cells=[cell])
    drop_progress_lines(notebook)
    outputs = notebook.cells[0].outputs
    assert [(o.name, o.text) for o in outputs] == [("stderr", "a real warning\n"), ("stdout", f"{mark}printed by the study itself\n")]

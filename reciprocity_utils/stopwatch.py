"""How long each step of a study took, and a line when a long step starts.

Kept apart from the study's results, which must be identical from run to run: the report runner
folds these times into ``run.json`` (the run's provenance), beside each notebook's total. When
the runner shows progress it sets :data:`PROGRESS_ENV` in the kernels' environment, and a step
still running after a few seconds writes a line to the kernel's stderr (and another when it
ends); the runner streams those lines to the terminal and leaves them out of the published pages.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

PROGRESS_ENV = "RECIPROCITY_PROGRESS"
PROGRESS_MARK = "[progress] "

F = TypeVar("F", bound=Callable[..., Any])

_steps: list[dict[str, Any]] = []


# A step announces itself once it has run this long: quick steps stay silent, and a long one
# shows what the kernel is doing while it runs, then how long it took.
ANNOUNCE_AFTER_SECONDS = 3.0


def _say(line: str) -> None:
    print(f"{PROGRESS_MARK}{line}", file=sys.stderr, flush=True)


@contextmanager
def timed(step: str, observations: int | None = None) -> Iterator[None]:
    """Time the block as ``step`` (in words: "model: adjusted"), on ``observations`` rows when given."""
    size = f" ({observations:,} observations)" if observations is not None else ""
    announcer = None
    if os.environ.get(PROGRESS_ENV):
        announcer = threading.Timer(ANNOUNCE_AFTER_SECONDS, _say, args=(f"{step}{size} ...",))
        announcer.daemon = True
        announcer.start()
    started = time.perf_counter()
    try:
        yield
    finally:
        seconds = time.perf_counter() - started
        _steps.append({"step": step, "observations": observations, "seconds": round(seconds, 3)})
        if announcer is not None:
            announcer.cancel()
            if seconds >= ANNOUNCE_AFTER_SECONDS:
                _say(f"{step}: done in {seconds:,.0f} s")


def step_times() -> list[dict[str, Any]]:
    """Every timed step of this process so far, in order."""
    return [dict(step) for step in _steps]


def reset() -> None:
    _steps.clear()


def timed_step(step: str) -> Callable[[F], F]:
    """Decorate a study step (a function) so each call is timed as ``step``."""

    def decorate(function: F) -> F:
        @functools.wraps(function)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with timed(step):
                return function(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate

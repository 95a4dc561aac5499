"""Reciprocity on social networks: load follow data, measure follow-backs and engagement, publish reports.

Data flows one way: export -> :class:`StudyDataset` (``io``, ``model``) -> studies (notebooks
calling this package) -> rendered reports (``report``). The public API is listed in ``__all__``.
"""

import importlib
from typing import Any

from .model import (
    INTERACTION_KINDS,
    Coverage,
    DatasetValidationError,
    Provenance,
    RawTable,
    StudyDataset,
    ValidationReport,
    build_dataset,
)
from .paths import PROJECT_ROOT, SAMPLE_DIR, resolve_path

# Imported when first used (PEP 562), so `reciprocity --help` or `load` does not pay for
# statsmodels, scipy, matplotlib and papermill: ``ru.inference`` and
# ``from reciprocity_utils import load_dataset`` work as before.
_SUBMODULES = ("dyads", "inference", "metrics", "plots", "privacy", "strategies", "synthetic")
_NAMES = {
    "detect_format": "io",
    "load_dataset": "io",
    "load_paths": "io",
    "ParameterError": "parameters",
    "check_parameters": "parameters",
    "open_input": "parameters",
    "whole_network_dyads": "parameters",
    "pseudonymizer_for": "privacy",
    "dataset_details": "report",
    "read_results": "report",
    "record_results": "report",
    "record_step_times": "report",
    "run_report": "report",
}


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    elif name in _NAMES:
        value = getattr(importlib.import_module(f".{_NAMES[name]}", __name__), name)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_SUBMODULES, *_NAMES})


def _installed_version() -> str:
    """The version in the package's metadata (pyproject.toml is its only source)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("reciprocity-utils")
    except PackageNotFoundError:  # imported from a checkout that was never installed
        return "unknown (not installed: pip install -e .)"


__version__ = _installed_version()

__all__ = [
    # study modules, for notebooks: metrics (02), dyads and inference (03), strategies (04), plots, privacy, synthetic
    "dyads",
    "inference",
    "metrics",
    "plots",
    "privacy",
    "strategies",
    "synthetic",
    "INTERACTION_KINDS",
    "PROJECT_ROOT",
    "SAMPLE_DIR",
    "Coverage",
    "DatasetValidationError",
    "ParameterError",
    "Provenance",
    "RawTable",
    "StudyDataset",
    "ValidationReport",
    "build_dataset",
    "check_parameters",
    "dataset_details",
    "detect_format",
    "load_dataset",
    "load_paths",
    "open_input",
    "pseudonymizer_for",
    "read_results",
    "record_results",
    "record_step_times",
    "resolve_path",
    "run_report",
]

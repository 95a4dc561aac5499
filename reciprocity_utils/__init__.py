"""Reciprocity on social networks: load follow data, measure follow-backs and engagement, publish reports.

Data flows one way: export -> :class:`StudyDataset` (``io``, ``model``) -> studies (notebooks
calling this package) -> rendered reports (``report``). The public API is listed in ``__all__``.
"""

from . import dyads, inference, metrics, plots, privacy, strategies, synthetic
from .io import detect_format, load_dataset, load_paths
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
from .parameters import ParameterError, check_parameters, open_input
from .paths import PROJECT_ROOT, SAMPLE_DIR, resolve_path
from .privacy import pseudonymizer_for
from .report import dataset_details, read_results, record_results, run_report



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
    "resolve_path",
    "run_report",
]

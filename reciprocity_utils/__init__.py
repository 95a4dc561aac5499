"""Reciprocity on social networks: load follow data, measure follow-backs and engagement, publish reports.

Data flows one way: export -> :class:`StudyDataset` (``io``, ``model``) -> studies (notebooks
calling this package) -> rendered reports (``report``). The public API is listed in ``__all__``.
"""

from .io import detect_format, load_dataset
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
from .report import dataset_details, read_results, record_results, run_report

__version__ = "0.1.0"

__all__ = [
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
    "open_input",
    "read_results",
    "record_results",
    "resolve_path",
    "run_report",
]

"""Checking a notebook's parameters cell, so a wrong value fails loudly with a useful message."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .io import FORMATS
from .paths import private_dir, publishable_text, resolve_path

SYNTHETIC_INPUT = "synthetic"


class ParameterError(ValueError):
    """A parameter a user set has a value the study cannot use."""


@dataclass(frozen=True)
class StudyParameters:
    input_path: Path | None  # None when the input is generated (input_path == "synthetic")
    input_format: str
    owner_id: str | None
    output_dir: Path
    seed: int

    @property
    def dataset_dir(self) -> Path:
        """Where 01-load-and-validate saves the dataset (raw ids: kept outside the publishable report)."""
        return private_dir(self.output_dir) / "dataset"


def check_parameters(input_path: str, input_format: str, owner_id: str | int | None, output_dir: str, seed: int) -> StudyParameters:
    """Validate the shared study parameters; relative paths are taken from the project root."""
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise ParameterError(f"seed must be a whole number of at least 0, not {seed!r}")
    if input_format not in FORMATS:
        raise ParameterError(f"input_format must be one of {', '.join(FORMATS)}, not {input_format!r}")
    if isinstance(owner_id, float):
        raise ParameterError("owner_id must be written as text in quotes: a float cannot hold a 64-bit id exactly")
    owner = str(owner_id).strip() if owner_id not in (None, "") else None
    if not output_dir:
        raise ParameterError("output_dir must name a folder for the study's outputs")
    if input_path == SYNTHETIC_INPUT:
        path = None
    else:
        path = resolve_path(input_path)
        if not path.exists():
            raise ParameterError(f"input_path {input_path!r} does not exist (looked at {path})")
    return StudyParameters(path, input_format, owner, resolve_path(output_dir), seed)


def open_input(params: StudyParameters):
    """The validated study dataset the parameters point at (or a generated one for ``synthetic``)."""
    from .io import load_dataset

    if params.input_path is None:
        from .synthetic import generate_network, network_dataset

        return network_dataset(generate_network(seed=params.seed))
    dataset = load_dataset(params.input_path, format=params.input_format, owner_id=params.owner_id)
    # Loaders name files by full path in notes and sources; a page shows them by name only.
    return dataset.with_text_mapped(lambda text: publishable_text(text, [str(params.input_path)]))

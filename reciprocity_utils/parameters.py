"""Checking a notebook's parameters cell, so a wrong value fails loudly with a useful message."""

from __future__ import annotations

import re
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
    # How 01-load-and-validate reads the input (see check_engine_parameters); the later studies
    # find what it saved.
    engine: str = "memory"
    engine_memory_limit: str = "4GB"
    subgraph_follows: int = 300_000

    @property
    def dataset_dir(self) -> Path:
        """Where 01-load-and-validate saves the dataset (raw ids: kept outside the publishable report)."""
        return private_dir(self.output_dir) / "dataset"


def check_parameters(
    input_path: str,
    input_format: str,
    owner_id: str | int | None,
    output_dir: str,
    seed: int,
    engine: str = "memory",
    engine_memory_limit: str = "4GB",
    subgraph_follows: int = 300_000,
) -> StudyParameters:
    """Validate the shared study parameters; relative paths are taken from the project root.

    ``engine``: ``memory`` loads the whole dataset (every study, every table); ``duckdb`` and
    ``spark`` measure a follow list too large to load (studies 01-02 on the whole network, 03-04
    on a random subgraph of about ``subgraph_follows`` follows); ``auto`` picks by input size.
    """
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
    check_engine_parameters(engine, engine_memory_limit, subgraph_follows, path)
    return StudyParameters(path, input_format, owner, resolve_path(output_dir), seed, engine, engine_memory_limit, subgraph_follows)


ENGINE_CHOICES = ("memory", "auto", "duckdb", "spark")
MEMORY_LIMIT = re.compile(r"^\s*\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)\s*$", re.IGNORECASE)


def check_engine_parameters(engine: str, memory_limit: str, subgraph_follows: int, path: Path | None) -> None:
    if engine not in ENGINE_CHOICES:
        raise ParameterError(f"engine must be one of {', '.join(ENGINE_CHOICES)}, not {engine!r}")
    if not isinstance(memory_limit, str) or not MEMORY_LIMIT.match(memory_limit):
        raise ParameterError(f"engine_memory_limit must be a size such as 4GB or 500MB, not {memory_limit!r}")
    if isinstance(subgraph_follows, bool) or not isinstance(subgraph_follows, int) or subgraph_follows < 2:
        raise ParameterError(f"subgraph_follows must be a whole number of at least 2, not {subgraph_follows!r}")
    if engine in ("duckdb", "spark") and path is None:
        raise ParameterError(f"the {engine} engine measures a follow file; the synthetic input is generated in memory (engine = memory)")


def spark_master() -> str:
    """The Spark master a report's engine uses: ``$RECIPROCITY_SPARK_MASTER`` (a cluster), else two local cores."""
    from .engines.spark_engine import spark_master_from_environment

    return spark_master_from_environment() or "local[2]"


def measured_engine(params: StudyParameters) -> str | None:
    """``duckdb`` or ``spark`` when the input is to be measured out of memory, else None (load it)."""
    if params.engine == "memory" or params.input_path is None:
        return None
    from .engines.network import is_measured_network_folder

    if is_measured_network_folder(params.input_path):
        return None
    from .engines.choice import measuring_engine

    return measuring_engine(params.input_path, params.engine)


def whole_network_dyads(params: StudyParameters):
    """Study 03's table of the whole network where an engine measured the input and counted its engagement, else None.

    A :class:`~reciprocity_utils.dyad_files.WholeNetworkDyads`: the table itself when it fits in
    memory, else only why the models use the random subgraph.
    """
    from .engines.network import DYADS_FOLDER, MeasuredNetwork, is_measured_network_folder

    if params.input_path is None:
        return None
    folder = params.input_path if is_measured_network_folder(params.input_path) else None
    if folder is None and measured_engine(params) is not None:
        folder = private_dir(params.output_dir) / "measured"  # where open_input measured it
    if folder is None or not is_measured_network_folder(folder):
        return None
    from .dyad_files import has_dyad_aggregates, load_whole_network_dyads

    if not has_dyad_aggregates(folder / DYADS_FOLDER):
        return None
    network = MeasuredNetwork.load(folder)
    return load_whole_network_dyads(
        folder / DYADS_FOLDER, network.counts(), network.validation, network.provenance, network.draw.sample_words()
    )


def open_input(params: StudyParameters, measured: bool = False):
    """The validated study dataset the parameters point at (or a generated one for ``synthetic``).

    A network measured out of memory (:mod:`reciprocity_utils.engines.network`) comes back as a
    :class:`~reciprocity_utils.engines.network.MeasuredNetwork` where the study reads one
    (``measured``: studies 01 and 02), and as its random subgraph's dataset elsewhere.
    """
    from .io import load_dataset

    engine = measured_engine(params)
    if engine is not None:
        from .engines.network import measure_network

        network = measure_network(
            params.input_path,
            private_dir(params.output_dir) / "measured",
            engine=engine,
            seed=params.seed,
            subgraph_follows=params.subgraph_follows,
            memory_limit=params.engine_memory_limit,
            spark_master=spark_master(),
            label=params.input_path.name,
        )
        return network if measured else network.subgraph_dataset()
    if params.input_path is not None:
        from .engines.network import MeasuredNetwork, is_measured_network_folder

        if is_measured_network_folder(params.input_path):
            network = MeasuredNetwork.load(params.input_path)
            return network if measured else network.subgraph_dataset()
    if params.input_path is None:
        from .synthetic import generate_network, network_dataset

        return network_dataset(generate_network(seed=params.seed))
    dataset = load_dataset(params.input_path, format=params.input_format, owner_id=params.owner_id)
    # Loaders name files by full path in notes and sources; a page shows them by name only.
    return dataset.with_text_mapped(lambda text: publishable_text(text, [str(params.input_path)]))

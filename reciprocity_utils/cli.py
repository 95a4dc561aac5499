"""The ``reciprocity`` command: make sample data, load and validate an input, render reports."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from .model import DatasetValidationError, StudyDataset
from .paths import PARAMS_DIR


def _print_dataset_summary(dataset: StudyDataset, detected: str) -> None:
    counts = dataset.counts()
    print(f"Detected format: {detected}")
    print(dataset.validation.summary())
    print("Coverage:")
    for sentence in dataset.coverage.describe():
        print(f"  - {sentence}")
    print("Counts:")
    for key, value in counts.items():
        print(f"  {key.replace('_', ' ')}: {'not observable' if value is None else f'{value:,}'}")


def cmd_load(args: argparse.Namespace) -> int:
    from .io import detect_format, load_dataset

    path = Path(args.path)
    detected = detect_format(path) if args.format == "auto" else args.format
    dataset = load_dataset(path, format=detected, owner_id=args.owner)
    _print_dataset_summary(dataset, detected)
    if args.out:
        folder = dataset.save(args.out)
        print(f"Saved the study dataset to {folder}")
    return 0


def cmd_sample(args: argparse.Namespace) -> int:
    from .synthetic import generate_network, write_generic

    network = generate_network(n_accounts=args.accounts, seed=args.seed)
    written = write_generic(network, Path(args.out))
    for path in written:
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")
    truth = network.truth
    print(
        f"{len(network.accounts):,} accounts, {len(network.follows):,} follows, "
        f"{len(network.interactions):,} interactions; planted mutual/one-way engagement ratio "
        f"{truth['planted']['mutual_rate_ratio']} (truth.json)"
    )
    return 0


def _parse_assignments(pairs: list[str]) -> dict:
    values = {}
    for pair in pairs:
        if "=" not in pair:
            raise SystemExit(f"-p expects key=value, got {pair!r}")
        key, raw = pair.split("=", 1)
        # YAML reads numbers and booleans as such; quote a value to keep it text.
        values[key.strip()] = yaml.safe_load(raw) if raw else ""
    return values


def cmd_report(args: argparse.Namespace) -> int:
    from .report import ReportError, read_params_file, run_report

    params = read_params_file(args.params)
    overrides = _parse_assignments(args.set or [])
    if "input_path" in overrides and overrides["input_path"] != "synthetic":
        # Paths typed on the command line are relative to where the user stands.
        overrides["input_path"] = str(Path(overrides["input_path"]).resolve())
    params.update(overrides)
    try:
        run = run_report(params, output_dir=args.out, with_code=args.with_code, timeout=args.timeout)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Report written in {run.seconds:.0f} s: {run.index}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reciprocity",
        description="Measure follow-back reciprocity and engagement on your own follow data, and render reports.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    load = sub.add_parser("load", help="load and validate an input, print a summary, optionally save it")
    load.add_argument("path", help="a folder in the generic format (follows.csv, ...) or a saved study dataset")
    load.add_argument("--format", default="auto", choices=["auto", "generic", "dataset"], help="input format (default: detect)")
    load.add_argument("--owner", default=None, help="account id of the export's owner, if any")
    load.add_argument("--out", default=None, help="save the validated study dataset (Parquet + dataset.json) to this folder")
    load.set_defaults(func=cmd_load)

    sample = sub.add_parser("sample", help="generate a synthetic network with planted, recorded truth")
    sample.add_argument("--out", required=True, help="folder to write accounts.csv, follows.csv, interactions.csv, truth.json")
    sample.add_argument("--accounts", type=int, default=300, help="number of accounts (default 300)")
    sample.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same files (default 0)")
    sample.set_defaults(func=cmd_sample)

    report = sub.add_parser("report", help="run every study notebook and render an HTML report")
    report.add_argument("--params", default=str(PARAMS_DIR / "sample.yaml"), help="parameters file (default params/sample.yaml)")
    report.add_argument("--out", default=None, help="output folder (default reports/<study>)")
    report.add_argument("-p", "--set", action="append", metavar="KEY=VALUE", help="override one parameter (repeatable)")
    report.add_argument("--with-code", action="store_true", help="keep code cells in the HTML (for teaching)")
    report.add_argument("--timeout", type=int, default=900, help="seconds one notebook cell may run (default 900)")
    report.set_defaults(func=cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DatasetValidationError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

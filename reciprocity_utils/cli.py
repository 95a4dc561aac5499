"""The ``reciprocity`` command: make sample data, load and validate an input, render reports."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import pandas as pd

from .model import DatasetValidationError, StudyDataset
from .paths import PARAMS_DIR
from .recipes import parse_assignment


def _print_dataset_summary(dataset: StudyDataset, detected: str) -> None:
    """What a user checks first: what was read, both follow directions, engagement, coverage, repairs."""
    counts = dataset.counts()
    owner = dataset.owner_id
    print(f"Detected format: {detected}")
    print(dataset.validation.summary())
    print("Counts:")
    print(f"  accounts: {counts['accounts']:,}")
    if owner is not None:
        followers = int((dataset.follows["followee_id"] == owner).sum())
        following = int((dataset.follows["follower_id"] == owner).sum())
        handle = dataset.accounts.loc[dataset.accounts["is_owner"], "handle"].iloc[0]
        print(f"  owner: {owner}" + ("" if pd.isna(handle) or handle == owner else f" (@{handle})"))
        print(f"  followers of the owner: {_known(followers, dataset.coverage.followers_known)}")
        print(f"  accounts the owner follows: {_known(following, dataset.coverage.following_known)}")
    print(f"  follows: {counts['follows']:,}")
    mutual = counts["mutual_pairs"]
    print(f"  mutual pairs: {'not observable (one follow direction is unknown)' if mutual is None else f'{mutual:,}'}")
    if counts["arc_reciprocity"] is not None:
        print(f"  share of follows returned (r): {counts['arc_reciprocity']:.4f}")
    kinds = ", ".join(f"{kind} {counts[f'events_{kind}']:,}" for kind in ("reply", "mention", "repost", "quote", "like"))
    print(f"  interactions: {counts['interaction_rows']:,} rows, {counts['interaction_events']:,} events ({kinds})")
    if len(dataset.follow_events):
        events = dataset.follow_events["event"].value_counts()
        print(
            f"  follow events between snapshots: {int(events.get('follow', 0)):,} follows began, {int(events.get('unfollow', 0)):,} ended"
        )
    print("Coverage:")
    for sentence in dataset.coverage.describe():
        print(f"  - {sentence}")


def _known(count: int, known: bool) -> str:
    return f"{count:,}" if known else "not known (the source does not list them)"


def cmd_load(args: argparse.Namespace) -> int:
    from .io import load_paths

    options = {name: getattr(args, name) for name in ("followers", "following", "lists") if getattr(args, name)}
    options.update(_parse_assignments(args.option or [], "--option"))
    if args.max_archive_mb is not None:
        if not (0 < args.max_archive_mb < 2**40):  # also refuses inf and nan
            raise ValueError(f"--max-archive-mb must be a positive number of megabytes, not {args.max_archive_mb!r}")
        options["max_archive_bytes"] = int(args.max_archive_mb * 2**20)
    dataset, detected = load_paths(args.paths, format=args.format, owner_id=args.owner, **options)
    _print_dataset_summary(dataset, detected)
    if args.out:
        folder = dataset.save(args.out)
        print(f"Saved the study dataset to {folder}")
    return 0


def cmd_measure(args: argparse.Namespace) -> int:
    from .engines import measure_follows
    from .paths import output_folder

    accounts_file = None
    if args.dyads and not args.out:
        raise ValueError("--dyads writes study 03's table into the --out folder: give --out too")
    if args.out:
        # Per-account figures carry raw account ids: an owner-only folder, like a saved dataset.
        folder = output_folder(args.out, private=True)
        accounts_file = folder / ("accounts" if args.engine == "spark" else "accounts.parquet")
    measures = measure_follows(
        args.path,
        engine=args.engine,
        accounts_file=accounts_file,
        memory_limit=args.memory_limit,
        temp_directory=args.temp_dir,
        spark_master=args.spark_master,
    )
    print(measures.in_words())
    if args.out:
        measures.save(folder / "measures.json")
        print(f"Saved measures.json and the per-account table ({Path(measures.accounts_file).name}) to {folder}")
    if args.dyads:
        from .engines.dyad_sql import write_dyad_aggregates

        engine = measures.engine if measures.engine in ("duckdb", "spark") else "duckdb"
        dyads = write_dyad_aggregates(
            args.path,
            folder / "dyads",
            engine,
            memory_limit=args.memory_limit,
            temp_directory=args.temp_dir,
            spark_master=args.spark_master,
        )
        print(
            f"Study 03's dyad table ({engine}, {dyads.seconds:,.1f} s): {dyads.arcs:,} follows with the engagement between their "
            f"two accounts ({dyads.events_kept:,} engagement rows counted, {dyads.self_engagement_removed:,} toward oneself "
            f"removed), saved to {folder / 'dyads'}"
        )
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


def _parse_assignments(pairs: list[str], source: str = "-p") -> dict:
    """``KEY=VALUE`` pairs as plain data (YAML scalars and lists; quote a value to keep it text)."""
    return dict(parse_assignment(pair, source) for pair in pairs)


def _render(params: dict, args: argparse.Namespace) -> int:
    from .report import ReportError, run_report

    try:
        run = run_report(params, output_dir=args.out, with_code=args.with_code, timeout=args.timeout, force=args.force)
    except ReportError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"Report written in {run.seconds:.0f} s. Open {run.index}")
    return 0


def _command_line_parameters(args: argparse.Namespace) -> dict:
    overrides = _parse_assignments(args.set or [])
    for key in ("input_path", "inputs"):
        # Paths typed on the command line are relative to where the user stands.
        value = overrides.get(key)
        if isinstance(value, str) and value != "synthetic":
            overrides[key] = str(Path(value).resolve())
    return overrides


def cmd_report(args: argparse.Namespace) -> int:
    from .report import read_params_file

    params = read_params_file(args.params)
    params.update(_command_line_parameters(args))
    return _render(params, args)


def cmd_run(args: argparse.Namespace) -> int:
    from .report import read_params_file

    params = read_params_file(args.params) if args.params else {}
    params.update(_command_line_parameters(args))
    params["inputs"] = [str(Path(p).resolve()) for p in args.exports]
    params.pop("input_path", None)
    params["study"] = Path(args.out).name
    if args.format:
        params["input_format"] = args.format
    if args.owner:
        params["owner_id"] = args.owner
    if args.reveal_names:
        params["reveal_names"] = True
    load_options = {name: str(Path(getattr(args, name)).resolve()) for name in ("followers", "following", "lists") if getattr(args, name)}
    load_options.update(_parse_assignments(args.option or [], "--option"))
    if load_options:
        params["load_options"] = load_options
    return _render(params, args)


def cmd_collect(args: argparse.Namespace) -> int:
    from .collect import Bounds, CollectionError, collect

    bounds = Bounds(
        days=args.days,
        max_posts=args.max_posts,
        max_accounts=args.max_accounts,
        max_pages=args.max_pages,
        max_engagement_pages=args.max_engagement_pages,
    )
    servers = {"appview": args.appview, "plc": args.plc} if args.platform == "bluesky" else {"base_url": args.base_url, "token": args.token}
    servers = {k: v for k, v in servers.items() if v}
    try:
        manifest = collect(args.platform, args.account, args.out, depth=args.depth, bounds=bounds, **servers)
    except CollectionError as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    requests = manifest["requests"]
    print(
        f"Collected {manifest.get('owner_handle') or manifest['owner']} ({manifest['mode']} mode) into {args.out}: "
        f"{manifest['followers_listed']:,} followers, {manifest['follows_listed']:,} follows, {manifest['mutuals_listed']:,} mutuals; "
        f"{requests['pages_fetched']:,} pages fetched, {requests['pages_reused']:,} already on disk, "
        f"{requests['rate_limit_waits']:,} rate-limit waits ({requests['seconds_waited_for_rate_limits']:.0f} s)."
    )
    problems = {**manifest["gone_accounts"], **manifest["cut_lists"], **manifest["unreadable"]}
    for what, count in problems.items():
        print(f"  {what}: {count:,}")
    print(f"Next: reciprocity run {args.out} --out reports/<name>  (the collection is personal data: keep {args.out} private)")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    """Open every page of a report in headless Chromium and print what a reader would trip over."""
    from .paths import private_dir
    from .site_check import check_site

    folder = Path(args.folder)
    if not (folder / "index.html").is_file():
        raise ValueError(f"{folder}: not a report folder (it has no index.html; `reciprocity run` or `report` makes one)")
    screenshots = Path(args.screenshots) if args.screenshots else private_dir(folder) / "screenshots"
    try:
        problems = check_site(folder, screenshots)
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    for problem in problems:
        print(problem)
    pages = len(list(folder.glob("*.html")))
    print(
        f"{pages} pages checked in a browser: "
        + (f"{len(problems)} problems." if problems else "nothing a reader would trip over.")
        + f" Screenshots: {screenshots}"
    )
    return EXIT_STUDY_FAILED if problems else EXIT_OK


FORCE_HELP = (
    "replace a report folder that has no record of this tool (an older report): only files named as the tool names its "
    "own are replaced; a folder holding anything else is always refused"
)
OPTION_HELP = (
    "an option of the format's loader (repeatable), e.g. network=Messages, relation=2, time=3 (Pajek files), "
    "min_value=2 (valued matrices), as_follows=true (Higgs layers)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="reciprocity",
        description="Measure follow-back reciprocity and engagement on your own follow data, and render reports.",
        epilog="Exit codes: 0 done; 1 a study failed (its notebook is kept for reading) or `check` found problems; "
        "2 bad input or parameters (one line naming the file, record and field); 3 an internal error (one line "
        "to report; RECIPROCITY_DEBUG=1 shows the trace).",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    from .io import FORMAT_DESCRIPTIONS

    load = sub.add_parser(
        "load",
        help="load and validate an export or research file, print a summary, optionally save it",
        description="Formats: " + "; ".join(f"{name}: {text}" for name, text in FORMAT_DESCRIPTIONS.items()),
    )
    load.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="a .zip, .tar.gz, folder, .car, edge-list or graph file; several exports of one account are compared "
        "as snapshots (follow/unfollow events), a Mastodon archive may come with its CSV exports",
    )
    load.add_argument("--format", default="auto", choices=["auto", *FORMAT_DESCRIPTIONS], help="input format (default: detect)")
    load.add_argument("--owner", default=None, help="account id of the export's owner, if the export does not say")
    load.add_argument("--followers", default=None, help="a followers list (Mastodon CSV form, or one DID per line for Bluesky)")
    load.add_argument("--following", default=None, help="Mastodon following_accounts.csv given apart from the archive")
    load.add_argument("--lists", default=None, help="Mastodon lists.csv given apart from the archive")
    load.add_argument("--option", action="append", metavar="KEY=VALUE", help=OPTION_HELP)
    load.add_argument("--max-archive-mb", type=float, default=None, help="cap on uncompressed bytes read from an archive (default 2048)")
    load.add_argument("--out", default=None, help="save the validated study dataset (Parquet + dataset.json) to this folder")
    load.set_defaults(func=cmd_load)

    measure = sub.add_parser(
        "measure",
        help="counts, r, rho and per-account follow-back rates of a follow file of any size, in memory, with DuckDB or Spark",
        description="Reads Parquet (a saved dataset or files with follower_id and followee_id), CSV with those two columns, "
        "or a whitespace edge list (SNAP, Higgs; # and %% lines are comments), each plain or .gz. The three engines give "
        "identical numbers: memory (fastest while the network fits), duckdb (out of core: --memory-limit, spilling to "
        "--temp-dir), spark (local[2] or a cluster with --spark-master).",
    )
    measure.add_argument("path", help="the follow file or folder")
    measure.add_argument("--engine", default="auto", choices=["auto", "memory", "duckdb", "spark"], help="default: by input size")
    measure.add_argument("--memory-limit", default="4GB", help="DuckDB's memory limit (default 4GB)")
    measure.add_argument("--temp-dir", default=None, help="where DuckDB spills (default: a temporary folder)")
    measure.add_argument("--spark-master", default="local[2]", help="Spark master URL (default local[2]; under spark-submit, its own)")
    measure.add_argument("--out", default=None, help="write measures.json and the per-account table (raw ids: a private folder)")
    measure.add_argument(
        "--dyads",
        action="store_true",
        help="also write study 03's dyad table (engagement both ways per follow, covariates) to OUT/dyads, for a folder of the "
        "generic format (follows, interactions, accounts); with the duckdb or spark engine",
    )
    measure.set_defaults(func=cmd_measure)

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
    report.add_argument("--force", action="store_true", help=FORCE_HELP)
    report.set_defaults(func=cmd_report)

    run = sub.add_parser(
        "run",
        help="from one or more exports to a published report site in one command",
        description="Detect and load the exports, run every study, render reports/NAME/ with index.html. Other people's "
        "accounts appear under stable pseudonyms unless --reveal-names is given; the folder is safe to publish "
        "(the validated data with raw ids stays in the hidden sibling folder .NAME.private).",
    )
    run.add_argument(
        "exports",
        nargs="+",
        metavar="EXPORT",
        help="export(s) as for `reciprocity load`: several exports of one account are compared as snapshots",
    )
    run.add_argument("--out", required=True, help="report folder, e.g. reports/mine (its name becomes the study name)")
    run.add_argument("--params", default=None, help="a parameters file to start from (e.g. params/sample.yaml)")
    run.add_argument("-p", "--set", action="append", metavar="KEY=VALUE", help="override one study parameter (repeatable)")
    run.add_argument("--format", default=None, help="input format when detection is not wanted (see `reciprocity load --help`)")
    run.add_argument("--owner", default=None, help="account id of the export's owner, if the export does not say")
    run.add_argument("--followers", default=None, help="a followers list (Mastodon CSV form, or one DID per line for Bluesky)")
    run.add_argument("--following", default=None, help="Mastodon following_accounts.csv given apart from the archive")
    run.add_argument("--lists", default=None, help="Mastodon lists.csv given apart from the archive")
    run.add_argument("--option", action="append", metavar="KEY=VALUE", help=OPTION_HELP)
    run.add_argument("--with-code", action="store_true", help="keep code cells in the HTML (for teaching)")
    run.add_argument("--reveal-names", action="store_true", help="show other accounts' handles instead of pseudonyms (opt-in)")
    run.add_argument("--timeout", type=int, default=900, help="seconds one notebook cell may run (default 900)")
    run.add_argument("--force", action="store_true", help=FORCE_HELP)
    run.set_defaults(func=cmd_run)

    collect = sub.add_parser(
        "collect",
        help="collect an account's follows and two-way engagement from the Bluesky or Mastodon API",
        description="Writes every page as received and a manifest into --out; `reciprocity run OUT` reads it. An interrupted "
        "collection resumes when the same command runs again. Ego mode (--depth 0) gets the owner's followers, "
        "follows and engagement both ways; network mode (--depth 1) also the follows and engagement of up to "
        "--max-accounts contacts, for study 03's network models.",
    )
    collect.add_argument("platform", choices=["bluesky", "mastodon"])
    collect.add_argument("account", help="Bluesky: a handle (alice.bsky.social) or DID; Mastodon: @user@instance")
    collect.add_argument("--out", required=True, help="folder for the collection (new or one to resume); keep it private")
    collect.add_argument("--depth", type=int, default=0, choices=[0, 1], help="0: ego mode (default); 1: network mode")
    collect.add_argument("--days", type=float, default=180.0, help="engagement window in days before now (default 180)")
    collect.add_argument("--max-posts", type=int, default=300, help="owner's posts whose engagement is collected (default 300)")
    collect.add_argument(
        "--max-accounts",
        type=int,
        default=500,
        help="network mode: contacts collected (mutuals first); ego mode: mutuals whose follow-back is dated (default 500)",
    )
    collect.add_argument("--max-pages", type=int, default=100, help="pages per listing of one account (default 100)")
    collect.add_argument("--max-engagement-pages", type=int, default=10, help="pages of likes/reposts per post (default 10)")
    collect.add_argument("--appview", default=None, help="Bluesky AppView base URL (default https://public.api.bsky.app)")
    collect.add_argument("--plc", default=None, help="PLC directory base URL (default https://plc.directory)")
    collect.add_argument("--base-url", default=None, help="Mastodon: instance base URL (default https://INSTANCE from the account)")
    collect.add_argument("--token", default=None, help="Mastodon access token (better: the MASTODON_TOKEN environment variable)")
    collect.set_defaults(func=cmd_collect)

    check = sub.add_parser(
        "check",
        help="open every page of a report in headless Chromium and list what a reader would trip over",
        description="Hidden tags, missing-value words (nan, None, <NA>), doubled full stops, scientific notation, Python "
        "reprs, variable names in tables, figures without alt text or empty. Exit 0 when clean, 1 with problems. "
        "Needs Chromium (Debian/Ubuntu: apt-get install chromium).",
    )
    check.add_argument("folder", metavar="REPORT", help="a report folder made by `reciprocity run` or `report`")
    check.add_argument(
        "--screenshots", default=None, help="folder for one screenshot per page (default: screenshots/ in the report's private folder)"
    )
    check.set_defaults(func=cmd_check)
    return parser


# Exit codes (also in the README): 0 done; 1 a study failed (its notebook is kept for reading);
# 2 bad input or parameters (one line naming the file, record and field); 3 an internal error.
EXIT_OK, EXIT_STUDY_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (DatasetValidationError, FileNotFoundError, ValueError) as error:
        print(f"error: {_one_line(error)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as error:
        # An unwritable or occupied --out, a full disk: the system's reason in one line, no traceback.
        where = f" {error.filename}" if getattr(error, "filename", None) else ""
        print(f"error:{where}: {error.strerror or error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 - the last guard: a bug is reported in one line, never a traceback
        inputs = getattr(args, "paths", None) or getattr(args, "exports", None) or ([args.path] if getattr(args, "path", None) else [])
        named = f" while reading {', '.join(map(str, inputs))}" if inputs else ""
        print(
            f"internal error{named}: {type(error).__name__}: {_one_line(error)}; please report it to the project's issue "
            "tracker with this line (RECIPROCITY_DEBUG=1 shows the full trace)",
            file=sys.stderr,
        )
        if os.environ.get("RECIPROCITY_DEBUG"):
            raise
        return EXIT_INTERNAL


def _one_line(error: BaseException) -> str:
    """An error's message on one line (messages that list choices or quote a file keep their words)."""
    return " ".join(str(error).split())


if __name__ == "__main__":
    sys.exit(main())

"""The study dataset: three tables, what their source could observe, and where they came from.

Every loader turns its input into *raw* tables (text as read, with the file and line each row
came from) and hands them to :func:`build_dataset`, which validates and repairs them into one
:class:`StudyDataset`:

- ``accounts``      one row per account: ``account_id`` (text: 64-bit platform ids stay exact),
                    ``handle``, ``platform``, ``is_owner`` and optional attributes
                    (``kind`` such as brand/person, ``created_at``, ``followers_count``, ...);
- ``follows``       ``follower_id`` follows ``followee_id``, ``followed_at`` (UTC, may be
                    missing), ``source``;
- ``interactions``  ``actor_id`` engaged with ``target_id``: ``kind`` in
                    reply/mention/repost/quote/like, ``at`` (UTC, may be missing), ``count``,
                    ``source``;
- ``coverage``      which directions and whose engagement the source could observe;
- ``provenance``    input files with their sha256, the loader and its parameters;
- ``validation``    what was read, what was repaired (each repair counted), what was noted.

What cannot be repaired raises :class:`DatasetValidationError` naming the file, the line or row,
the field and what was expected. What is repaired (self-loops, duplicate follows, accounts named
only in edges, interactions with accounts outside the group) is counted, never dropped silently.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Literal

import numpy as np
import pandas as pd

from .account_codes import AccountCodes, count_returned_arcs
from .paths import open_for_writing, output_folder

INTERACTION_KINDS = ("reply", "mention", "repost", "quote", "like")
# The engines that measure networks larger than memory, by the names their makers give them (for the pages).
ENGINE_NAMES = {"duckdb": "DuckDB", "spark": "Apache Spark", "memory": "in-memory"}


def engine_name(engine: str | None) -> str:
    return ENGINE_NAMES.get(engine or "", engine or "")


# Words platforms and analysts use for the same engagement kinds.
KIND_SYNONYMS = {
    "retweet": "repost",
    "rt": "repost",
    "boost": "repost",
    "reblog": "repost",
    "share": "repost",
    "favorite": "like",
    "favourite": "like",
    "fav": "like",
    "quote_tweet": "quote",
    "comment": "reply",
}

ACCOUNT_COLUMNS = {
    "account_id": "id",
    "handle": "text",
    "platform": "text",
    "is_owner": "bool",
    "kind": "text",
    "created_at": "time",
    "followers_count": "count",
    "following_count": "count",
    "labels": "text",
}
FOLLOW_COLUMNS = {
    "follower_id": "id",
    "followee_id": "id",
    "followed_at": "time",
    "source": "text",
}
INTERACTION_COLUMNS = {
    "actor_id": "id",
    "target_id": "id",
    "kind": "kind",
    "at": "time",
    "count": "count",
    "source": "text",
}
# Optional fourth table: follows that began or ended between two snapshots of one account.
# The event happened after ``observed_after`` (the earlier snapshot) and no later than
# ``observed_before`` (the later one); exact times are not known.
FOLLOW_EVENT_COLUMNS = {
    "follower_id": "id",
    "followee_id": "id",
    "event": "text",
    "observed_after": "time",
    "observed_before": "time",
    "source": "text",
}


def empty_follow_events() -> pd.DataFrame:
    """The follow-events table with its columns and dtypes and no rows (the default)."""
    dtypes = {"id": "string", "text": "string", "time": "datetime64[us, UTC]"}
    return pd.DataFrame({column: pd.Series(dtype=dtypes[kind]) for column, kind in FOLLOW_EVENT_COLUMNS.items()})


REQUIRED_COLUMNS = {
    "accounts": ("account_id",),
    "follows": ("follower_id", "followee_id"),
    "interactions": ("actor_id", "target_id", "kind"),
}
TABLE_COLUMNS = {
    "accounts": ACCOUNT_COLUMNS,
    "follows": FOLLOW_COLUMNS,
    "interactions": INTERACTION_COLUMNS,
}

EXPECTED = {
    "id": "a non-empty account id written as text (digits kept exactly, never a float)",
    "text": "text",
    "bool": "true or false",
    "time": "an ISO-8601 timestamp such as 2024-03-01T12:00:00Z",
    "count": "a whole number of at least 0",
    "kind": "one of " + ", ".join(INTERACTION_KINDS),
}

# Repairs, in the order they are reported, with what each means to a reader.
REPAIRS = {
    "duplicate_accounts_removed": "account rows repeating an earlier account_id (first kept)",
    "follow_self_loops_removed": "follows of an account by itself",
    "duplicate_follows_removed": "follows repeating an earlier follower/followee pair (earliest kept)",
    "interaction_self_loops_removed": "interactions of an account with itself (e.g. self-replies)",
    "accounts_added_from_follows": "accounts named in follows but absent from the accounts table (added)",
    "accounts_added_from_interactions": "accounts named in interactions but absent from accounts (added)",
    "follows_unknown_removed": "follows naming an account outside the accounts table (removed)",
    "interactions_unknown_removed": "interactions naming an account outside the accounts table (removed)",
}

FLOAT_LIKE_ID = re.compile(r"^[+-]?\d+(?:\.\d*)?[eE][+-]?\d+$|^\d+\.0*$")
HAS_UTC_OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$", re.IGNORECASE)
TRUE_WORDS = {"true", "t", "yes", "y", "1"}
FALSE_WORDS = {"false", "f", "no", "n", "0", ""}


class DatasetValidationError(ValueError):
    """Input that cannot be repaired: says which file, which line or row, which field, what was expected."""

    def __init__(self, origin: str, where: str, field_name: str, expected: str, found: Any, more: int = 0):
        self.origin, self.where, self.field, self.expected, self.found = origin, where, field_name, expected, found
        tail = f" ({more} more rows have the same problem)" if more else ""
        super().__init__(f"{origin}, {where}, field '{field_name}': expected {expected}, found {found!r}{tail}")


@dataclass
class RawTable:
    """A table as read from one input, before validation.

    ``first_line`` is the file line of the first data row (2 for a CSV with a header), so that
    errors can point at the line a user sees in an editor; ``None`` reports 1-based row numbers.
    """

    frame: pd.DataFrame
    origin: str
    first_line: int | None = None

    def where(self, position: int) -> str:
        # The frame's index keeps each row's place in the file even after blank lines are dropped.
        label = self.frame.index[position]
        offset = int(label) if isinstance(label, (int, np.integer)) else position
        return f"line {offset + self.first_line}" if self.first_line is not None else f"row {offset + 1}"


@dataclass
class Coverage:
    """What a source could observe, so studies never report what they could not see.

    ``scope`` is ``"network"`` when follows among a whole group are observed in both directions,
    ``"ego"`` when only one owner's follows are. ``engagement_observed`` is ``"everyone"``,
    ``"owner_outgoing"`` (personal exports record only what the owner did) or ``"none"``.
    """

    scope: Literal["network", "ego"] = "network"
    followers_known: bool = True
    following_known: bool = True
    engagement_observed: Literal["everyone", "owner_outgoing", "none"] = "everyone"
    follow_times: bool = False
    time_start: str | None = None
    time_end: str | None = None
    notes: list[str] = field(default_factory=list)
    # Dates of the snapshots a combined dataset was built from (several exports of one account).
    snapshots: list[str] = field(default_factory=list)
    # True for a random subgraph of a larger network (drawn by an engine; its notes say how).
    sampled: bool = False
    # The engine that measured a whole network out of memory. It counts the follows, and the
    # engagement where the input records everyone's (engagement_observed "everyone"); otherwise
    # engagement was not read, which is not the same as the source not recording it.
    engine: str | None = None
    # True where that engine also read the input's engagement table (and the follow times) over the
    # whole network: then engagement_observed and follow_times say what it found, as in memory.
    engine_read_engagement: bool = False

    def __post_init__(self) -> None:
        if self.scope not in ("network", "ego"):
            raise ValueError(f"coverage scope must be 'network' or 'ego', not {self.scope!r}")
        if self.engagement_observed not in ("everyone", "owner_outgoing", "none"):
            raise ValueError(
                f"coverage engagement_observed must be 'everyone', 'owner_outgoing' or 'none', not {self.engagement_observed!r}"
            )

    @property
    def mutuality_observable(self) -> bool:
        """Whether follow-backs can be counted at all: both follow directions must be known."""
        return self.followers_known and self.following_known

    @property
    def follows_missing_words(self) -> str:
        """Why follow-backs cannot be seen, in words: no follows at all, or only one direction of them."""
        if not self.followers_known and not self.following_known:
            return "no follows are recorded"
        return "only one follow direction is known"

    def follow_times_words(self) -> str:
        """Whether follow times are known, in a sentence; on an engine run, what it read of them."""
        if not self.engine:
            return follow_times_sentence(self.follow_times, self.snapshots)
        if not self.engine_read_engagement:
            return "Follow times are not read for the whole network."
        if self.follow_times:  # the engine dates the data and counts the weekly follows from them
            return "Follow times are known; the timing of follow-backs is not measured on the whole network."
        return follow_times_sentence(False)

    def describe(self) -> list[str]:
        """Plain sentences a report can print under its title."""
        whose = "every account in the group" if self.scope == "network" else "the owner"
        if not (self.following_known or self.followers_known):
            sentences = ["No follows are recorded in this source."]
        else:
            sentences = [
                f"Follows: {'known' if self.following_known else 'NOT known'} for whom {whose} follows; "
                f"{'known' if self.followers_known else 'NOT known'} for who follows {whose}.",
            ]
        if not self.mutuality_observable:
            sentences.append("Mutual follows cannot be counted from this source, so follow-back rates are not reported.")
        engagement = {
            # Which kinds (replies, mentions, reposts, quotes, likes) depends on the source: the pages list them.
            "everyone": "Engagement is recorded in both directions between the accounts, for the kinds this source has.",
            "owner_outgoing": "Engagement is recorded only from the owner to others, never what others did to the owner.",
            "none": "No engagement is recorded.",
        }[self.engagement_observed]
        if self.engine and self.engine_read_engagement:
            if self.engagement_observed == "everyone":
                engagement += f" The {engine_name(self.engine)} engine counts it over the whole network."
        elif self.engine:
            engagement = (
                f"Engagement is not read for the whole network: the {engine_name(self.engine)} engine measures it from the follows alone."
            )
        sentences.append(engagement)
        sentences.append(self.follow_times_words())
        if self.time_start and self.time_end:
            sentences.append(
                f"Time span of the data: {self.time_start[:10]} to {self.time_end[:10]}."
                + (f" The latest snapshot was taken {self.snapshots[-1][:10]}." if self.snapshots else "")
            )
        sentences.extend(self.notes)
        return sentences


def follow_times_sentence(follow_times: bool, snapshots: list[str] | None = None) -> str:
    """Whether follow times are known, in words; with snapshots, what they bound."""
    if follow_times:
        return "Follow times are known."
    if snapshots:
        return (
            f"Follow times are not recorded, but {len(snapshots)} snapshots (taken "
            + ", ".join(d[:10] for d in snapshots)
            + ") date every follow that began or ended between two of them to within that interval."
        )
    return "Follow times are not known."


@dataclass
class InputFile:
    name: str
    sha256: str
    bytes: int


@dataclass
class Provenance:
    loader: str
    inputs: list[InputFile] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_files(cls, loader: str, root: Path, files: list[Path], parameters: dict[str, Any] | None = None) -> "Provenance":
        root = Path(root)
        inputs = [
            InputFile(name=str(f.relative_to(root)) if root.is_dir() else f.name, sha256=file_sha256(f), bytes=f.stat().st_size)
            for f in files
        ]
        return cls(loader=loader, inputs=inputs, parameters=dict(parameters or {}))

    @property
    def fingerprint(self) -> str:
        """One hash of all inputs: two runs on the same bytes share it."""
        digest = hashlib.sha256()
        for item in sorted(self.inputs, key=lambda i: i.name):
            digest.update(f"{item.name}\0{item.sha256}\n".encode())
        return digest.hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class ValidationReport:
    """What validation read, repaired and noted; printed by notebooks and the CLI."""

    source: str
    rows_read: dict[str, int] = field(default_factory=dict)
    rows_kept: dict[str, int] = field(default_factory=dict)
    repairs: dict[str, int] = field(default_factory=lambda: dict.fromkeys(REPAIRS, 0))
    notes: list[str] = field(default_factory=list)

    @property
    def total_repairs(self) -> int:
        return int(sum(self.repairs.values()))

    def to_frame(self) -> pd.DataFrame:
        """One row per table read and per repair, with the count and what it means."""
        rows = [
            {"check": f"{table} rows read", "count": self.rows_read.get(table, 0), "meaning": f"rows in the {table} input"}
            for table in TABLE_COLUMNS
        ]
        rows += [{"check": name.replace("_", " "), "count": self.repairs.get(name, 0), "meaning": REPAIRS[name]} for name in REPAIRS]
        rows += [
            {"check": f"{table} rows kept", "count": self.rows_kept.get(table, 0), "meaning": f"rows in the validated {table} table"}
            for table in TABLE_COLUMNS
        ]
        return pd.DataFrame(rows)

    def summary(self) -> str:
        done = [f"{count:,} {REPAIRS[name]}" for name, count in self.repairs.items() if count]
        lines = [f"Validated {self.source}: " + ", ".join(f"{self.rows_kept.get(t, 0):,} {t}" for t in TABLE_COLUMNS) + "."]
        lines.append("Repaired: " + "; ".join(done) + "." if done else "Nothing needed repair.")
        lines.extend(self.notes)
        return "\n".join(lines)


@dataclass
class StudyDataset:
    accounts: pd.DataFrame
    follows: pd.DataFrame
    interactions: pd.DataFrame
    coverage: Coverage
    provenance: Provenance
    validation: ValidationReport
    # Follow and unfollow events between snapshots (see FOLLOW_EVENT_COLUMNS); empty unless the
    # input was several snapshots of one account.
    follow_events: pd.DataFrame = field(default_factory=empty_follow_events)

    @property
    def owner_id(self) -> str | None:
        owners = self.accounts.loc[self.accounts["is_owner"], "account_id"]
        return str(owners.iloc[0]) if len(owners) else None

    def with_text_mapped(self, rewrite: Callable[[str], str]) -> "StudyDataset":
        """A copy whose descriptive text (source, notes, loader parameters, the tables' ``source``
        column) went through ``rewrite``; used to show inputs by file name, never by local path."""

        def mapped(value: Any) -> Any:
            if isinstance(value, str):
                return rewrite(value)
            if isinstance(value, list):
                return [mapped(item) for item in value]
            if isinstance(value, dict):
                return {key: mapped(item) for key, item in value.items()}
            return value

        tables = {}
        for name in ("follows", "interactions", "follow_events"):
            frame = getattr(self, name)
            if "source" in frame and len(frame):
                distinct = frame["source"].dropna().unique()
                changes = {text: rewrite(text) for text in distinct if rewrite(text) != text}
                if changes:
                    frame = frame.assign(source=frame["source"].replace(changes))
            tables[name] = frame
        return dataclasses.replace(
            self,
            **tables,
            coverage=dataclasses.replace(self.coverage, notes=mapped(self.coverage.notes)),
            provenance=dataclasses.replace(self.provenance, parameters=mapped(self.provenance.parameters)),
            validation=dataclasses.replace(self.validation, source=rewrite(self.validation.source), notes=mapped(self.validation.notes)),
        )

    def save(self, folder: str | Path) -> Path:
        """Write the three tables as Parquet and the rest as ``dataset.json`` into ``folder``."""
        # Raw ids and handles: an owner-only folder, and no write through a planted link.
        folder = output_folder(folder, private=True)
        tables = {name: getattr(self, name) for name in TABLE_COLUMNS} | {"follow_events": self.follow_events}
        for name, table in tables.items():
            with open_for_writing(folder / f"{name}.parquet", binary=True, private=True) as handle:
                table.to_parquet(handle, index=False)
        meta = {
            "format": "reciprocity-study-dataset/1",
            "coverage": asdict(self.coverage),
            "provenance": asdict(self.provenance),
            "validation": asdict(self.validation),
        }
        with open_for_writing(folder / "dataset.json", private=True) as handle:
            handle.write(json.dumps(meta, indent=2, sort_keys=True) + "\n")
        return folder

    @classmethod
    def load(cls, folder: str | Path) -> "StudyDataset":
        folder = Path(folder)
        meta_path = folder / "dataset.json"
        if not meta_path.exists():
            raise FileNotFoundError(f"{folder} holds no saved study dataset (no dataset.json)")
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tables = {name: pd.read_parquet(folder / f"{name}.parquet") for name in TABLE_COLUMNS}
        # Datasets saved before follow events existed have no such file: they had none.
        events_path = folder / "follow_events.parquet"
        tables["follow_events"] = pd.read_parquet(events_path) if events_path.exists() else empty_follow_events()
        provenance = meta["provenance"]
        provenance["inputs"] = [InputFile(**item) for item in provenance["inputs"]]
        return cls(
            **tables,
            coverage=Coverage(**meta["coverage"]),
            provenance=Provenance(**provenance),
            validation=ValidationReport(**meta["validation"]),
        )

    def counts(self) -> dict[str, Any]:
        """Headline counts every study starts from."""
        follows = self.follows
        returned = 0
        if len(follows) and self.coverage.mutuality_observable:
            # Integer codes and sorted pair keys: a MultiIndex lookup of text pairs costs ~5x the memory and time.
            codes = AccountCodes(self.accounts["account_id"])
            follower, followee = codes.of_columns(
                [(follows["follower_id"], "follows, follower_id"), (follows["followee_id"], "follows, followee_id")]
            )
            returned = count_returned_arcs(follower, followee, codes.n)
        kinds = self.interactions.groupby("kind", observed=True)["count"].sum()
        return {
            "accounts": int(len(self.accounts)),
            "follows": int(len(follows)),
            "returned_follows": returned if self.coverage.mutuality_observable else None,
            "mutual_pairs": returned // 2 if self.coverage.mutuality_observable else None,
            # Share of follows that are returned; undefined without follows or without both directions.
            "arc_reciprocity": returned / len(follows) if self.coverage.mutuality_observable and len(follows) else None,
            "interaction_rows": int(len(self.interactions)),
            "interaction_events": int(self.interactions["count"].sum()),
            **{f"events_{kind}": int(kinds.get(kind, 0)) for kind in INTERACTION_KINDS},
        }


# ---------------------------------------------------------------------------------------------
# Validation of raw tables


def _fail(table: RawTable, bad: pd.Series, field_name: str, expected: str, values: pd.Series) -> None:
    """Raise for the first bad row in ``bad`` (a boolean mask aligned with the raw frame)."""
    positions = np.flatnonzero(bad.to_numpy())
    if len(positions):
        first = positions[0]
        raise DatasetValidationError(table.origin, table.where(first), field_name, expected, values.iloc[first], len(positions) - 1)


def _as_text(table: RawTable, column: str) -> pd.Series:
    """The column as stripped text; missing values stay missing."""
    values = table.frame[column]
    if pd.api.types.is_float_dtype(values):
        raise DatasetValidationError(
            table.origin,
            "column",
            column,
            EXPECTED["id"] + " - floating-point ids lose digits above 2^53; read ids as text",
            str(values.dtype),
        )
    if pd.api.types.is_integer_dtype(values):
        return values.astype("Int64").astype("string")
    text = values.astype("string").str.strip()
    return text.mask(text == "")


def _parse_ids(table: RawTable, column: str) -> pd.Series:
    raw = table.frame[column]
    if raw.dtype == object:
        floats = raw.map(lambda v: isinstance(v, float) and not pd.isna(v))
        _fail(table, floats, column, EXPECTED["id"], raw)
    ids = _as_text(table, column)
    _fail(table, ids.isna(), column, EXPECTED["id"], raw)
    _fail(
        table,
        ids.str.fullmatch(FLOAT_LIKE_ID).fillna(False).astype(bool),
        column,
        EXPECTED["id"] + " - this looks like a float that already lost digits",
        ids,
    )
    return ids


def _parse_times(table: RawTable, column: str, notes: list[str]) -> pd.Series:
    raw = table.frame[column]
    if pd.api.types.is_datetime64_any_dtype(raw):
        parsed = pd.to_datetime(raw, utc=True)
        return parsed.dt.as_unit("us")
    text = _as_text(table, column)
    parsed = pd.to_datetime(text, utc=True, format="ISO8601", errors="coerce")
    _fail(table, text.notna() & parsed.isna(), column, EXPECTED["time"], raw)
    naive = text.notna() & ~text.str.contains(HAS_UTC_OFFSET).fillna(False).astype(bool)
    if naive.any():
        notes.append(f"{table.origin}: {int(naive.sum()):,} '{column}' values had no UTC offset and were taken as UTC.")
    return parsed.dt.as_unit("us")


def _parse_counts(table: RawTable, column: str, default: int | None) -> pd.Series:
    raw = table.frame[column]
    if pd.api.types.is_integer_dtype(raw) and not raw.isna().any():
        numbers = raw.astype("int64")
        _fail(table, numbers < 0, column, EXPECTED["count"], raw)
        return numbers
    text = _as_text(table, column)
    if default is not None:
        text = text.fillna(str(default))
    whole = text.str.fullmatch(r"\d+").fillna(False).astype(bool)
    _fail(table, text.notna() & ~whole, column, EXPECTED["count"], raw)
    return pd.to_numeric(text, errors="coerce").astype("Int64" if default is None else "int64")


def _parse_bools(table: RawTable, column: str) -> pd.Series:
    raw = table.frame[column]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype(bool)
    text = _as_text(table, column).fillna("").str.lower()
    _fail(table, ~text.isin(TRUE_WORDS | FALSE_WORDS), column, EXPECTED["bool"], raw)
    return text.isin(TRUE_WORDS)


def _parse_kinds(table: RawTable, column: str) -> pd.Series:
    text = _as_text(table, column).str.lower().replace(KIND_SYNONYMS)
    _fail(table, ~text.isin(INTERACTION_KINDS).fillna(False).astype(bool), column, EXPECTED["kind"], table.frame[column])
    return text


def _check_columns(name: str, table: RawTable, allow_extra: bool) -> None:
    present = list(table.frame.columns)
    for column in REQUIRED_COLUMNS[name]:
        if column not in present:
            raise DatasetValidationError(
                table.origin,
                "header",
                column,
                f"a column named '{column}' (required columns: {', '.join(REQUIRED_COLUMNS[name])})",
                ", ".join(map(str, present)) or "no columns",
            )
    unknown = [c for c in present if c not in TABLE_COLUMNS[name]]
    if unknown and not allow_extra:
        raise DatasetValidationError(
            table.origin, "header", str(unknown[0]), "only the columns " + ", ".join(TABLE_COLUMNS[name]), ", ".join(map(str, unknown))
        )


def _parse_table(name: str, table: RawTable, notes: list[str]) -> pd.DataFrame:
    """Typed columns in the model's order; extra account columns are kept as they came."""
    _check_columns(name, table, allow_extra=(name == "accounts"))
    out = {}
    for column, kind in TABLE_COLUMNS[name].items():
        if column not in table.frame.columns:
            continue
        if kind == "id":
            out[column] = _parse_ids(table, column)
        elif kind == "time":
            out[column] = _parse_times(table, column, notes)
        elif kind == "count":
            out[column] = _parse_counts(table, column, default=1 if name == "interactions" else None)
        elif kind == "bool":
            out[column] = _parse_bools(table, column)
        elif kind == "kind":
            out[column] = _parse_kinds(table, column)
        else:
            out[column] = _as_text(table, column)
    frame = pd.DataFrame(out, index=table.frame.index)
    for column in table.frame.columns:
        if column not in frame.columns:
            frame[column] = table.frame[column]
    return frame.reset_index(drop=True)


def _empty_raw(name: str, origin: str) -> RawTable:
    return RawTable(pd.DataFrame({c: pd.Series(dtype="string") for c in REQUIRED_COLUMNS[name]}), origin)


def _standard_columns(frame: pd.DataFrame, name: str, default_source: str) -> pd.DataFrame:
    """Every model column present with its dtype, so later steps never test for presence."""
    frame = frame.copy()
    if name == "follows":
        if "followed_at" not in frame:
            frame["followed_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
        if "source" not in frame:
            frame["source"] = default_source
    elif name == "interactions":
        if "at" not in frame:
            frame["at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[us, UTC]")
        if "count" not in frame:
            frame["count"] = 1
        frame["count"] = frame["count"].astype("int64")
        if "source" not in frame:
            frame["source"] = default_source
    for column, kind in TABLE_COLUMNS[name].items():
        if column in frame and kind in ("id", "text", "kind"):
            frame[column] = frame[column].astype("string")
    return frame


def build_dataset(
    follows: RawTable | None,
    interactions: RawTable | None = None,
    accounts: RawTable | None = None,
    *,
    coverage: Coverage | None = None,
    provenance: Provenance | None = None,
    owner_id: str | None = None,
    platform: str | None = None,
    unknown_accounts: Literal["add", "remove"] = "add",
    source: str = "input",
) -> StudyDataset:
    """Validate raw tables into a :class:`StudyDataset`.

    ``unknown_accounts`` says what happens to edges naming an account missing from ``accounts``:
    ``"add"`` (the default; the edge shows the account exists) adds it, ``"remove"`` (a research
    group whose membership is fixed) removes the edge. Either way each is counted.
    """
    if unknown_accounts not in ("add", "remove"):
        raise ValueError(f"unknown_accounts must be 'add' or 'remove', not {unknown_accounts!r}")
    report = ValidationReport(source=source)
    notes = report.notes
    given_accounts = accounts is not None
    raw = {
        "follows": follows or _empty_raw("follows", "follows (none given)"),
        "interactions": interactions or _empty_raw("interactions", "interactions (none given)"),
        "accounts": accounts or _empty_raw("accounts", "accounts (none given)"),
    }
    tables = {}
    for name, table in raw.items():
        report.rows_read[name] = int(len(table.frame))
        tables[name] = _parse_table(name, table, notes)
    acc, fol, inter = tables["accounts"], tables["follows"], tables["interactions"]

    duplicated_accounts = acc["account_id"].duplicated()
    report.repairs["duplicate_accounts_removed"] = int(duplicated_accounts.sum())
    acc = acc[~duplicated_accounts]

    loops = fol["follower_id"] == fol["followee_id"]
    report.repairs["follow_self_loops_removed"] = int(loops.sum())
    fol = fol[~loops]
    before = len(fol)
    if "followed_at" in fol:
        # Keep the earliest record of a repeated follow: that is when the tie began.
        fol = fol.sort_values("followed_at", kind="stable", na_position="last")
    fol = fol.drop_duplicates(["follower_id", "followee_id"], keep="first").sort_index()
    report.repairs["duplicate_follows_removed"] = before - len(fol)

    self_engaged = inter["actor_id"] == inter["target_id"]
    report.repairs["interaction_self_loops_removed"] = int(self_engaged.sum())
    inter = inter[~self_engaged]

    known = pd.Index(acc["account_id"])
    if unknown_accounts == "remove" and given_accounts:
        follow_ok = fol["follower_id"].isin(known) & fol["followee_id"].isin(known)
        inter_ok = inter["actor_id"].isin(known) & inter["target_id"].isin(known)
        report.repairs["follows_unknown_removed"] = int((~follow_ok).sum())
        report.repairs["interactions_unknown_removed"] = int((~inter_ok).sum())
        fol, inter = fol[follow_ok], inter[inter_ok]
    from_follows = pd.Index(pd.concat([fol["follower_id"], fol["followee_id"]]).unique()).difference(known)
    from_interactions = pd.Index(pd.concat([inter["actor_id"], inter["target_id"]]).unique()).difference(known).difference(from_follows)
    if given_accounts:
        report.repairs["accounts_added_from_follows"] = len(from_follows)
        report.repairs["accounts_added_from_interactions"] = len(from_interactions)
    else:
        notes.append("No accounts table was given: accounts are those named in follows and interactions.")
    added = pd.DataFrame({"account_id": pd.Series(from_follows.append(from_interactions), dtype="string")})
    acc = pd.concat([acc, added], ignore_index=True) if len(added) else acc

    acc = _standard_accounts(acc, owner_id=owner_id, platform=platform, origin=raw["accounts"].origin)
    fol = _standard_columns(fol.reset_index(drop=True), "follows", source)
    inter = _standard_columns(inter.reset_index(drop=True), "interactions", source)

    report.rows_kept = {"accounts": len(acc), "follows": len(fol), "interactions": len(inter)}
    coverage = coverage or Coverage(engagement_observed="everyone" if len(inter) else "none")
    coverage = _with_observed_times(coverage, fol, inter)
    provenance = provenance or Provenance(loader="build_dataset")
    return StudyDataset(acc, fol, inter, coverage, provenance, report)


def _standard_accounts(acc: pd.DataFrame, owner_id: str | None, platform: str | None, origin: str) -> pd.DataFrame:
    acc = acc.reset_index(drop=True)
    if "is_owner" not in acc:
        acc["is_owner"] = False
    acc["is_owner"] = acc["is_owner"].fillna(False).astype(bool)
    if owner_id:
        owner_id = str(owner_id)
        if owner_id not in set(acc["account_id"]):
            raise DatasetValidationError(origin, "parameter owner_id", "account_id", "the id of an account in the data", owner_id)
        acc["is_owner"] = acc["account_id"] == owner_id
    if acc["is_owner"].sum() > 1:
        owners = acc.loc[acc["is_owner"], "account_id"].tolist()
        raise DatasetValidationError(origin, "column", "is_owner", "at most one owner account", owners[:5])
    for column in ("handle", "platform", "kind"):
        if column not in acc:
            acc[column] = pd.Series(pd.NA, index=acc.index, dtype="string")
    if platform:
        acc["platform"] = acc["platform"].fillna(platform)
    for column in ("account_id", "handle", "platform", "kind"):
        acc[column] = acc[column].astype("string")
    leading = ["account_id", "handle", "platform", "is_owner", "kind"]
    return acc[leading + [c for c in acc.columns if c not in leading]]


def _with_observed_times(coverage: Coverage, follows: pd.DataFrame, interactions: pd.DataFrame) -> Coverage:
    """Fill in the time span and whether follow times exist from the data itself."""
    times = pd.concat([follows["followed_at"].dropna(), interactions["at"].dropna()])
    values = asdict(coverage)
    values["follow_times"] = bool(follows["followed_at"].notna().any())
    if len(times):
        values["time_start"] = times.min().isoformat()
        values["time_end"] = times.max().isoformat()
    return Coverage(**values)

"""Pajek network files (``.net``) and projects (``.paj``): directed arcs become follows.

A Pajek file lists ``*Vertices n`` (number, quoted label, drawing coordinates), then ``*Arcs``
(directed: ``from to [value] [time marks]``) and ``*Edges`` (undirected). A project (``.paj``)
holds several ``*Network`` blocks and other sections (``*Partition``, ``*Vector``, ...), which are
skipped and named in the notes. Arcs sections may carry a relation (``*Arcs :2 "label"``) and arcs
may carry time marks (``[2]``, ``[2-4]``, ``[1,3]``, ``[2-*]``), as in the social-network
classics (EIES, Sampson's monastery).

What counts as a follow is the caller's choice, and never guessed silently:

- ``network``: which ``*Network`` block (by name), required when the file has several;
- ``relation``: which relation (its number or label), required when the arcs carry several;
- ``time``: keep the arcs present at that time, required when arcs carry time marks;
- ``min_value``: arcs valued at least this are ties (default 1: Sampson's negative values are
  dislikes, not ties); arcs below it are counted in the notes.

Vertex numbers become account ids and labels become handles. ``*Edges`` with content are refused:
an undirected tie has no direction, so it carries no reciprocity information.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..model import DatasetValidationError, RawTable, StudyDataset
from .common import decode_text, file_provenance, follow_network_dataset

PAJEK_SUFFIXES = (".net", ".paj")
_SECTION = re.compile(r"^\*(\w+)\s*(.*)$")
_RELATION = re.compile(r'^:(\d+)\s*(?:"([^"]*)"|(\S.*))?$')
_TIME_ITEM = re.compile(r"^(\d+)(?:-(\d+|\*))?$")


def looks_like_pajek(path: Path) -> bool:
    if not (path.is_file() and path.suffix.lower() in PAJEK_SUFFIXES):
        return False
    with path.open("rb") as handle:
        for raw in handle:
            line = raw.strip()
            if line and not line.startswith(b"%"):
                return line.lower().startswith((b"*network", b"*vertices"))
    return False


@dataclass
class _Arcs:
    relation: int | None
    label: str | None
    undirected: bool
    rows: pd.DataFrame  # line, source, target, value, time (text)


@dataclass
class _Network:
    name: str
    vertices: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame({"number": pd.Series(dtype="int64"), "label": pd.Series(dtype="string")})
    )
    n_vertices: int = 0
    arcs: list[_Arcs] = field(default_factory=list)


_ARC_LINE = r"^(\d+)\s+(\d+)(?:\s+([^\s\[]+))?\s*(?:\[([^\]]*)\])?\s*$"
_VERTEX_LINE = r'^(\d+)(?:\s+(?:"([^"]*)"|([^\s"]+)))?'


def _block(path: Path, lines: pd.Series, pattern: str, what: str, expected: str) -> pd.DataFrame:
    """Parse one section's lines at once (no loop over arcs); a line that does not fit names itself."""
    parts = lines.str.extract(pattern)
    bad = parts[0].isna()
    if bad.any():
        number = int(lines.index[bad.to_numpy()][0])
        raise DatasetValidationError(str(path), f"line {number}", what, expected, lines[number])
    return parts.assign(line=lines.index.to_numpy())


def _parse(path: Path) -> tuple[list[_Network], list[str]]:
    """Networks of the file, and the sections skipped (partitions, vectors, ...)."""
    text = decode_text(path.read_bytes(), str(path))
    lines = pd.Series(text.splitlines(), dtype="string").str.strip()
    lines.index = pd.RangeIndex(1, len(lines) + 1)  # line numbers
    lines = lines[(lines != "") & ~lines.str.startswith("%")]
    is_header = lines.str.startswith("*").to_numpy()
    headers = list(lines.index[is_header])
    if len(lines) and not is_header[0]:
        number = int(lines.index[0])
        raise DatasetValidationError(str(path), f"line {number}", "(file)", "a section header such as *Network or *Vertices", lines[number])
    networks: list[_Network] = []
    skipped: list[str] = []
    current: _Network | None = None
    skipping = False
    # A loop over the section headers only (a handful); each section's lines are parsed at once.
    for position, number in enumerate(headers):
        following = headers[position + 1] if position + 1 < len(headers) else int(lines.index[-1]) + 1
        body = lines[(lines.index > number) & (lines.index < following)]
        written, rest = _SECTION.match(lines[number]).groups() if _SECTION.match(lines[number]) else (lines[number][1:], "")
        keyword, rest = written.lower(), rest.strip()
        if keyword == "network":
            current = _Network(rest or f"network {len(networks) + 1}")
            networks.append(current)
            skipping = False
        elif keyword == "vertices" and skipping:
            continue  # the size line of a partition or vector: its values follow
        elif keyword == "vertices":
            if current is None or current.n_vertices:
                current = _Network(f"network {len(networks) + 1}")
                networks.append(current)
            try:
                current.n_vertices = int(rest.split()[0])
            except (IndexError, ValueError):
                raise DatasetValidationError(str(path), f"line {number}", "*Vertices", "the number of vertices", rest) from None
            parts = _block(path, body, _VERTEX_LINE, "vertex", "a vertex number, then an optional label")
            current.vertices = pd.DataFrame(
                {
                    "number": parts[0].astype("int64").to_numpy(),
                    "label": parts[1].fillna(parts[2]).astype("string").to_numpy(),
                }
            )
        elif keyword in ("arcs", "edges"):
            if current is None:
                raise DatasetValidationError(
                    str(path), f"line {number}", f"*{keyword}", "a *Vertices section before the arcs", lines[number]
                )
            relation = _RELATION.match(rest) if rest else None
            if rest and not relation:
                raise DatasetValidationError(
                    str(path), f"line {number}", f"*{keyword}", 'nothing, or a relation ":k" with an optional label', rest
                )
            parts = _block(path, body, _ARC_LINE, "arc", "two vertex numbers, then an optional value and time mark, e.g. '3 7 2 [1-4]'")
            rows = pd.DataFrame(
                {
                    "line": parts["line"],
                    "source": parts[0].astype("int64"),
                    "target": parts[1].astype("int64"),
                    "value": parts[2].fillna("1"),
                    "time": parts[3],
                }
            )
            current.arcs.append(
                _Arcs(
                    int(relation.group(1)) if relation else None,
                    (relation.group(2) or relation.group(3)) if relation else None,
                    keyword == "edges",
                    rows,
                )
            )
            skipping = False
        else:
            skipped.append(f"*{written} {rest}".strip())
            skipping = True
    return networks, skipped


def _times(path: Path, number: int, mark: str) -> list[tuple[int, float]]:
    """A time mark as intervals (``*``: open-ended)."""
    intervals = []
    for item in mark.replace(" ", "").split(","):
        found = _TIME_ITEM.match(item)
        if not found:
            raise DatasetValidationError(str(path), f"line {number}", "time mark", "times like [2], [2-4], [1,3] or [2-*]", f"[{mark}]")
        low, high = int(found.group(1)), found.group(2)
        intervals.append((low, float("inf") if high == "*" else float(high) if high else float(low)))
    return intervals


def _choose(path: Path, what: str, wanted, choices: list, names: list[str], option: str, aliases: list[list[str]] | None = None):
    """The choice ``wanted`` names (by any of its aliases); the only one when nothing is named; else an error listing them."""
    if wanted is None:
        if len(choices) == 1:
            return choices[0]
        raise DatasetValidationError(
            str(path),
            what,
            option,
            f"one of them chosen with {option}= (--option {option}=... on the command line; the file holds several: {'; '.join(names)})",
            "none chosen",
        )
    for choice, name, names_of_choice in zip(choices, names, aliases or [[n] for n in names]):
        if str(wanted) in names_of_choice:
            return choice
    raise DatasetValidationError(str(path), what, option, f"one of: {'; '.join(names)}", wanted)


def load_pajek(
    path: str | Path,
    owner_id: str | None = None,
    network: str | None = None,
    relation: int | str | None = None,
    time: int | None = None,
    min_value: float = 1,
) -> StudyDataset:
    """A Pajek ``.net`` or ``.paj`` file: the chosen network's arcs (relation, time) of value at least ``min_value``."""
    path = Path(path)
    networks, skipped = _parse(path)
    if not networks:
        raise DatasetValidationError(str(path), "(file)", "*Network", "at least one network (*Vertices, then *Arcs)", "none")
    chosen: _Network = _choose(path, "networks", network, networks, [n.name for n in networks], "network")
    undirected = [arcs for arcs in chosen.arcs if arcs.undirected and len(arcs.rows)]
    if undirected:
        raise DatasetValidationError(
            str(path),
            f"line {int(undirected[0].rows['line'].iloc[0])}",
            "*Edges",
            "directed arcs only: undirected edges store each tie once without direction, so every tie would look "
            "mutual and carry no reciprocity information",
            f"{sum(len(a.rows) for a in undirected)} edges",
        )
    directed = [arcs for arcs in chosen.arcs if not arcs.undirected]
    relations = sorted({arcs.relation for arcs in directed if arcs.relation is not None})
    notes = [f"{path.name}: network {chosen.name!r}; each arc u -> v is loaded as u follows v."]
    picked = None
    if relation is not None and not relations:
        raise DatasetValidationError(
            str(path), f"network {chosen.name!r}", "relation", "arcs sections with relations (*Arcs :k) to choose from", relation
        )
    if len(relations) > 1 or relation is not None:
        labels = {arcs.relation: arcs.label for arcs in directed if arcs.relation is not None}
        names = [f"{r} {labels[r]}" if labels.get(r) else str(r) for r in relations]
        aliases = [[str(r)] + ([labels[r]] if labels.get(r) else []) for r in relations]
        picked = _choose(path, f"network {chosen.name!r}", relation, relations, names, "relation", aliases)
        directed = [arcs for arcs in directed if arcs.relation == picked]
        notes.append(f"Relation {picked}{' (' + labels[picked] + ')' if labels.get(picked) else ''}, one of {len(relations)}.")
    empty = pd.DataFrame({"line": [], "source": [], "target": [], "value": [], "time": []})
    rows = pd.concat([arcs.rows for arcs in directed], ignore_index=True) if directed else empty
    if len(networks) > 1:
        notes.append(f"{path.name} holds {len(networks)} networks ({', '.join(repr(n.name) for n in networks)}); this is {chosen.name!r}.")
    if skipped:
        notes.append(f"Sections not about ties were skipped: {', '.join(skipped)}.")

    marks = rows["time"].dropna()
    if time is not None and not len(marks):
        notes.append(f"time={time} was given, but no arc carries a time mark: every arc is loaded.")
    if len(marks):
        # A loop over the distinct marks (a handful), not over the arcs.
        first_line = rows.loc[marks.index, "line"].groupby(marks.to_numpy()).first()
        intervals = {mark: _times(path, int(first_line[mark]), mark) for mark in marks.unique()}
        present = sorted(
            {
                t
                for spans in intervals.values()
                for low, high in spans
                for t in ([low] if high == float("inf") else range(low, int(high) + 1))
            }
        )
        if time is None:
            raise DatasetValidationError(
                str(path),
                f"network {chosen.name!r}",
                "time",
                f"one time chosen with time= (--option time=... on the command line; arcs carry time marks: {', '.join(map(str, present))})",
                "none chosen",
            )
        at = int(time)
        present_at = {mark: any(low <= at <= high for low, high in spans) for mark, spans in intervals.items()}
        keep = rows["time"].isna() | rows["time"].map(present_at).fillna(False).astype(bool)
        notes.append(
            f"Arcs carry time marks ({', '.join(map(str, present))}): the {int(keep.sum()):,} present at time {at} of {len(rows):,} are loaded."
        )
        rows = rows[keep.to_numpy()]

    values = pd.to_numeric(rows["value"], errors="coerce")
    if values.isna().any():
        bad = rows[values.isna().to_numpy()].iloc[0]
        raise DatasetValidationError(str(path), f"line {int(bad['line'])}", "arc value", "a number", bad["value"])
    below = (values < min_value).to_numpy()
    if below.any():
        notes.append(f"{int(below.sum()):,} arcs valued below {min_value:g} (e.g. negative ties) are not ties and are left out.")
    ties = rows[~below]
    distinct = sorted(set(values[~below].tolist()))
    if len(distinct) > 1:
        notes.append(
            f"The arcs are valued ({', '.join(f'{v:g}' for v in distinct[:8])}{' ...' if len(distinct) > 8 else ''}): "
            f"every arc of at least {min_value:g} counts as one tie."
        )

    numbers = np.union1d(chosen.vertices["number"].to_numpy(dtype=np.int64), np.arange(1, chosen.n_vertices + 1))
    outside = ~(np.isin(ties["source"].to_numpy(dtype=np.int64), numbers) & np.isin(ties["target"].to_numpy(dtype=np.int64), numbers))
    if outside.any():
        bad = ties[outside].iloc[0]
        raise DatasetValidationError(
            str(path),
            f"line {int(bad['line'])}",
            "arc",
            f"vertex numbers from 1 to {chosen.n_vertices}",
            f"{bad['source']} {bad['target']}",
        )
    follows = pd.DataFrame(
        {"follower_id": ties["source"].astype(str).to_numpy(), "followee_id": ties["target"].astype(str).to_numpy()}, dtype="string"
    )
    labels = chosen.vertices.set_index("number")["label"]
    accounts = pd.DataFrame(
        {
            "account_id": pd.Series(numbers.astype(str), dtype="string"),
            "handle": pd.Series(labels.reindex(numbers).to_numpy(), dtype="string"),
        }
    )
    options = {"network": chosen.name, "relation": picked, "time": time, "min_value": min_value}
    provenance = file_provenance("pajek", [path], options)
    return follow_network_dataset(RawTable(follows, str(path)), path, provenance, notes, owner_id, RawTable(accounts, str(path)))

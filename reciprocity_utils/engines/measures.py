"""What every engine returns, and the arithmetic shared by all of them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..null_models import configuration_model_r, expected_r_from_sums  # noqa: F401 (one formula for every engine)


@dataclass(frozen=True)
class FollowMeasures:
    """The counts and reciprocity measures of one follow network, as one engine computed them.

    ``accounts`` counts the accounts in at least one follow once self-follows and repeats are
    removed (an account named only in a self-follow is not part of the network measured).

    ``accounts_file`` (Parquet: ``account_id``, ``followers``, ``following``, ``mutual``,
    ``followback_rate``) holds raw account ids: it is written to a private folder.
    """

    source: str
    engine: str
    rows_read: int
    self_follows_removed: int
    repeated_follows_removed: int
    follows: int
    accounts: int
    returned_follows: int  # follow arcs a -> b whose reverse b -> a exists (twice the mutual pairs)
    seconds: float
    accounts_file: str | None = None
    configuration_r: float = float("nan")  # expected r of random networks with the same degrees
    notes: tuple[str, ...] = field(default=())

    @property
    def mutual_pairs(self) -> int:
        return self.returned_follows // 2

    @property
    def r(self) -> float:
        return self.returned_follows / self.follows if self.follows else float("nan")

    @property
    def dyad_reciprocity(self) -> float:
        connected = self.follows - self.mutual_pairs
        return self.mutual_pairs / connected if connected else float("nan")

    @property
    def density(self) -> float:
        n = self.accounts
        return self.follows / (n * (n - 1)) if n >= 2 else float("nan")

    @property
    def rho(self) -> float:
        density = self.density
        return (self.r - density) / (1 - density) if self.follows and density < 1 else float("nan")

    def as_dict(self) -> dict[str, Any]:
        values = asdict(self)
        values.update(
            mutual_pairs=self.mutual_pairs,
            r=self.r,
            dyad_reciprocity=self.dyad_reciprocity,
            density=self.density,
            rho=self.rho,
            notes=list(self.notes),
        )
        return {key: None if isinstance(value, float) and not np.isfinite(value) else value for key, value in values.items()}

    def save(self, path: Path) -> Path:
        path.write_text(json.dumps(self.as_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8")
        return path

    def in_words(self) -> str:
        """Plain sentences for the terminal."""
        lines = [
            f"{self.source} ({self.engine} engine, {self.seconds:,.1f} s): {self.rows_read:,} follow rows read; "
            f"{self.self_follows_removed:,} self-follows and {self.repeated_follows_removed:,} repeated follows removed.",
            f"{self.follows:,} follows among {self.accounts:,} accounts; {self.mutual_pairs:,} mutual pairs.",
        ]
        if self.follows:
            lines.append(
                f"r = {self.r:.4f} (share of follows returned); dyad reciprocity {self.dyad_reciprocity:.4f}; "
                f"density {self.density:.3g}; rho {self.rho:.4f}."
            )
            lines.append(
                f"Random networks with the same degrees (configuration model, analytic) would give r = {self.configuration_r:.4f}."
            )
        lines.extend(self.notes)
        return "\n".join(lines)

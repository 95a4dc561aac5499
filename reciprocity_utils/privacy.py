"""Pseudonyms for everyone but the owner, so published reports carry no one else's identity.

A pseudonym is a keyed hash (HMAC-SHA256) of the account id. The key is derived from a secret
kept on this machine, outside every report (``~/.config/reciprocity/pseudonym.key``, created on
first use, or the ``RECIPROCITY_PSEUDONYM_KEY`` environment variable) and from the input's
fingerprint: the same input gets the same pseudonyms on every run, so results stay reproducible,
while nobody holding only the report can reverse them (ids are guessable, the secret is not).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

KEY_ENV = "RECIPROCITY_PSEUDONYM_KEY"
KEY_FILE = Path.home() / ".config" / "reciprocity" / "pseudonym.key"
OWNER_LABEL = "owner"


def machine_secret() -> bytes:
    """The local secret behind every pseudonym key, created once with owner-only permissions."""
    from_env = os.environ.get(KEY_ENV)
    if from_env:
        return from_env.encode()
    if not KEY_FILE.exists():
        KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_hex(32))
    return KEY_FILE.read_text().strip().encode()


def study_key(fingerprint: str) -> bytes:
    return hmac.new(machine_secret(), fingerprint.encode(), hashlib.sha256).digest()


@dataclass
class Pseudonymizer:
    """Maps account ids to display names: ``owner`` for the owner, ``acct-<10 hex>`` for others.

    With ``reveal_names`` (the owner's explicit choice) accounts show their handle, or their id
    when no handle is known.
    """

    key: bytes
    owner_id: str | None = None
    reveal_names: bool = False
    handles: dict[str, str] = field(default_factory=dict)

    def name(self, account_id: str) -> str:
        account_id = str(account_id)
        if self.owner_id is not None and account_id == self.owner_id:
            return OWNER_LABEL
        if self.reveal_names:
            return self.handles.get(account_id) or account_id
        return "acct-" + hmac.new(self.key, account_id.encode(), hashlib.sha256).hexdigest()[:10]

    def __call__(self, ids: pd.Series) -> pd.Series:
        """Pseudonyms for a column of ids (each distinct id hashed once)."""
        ids = ids.astype("string")
        names = {value: self.name(value) for value in ids.dropna().unique()}
        return ids.map(names).astype("string")


def pseudonymizer_for(dataset, reveal_names: bool = False) -> Pseudonymizer:
    """The pseudonymizer of one study dataset, keyed by its input fingerprint."""
    # A network measured out of memory has no accounts table in memory, and edge lists no handles.
    accounts = getattr(dataset, "accounts", None)
    handles = {} if accounts is None else dict(zip(accounts["account_id"].astype(str), accounts["handle"].fillna("").astype(str)))
    return Pseudonymizer(
        key=study_key(dataset.provenance.fingerprint),
        owner_id=dataset.owner_id,
        reveal_names=reveal_names,
        handles={k: v for k, v in handles.items() if v},
    )

"""Pseudonyms: stable for one input and secret, distinct across accounts, owner labelled, opt-in reveal."""

from __future__ import annotations

import pandas as pd

from reciprocity_utils import RawTable, build_dataset
from reciprocity_utils.privacy import Pseudonymizer, pseudonymizer_for, study_key


def dataset():
    follows = RawTable(pd.DataFrame({"follower_id": ["10", "11"], "followee_id": ["11", "12"]}), "follows.csv", 2)
    accounts = RawTable(pd.DataFrame({"account_id": ["10", "11", "12"], "handle": ["me", "ann", ""]}), "accounts.csv", 2)
    return build_dataset(follows, accounts=accounts, owner_id="10")


def test_pseudonyms_hide_ids_and_handles_and_label_the_owner(monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "test-secret")
    names = pseudonymizer_for(dataset())(pd.Series(["10", "11", "12", "11"]))
    assert names.iloc[0] == "owner"
    assert names.iloc[1] == names.iloc[3] != names.iloc[2]
    assert all(n.startswith("acct-") and "11" not in n[:5] and "ann" not in n for n in names.iloc[1:])


def test_same_secret_same_names_other_secret_other_names(monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "one")
    first = pseudonymizer_for(dataset()).name("11")
    assert pseudonymizer_for(dataset()).name("11") == first
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "two")
    assert pseudonymizer_for(dataset()).name("11") != first


def test_key_depends_on_the_input_fingerprint(monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "one")
    assert study_key("a") != study_key("b")


def test_reveal_names_shows_handles_or_ids(monkeypatch):
    monkeypatch.setenv("RECIPROCITY_PSEUDONYM_KEY", "one")
    reveal = pseudonymizer_for(dataset(), reveal_names=True)
    assert reveal.name("11") == "ann" and reveal.name("12") == "12" and reveal.name("10") == "owner"


def test_secret_file_is_created_private(tmp_path, monkeypatch):
    from reciprocity_utils import privacy

    monkeypatch.delenv("RECIPROCITY_PSEUDONYM_KEY", raising=False)
    monkeypatch.setattr(privacy, "KEY_FILE", tmp_path / "cfg" / "pseudonym.key")
    secret = privacy.machine_secret()
    assert len(secret) == 64 and privacy.machine_secret() == secret
    assert (tmp_path / "cfg" / "pseudonym.key").stat().st_mode & 0o077 == 0
    assert Pseudonymizer(key=b"k").name("5") != Pseudonymizer(key=b"j").name("5")

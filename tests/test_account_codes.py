"""Account codes: ids matched as text, exactly, whichever lookup path is taken."""

import numpy as np
import pandas as pd
import pytest

from reciprocity_utils.account_codes import AccountCodes
from reciprocity_utils.dyads import _group_numbers


def test_numeric_ids_are_coded_by_position_and_stay_exact():
    codes = AccountCodes(pd.Series(["1234567890123456789", "7", "16"]))
    assert codes.of(pd.Series(["16", "1234567890123456789", "7", "7"]), "follows, follower_id").tolist() == [2, 0, 1, 1]
    # 19-digit ids one apart are different accounts (a float would merge them).
    codes = AccountCodes(pd.Series(["1234567890123456789", "1234567890123456788"]))
    assert codes.of(pd.Series(["1234567890123456788"]), "x").tolist() == [1]


@pytest.mark.parametrize("written", ["007", "0x10", "+7", "-7", " 7", "7.0", "0"])
def test_a_number_written_otherwise_is_not_the_account(written):
    codes = AccountCodes(pd.Series(["7", "16"]))
    with pytest.raises(ValueError, match=r"follows, followee_id, row 2: account id .* is not in the accounts table \(1 such rows in all\)"):
        codes.of(pd.Series(["7", written]), "follows, followee_id")


def test_text_ids_and_mixed_ids_take_the_text_lookup():
    codes = AccountCodes(pd.Series(["alice@example.social", "7", "did:plc:abc"]))
    assert codes.of(pd.Series(["did:plc:abc", "7", "alice@example.social"]), "x").tolist() == [2, 1, 0]
    zero_padded = AccountCodes(pd.Series(["007", "7"]))
    assert zero_padded.of(pd.Series(["7", "007"]), "x").tolist() == [1, 0]


def test_columns_coded_together_match_one_by_one_and_errors_name_the_column():
    codes = AccountCodes(pd.Series([str(10**18 + i) for i in range(50)]))
    rng = np.random.default_rng(3)
    columns = [(pd.Series([str(10**18 + i) for i in rng.integers(0, 50, 200)]), f"column {k}") for k in range(4)]
    together = codes.of_columns(columns)
    for (values, what), coded in zip(columns, together):
        assert coded.dtype == np.int32
        assert coded.tolist() == codes.of(values, what).tolist()
    with pytest.raises(ValueError, match="interactions, target_id, row 3"):
        codes.of_columns([(pd.Series(["1000000000000000000"]), "interactions, actor_id"), (pd.Series(["1000000000000000001", "1000000000000000002", "9"]), "interactions, target_id")])


def test_empty_account_id_is_refused():
    with pytest.raises(ValueError, match="account_id is empty in row 2"):
        AccountCodes(pd.Series(["1", None], dtype="string"))


@pytest.mark.parametrize("key_bound", [1_000, 2**62])
def test_group_numbers_agree_with_factorize_on_both_paths(key_bound):
    # 2**62 leaves no room for row positions beside the key: the hash path is taken.
    keys = np.random.default_rng(5).integers(0, 1_000, 5_000)
    groups, n_groups = _group_numbers(keys, key_bound)
    expected, uniques = pd.factorize(keys)
    assert n_groups == len(uniques)
    # Same partition: a one-to-one map between the two numberings.
    pairs = set(zip(groups.tolist(), expected.tolist()))
    assert len(pairs) == n_groups == len({g for g, _ in pairs}) == len({e for _, e in pairs})
    assert _group_numbers(np.empty(0, dtype=np.int64), key_bound)[1] == 0

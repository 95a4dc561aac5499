"""Account codes: ids matched as text, exactly, whichever lookup path is taken."""

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from reciprocity_utils import dyads
from reciprocity_utils.account_codes import AccountCodes
from reciprocity_utils.dyads import _sorted_by_pair


def test_numeric_ids_are_coded_by_position_and_stay_exact():
    codes = AccountCodes(pd.Series(["1234567890123456789", "7", "16"]))
    assert codes.of(pd.Series(["16", "1234567890123456789", "7", "7"]), "follows, follower_id").tolist() == [2, 0, 1, 1]
    # 19-digit ids one apart are different accounts (a float would merge them).
    codes = AccountCodes(pd.Series(["1234567890123456789", "1234567890123456788"]))
    assert codes.of(pd.Series(["1234567890123456788"]), "x").tolist() == [1]


@pytest.mark.parametrize(
    "written", ["007", "0x10", "0X10", "00", "+7", "-7", "-0", "-16", " 7", "7 ", "7.0", "0", "٧", "1e1", "99999999999999999999"]
)
def test_a_number_written_otherwise_is_not_the_account(written):
    codes = AccountCodes(pd.Series(["7", "16"]))
    with pytest.raises(ValueError, match=r"follows, followee_id, row 2: account id .* is not in the accounts table \(1 such rows in all\)"):
        codes.of(pd.Series(["7", written]), "follows, followee_id")


def test_text_ids_and_mixed_ids_take_the_text_lookup():
    codes = AccountCodes(pd.Series(["alice@example.social", "7", "did:plc:abc"]))
    assert codes.of(pd.Series(["did:plc:abc", "7", "alice@example.social"]), "x").tolist() == [2, 1, 0]
    zero_padded = AccountCodes(pd.Series(["007", "7"]))
    assert zero_padded.of(pd.Series(["7", "007"]), "x").tolist() == [1, 0]
    with_zero = AccountCodes(pd.Series(["0", "7"]))
    assert with_zero.of(pd.Series(["7", "0"]), "x").tolist() == [1, 0]
    for written in ("00", "-0"):
        with pytest.raises(ValueError, match="not in the accounts table"):
            with_zero.of(pd.Series([written]), "x")


def test_numeric_lookup_in_slices_matches_the_text_lookup(monkeypatch):
    """Values parsed slice by slice: a later slice that does not parse sends the whole column to the text lookup."""
    import reciprocity_utils.account_codes as account_codes

    monkeypatch.setattr(account_codes, "_SLICE", 3)
    codes = AccountCodes(pd.Series([str(10**18 + i) for i in range(20)] + ["7"]))
    values = [str(10**18 + i) for i in (5, 0, 19, 3, 3, 11, 8)] + ["7"]
    assert codes.of(pd.Series(values), "x").tolist() == [5, 0, 19, 3, 3, 11, 8, 20]
    with pytest.raises(ValueError, match=r"x, row 8: account id '\+7' is not in the accounts table"):
        codes.of(pd.Series(values[:-1] + ["+7"]), "x")
    with pytest.raises(ValueError, match=r"x, row 7: account id '12' is not in the accounts table \(1 such rows"):
        codes.of(pd.Series(values[:-2] + ["12", "7"]), "x")


def test_columns_coded_together_match_one_by_one_and_errors_name_the_column():
    codes = AccountCodes(pd.Series([str(10**18 + i) for i in range(50)]))
    rng = np.random.default_rng(3)
    columns = [(pd.Series([str(10**18 + i) for i in rng.integers(0, 50, 200)]), f"column {k}") for k in range(4)]
    together = codes.of_columns(columns)
    for (values, what), coded in zip(columns, together):
        assert coded.dtype == np.int32
        assert coded.tolist() == codes.of(values, what).tolist()
    with pytest.raises(ValueError, match="interactions, target_id, row 3"):
        codes.of_columns(
            [
                (pd.Series(["1000000000000000000"]), "interactions, actor_id"),
                (pd.Series(["1000000000000000001", "1000000000000000002", "9"]), "interactions, target_id"),
            ]
        )


def test_empty_or_repeated_account_ids_are_refused():
    with pytest.raises(ValueError, match="account_id is empty in row 2"):
        AccountCodes(pd.Series(["1", None], dtype="string"))
    for ids in (["7", "8", "7"], ["alice", "bob", "alice"]):  # both lookup paths
        with pytest.raises(ValueError, match=r"account_id '\w+' in row 3 repeats an earlier row \(1 repeats in all\)"):
            AccountCodes(pd.Series(ids))


@pytest.mark.parametrize("key_bound", [1_000, 2**62])
def test_sorted_by_pair_on_both_paths(key_bound):
    # 2**62 leaves no room for row numbers beside the key: the argsort path is taken.
    keys = np.random.default_rng(5).integers(0, 1_000, 5_000)
    pair, row = _sorted_by_pair(keys.copy(), key_bound)  # the packed path consumes its argument
    assert (np.diff(pair) >= 0).all() and (keys[row] == pair).all()
    assert all((np.diff(row[pair == k]) > 0).all() for k in np.unique(keys)[:50])  # ties by row
    assert len(_sorted_by_pair(np.empty(0, dtype=np.int64), key_bound)[0]) == 0


def _reference_match(a, b, actor, target):
    arc_of = {(x, y): i for i, (x, y) in enumerate(zip(a, b))}
    reverse = [arc_of.get((y, x), -1) for x, y in zip(a, b)]
    ab = [arc_of.get((x, y), -1) for x, y in zip(actor, target)]
    ba = [arc_of.get((y, x), -1) for x, y in zip(actor, target)]
    return reverse, ab, ba


@pytest.mark.parametrize("wide_keys", [False, True])
@pytest.mark.parametrize(("n_accounts", "n_arcs", "n_events"), [(30, 200, 300), (30, 200, 0), (30, 0, 50), (2, 2, 5)])
def test_match_finds_reverse_arcs_and_event_arcs_like_a_dictionary(monkeypatch, wide_keys, n_accounts, n_arcs, n_events):
    rng = np.random.default_rng(n_arcs + n_events)
    pairs = {(int(x), int(y)) for x, y in rng.integers(0, n_accounts, (n_arcs * 2, 2)) if x != y}
    arcs = sorted(pairs)[:n_arcs]
    rng.shuffle(arcs)
    a = [x for x, _ in arcs]
    b = [y for _, y in arcs]
    actor = rng.integers(0, n_accounts, n_events).tolist()
    target = [(x + 1 + int(k)) % n_accounts for x, k in zip(actor, rng.integers(0, n_accounts - 1, n_events))]
    ids = [str(10**18 + i) for i in range(n_accounts)]
    dataset = SimpleNamespace(
        follows=pd.DataFrame({"follower_id": [ids[x] for x in a], "followee_id": [ids[y] for y in b]}, dtype="string"),
        interactions=pd.DataFrame({"actor_id": [ids[x] for x in actor], "target_id": [ids[y] for y in target]}, dtype="string"),
    )
    if wide_keys:
        real = dyads._sorted_by_pair
        monkeypatch.setattr(dyads, "_sorted_by_pair", lambda keys, bound: real(keys, 2**62))
    matched = dyads._match(dataset, AccountCodes(pd.Series(ids)))
    reverse, ab, ba = _reference_match(a, b, actor, target)
    assert matched.reverse.tolist() == reverse
    assert matched.ab_arc.tolist() == ab
    assert matched.ba_arc.tolist() == ba

"""Key and value layouts: round trips, byte order equal to logical order, corrupt input."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pyri.errors import TrinaryError
from pyri.storage import MemoryEngine, StorageError
from pyri.storage import schema as s
from pyri.trinary import (
    ALPHABET,
    NULL_HASH,
    Trits,
    trits_to_bytes,
    trits_to_trytes,
    trytes_to_trits,
)

hashes = st.text(alphabet=ALPHABET, min_size=81, max_size=81)
tags = st.text(alphabet=ALPHABET, min_size=27, max_size=27)
indexes = st.integers(0, 2**32 - 1)
balances = st.integers(-(2**63), 2**63 - 1)
# A seed rather than 8019 drawn integers keeps hypothesis fast; the extremes are added below.
trit_rows = st.integers(0, 2**32 - 1).map(
    lambda seed: np.random.default_rng(seed).integers(-1, 2, size=8019, dtype=np.int8)
) | st.sampled_from([-1, 0, 1]).map(lambda trit: np.full(8019, trit, dtype=np.int8))


@given(hashes)
def test_hash_key_round_trips_and_matches_trinary_packing(trytes: str) -> None:
    key = s.hash_key(trytes)
    assert len(key) == s.HASH_BYTES
    assert key == trits_to_bytes(trytes_to_trits(trytes))
    assert s.hash_from_key(key) == trytes


@given(st.lists(hashes, max_size=20))
def test_batch_hash_conversions_agree_with_single_ones(trytes: list[str]) -> None:
    keys = s.hash_keys(trytes)
    assert keys == [s.hash_key(item) for item in trytes]
    assert s.hashes_from_keys(keys) == trytes
    if trytes:
        trits = np.stack([trytes_to_trits(item) for item in trytes])
        assert s.hash_keys_from_trits(trits) == keys
        assert s.hash_keys_from_trits(trits[0]) == keys[:1]


def test_null_hash_packs_to_zero_bytes() -> None:
    assert s.hash_key(NULL_HASH) == bytes(49)
    assert s.hash_from_key(bytes(49)) == NULL_HASH


@pytest.mark.parametrize("bad", ["A" * 80, "A" * 82, "a" * 81, "É" * 81, "A" * 80 + "-"])
def test_malformed_hashes_raise_trinary_error(bad: str) -> None:
    with pytest.raises(TrinaryError):
        s.hash_key(bad)
    with pytest.raises(TrinaryError):
        s.hash_keys(["9" * 81, bad])


def test_non_strings_raise_trinary_error() -> None:
    with pytest.raises(TrinaryError):
        s.hash_key(None)  # type: ignore[arg-type]
    with pytest.raises(TrinaryError):
        s.hash_keys(["9" * 81, b"9" * 81])  # type: ignore[list-item]


def test_hash_trits_of_the_wrong_shape_are_refused() -> None:
    with pytest.raises(TrinaryError):
        s.hash_keys_from_trits(np.zeros((2, 242), dtype=np.int8))


def test_corrupt_hash_keys_raise_storage_error() -> None:
    with pytest.raises(StorageError):
        s.hash_from_key(bytes(48))
    with pytest.raises(StorageError, match="outside"):
        s.hash_from_key(bytes([122]) + bytes(48))
    with pytest.raises(StorageError):
        s.hashes_from_keys([bytes(49), bytes(50)])


@given(tags)
def test_tag_key_round_trips(trytes: str) -> None:
    key = s.tag_key(trytes)
    assert len(key) == s.TAG_BYTES
    assert s.tag_from_key(key) == trytes
    assert s.tag_keys_from_trits(trytes_to_trits(trytes)) == [key]


@given(trit_rows)
def test_transaction_round_trips(array: Trits) -> None:
    (packed,) = s.encode_transactions(array)
    assert len(packed) == s.TX_BYTES
    assert packed == trits_to_bytes(array)
    assert np.array_equal(s.decode_transaction(packed), array)
    trytes = trits_to_trytes(array)
    assert s.encode_transaction_trytes([trytes]) == [packed]
    assert s.decode_transaction_trytes(packed) == trytes


def test_transaction_of_the_wrong_size_is_refused() -> None:
    with pytest.raises(StorageError):
        s.decode_transaction(bytes(1603))


@given(hashes, hashes)
def test_composite_index_keys_split_back(first: str, second: str) -> None:
    a, b = s.hash_key(first), s.hash_key(second)
    key = s.approver_key(a, b)
    assert key.startswith(a)
    assert s.split_approver_key(key) == (a, b)
    assert s.indexed_hash(key) == b
    assert s.indexed_hash(s.address_index_key(a, b)) == b
    assert s.indexed_hash(s.bundle_index_key(a, b)) == b
    tag = s.tag_key(first[:27])
    assert s.tag_index_key(tag, 1_700_000_123_456, b) == tag + bytes.fromhex("6553f17b") + b
    assert s.indexed_hash(s.tag_index_key(tag, 5, b)) == b
    assert s.indexed_hash(tag + b) == b  # the tag keys of version 2 databases
    assert s.tag_index_entries([tag, tag], 9_999, [a, b]) == [
        (s.tag_index_key(tag, 9_999, a), b""),
        (s.tag_index_key(tag, 9_999, b), b""),
    ]


def test_tag_keys_order_by_tag_then_arrival_second() -> None:
    # What one batch adds under a tag sorts after what earlier seconds added (then by hash).
    tag, other = s.tag_key("A" * 27), s.tag_key("B" * 27)
    zeros, high = s.hash_key("9" * 81), s.hash_key("Z" * 81)  # packed: 0x00..., 0xe4...
    first, same_second, later = (
        s.tag_index_key(tag, 1_000, zeros),
        s.tag_index_key(tag, 1_999, high),
        s.tag_index_key(tag, 2_000, zeros),
    )
    assert sorted([later, same_second, first]) == [first, same_second, later]
    other_key = s.tag_index_key(other, 0, zeros)
    assert all(key.startswith(tag) for key in (first, same_second, later))
    assert not other_key.startswith(tag)
    # Out of range arrival times are clamped, never refused.
    assert s.arrival_second(-5) == bytes(4)
    assert s.arrival_second(2**40 * 1000) == b"\xff" * 4


def test_index_keys_check_their_parts() -> None:
    key = s.HashKey(bytes(49))
    with pytest.raises(StorageError):
        s.approver_key(key, s.HashKey(bytes(48)))
    with pytest.raises(StorageError):
        s.tag_index_key(s.TagKey(bytes(49)), 0, key)
    with pytest.raises(StorageError):
        s.tag_index_entries([s.TagKey(bytes(17))], 0, [s.HashKey(bytes(48))])
    with pytest.raises(StorageError):
        s.indexed_hash(bytes(50))
    with pytest.raises(StorageError):
        s.split_approver_key(bytes(97))


@given(indexes, indexes)
def test_index_keys_sort_as_the_numbers_do(a: int, b: int) -> None:
    assert (s.encode_index(a) < s.encode_index(b)) == (a < b)
    assert s.decode_index(s.encode_index(a)) == a


@pytest.mark.parametrize("bad", [-1, 2**32])
def test_index_out_of_range_is_refused(bad: int) -> None:
    with pytest.raises(StorageError):
        s.encode_index(bad)


@given(hashes, indexes, indexes)
def test_history_keys_order_by_milestone_within_an_address(address: str, a: int, b: int) -> None:
    key = s.hash_key(address)
    assert (s.history_key(key, a) < s.history_key(key, b)) == (a < b)
    assert s.split_history_key(s.history_key(key, a)) == (key, a)


def test_balance_at_a_milestone_is_one_reverse_range_read() -> None:
    engine = MemoryEngine(s.BUCKETS)
    address, other = s.hash_keys(["A" * 81, "B" * 81])
    with engine.write() as batch:
        for index, balance in ((10, 100), (12, 0), (15, 70)):
            batch.put(s.BALANCE_HISTORY, s.history_key(address, index), s.encode_balance(balance))
        batch.put(s.BALANCE_HISTORY, s.history_key(other, 11), s.encode_balance(5))

    def balance_at(index: int) -> int | None:
        with engine.read() as view:
            bound = s.history_key(address, index)
            walk = view.iterate(s.BALANCE_HISTORY, prefix=address, start=bound, reverse=True)
            found = next(walk, None)
        return None if found is None else s.decode_balance(found[1])

    assert [balance_at(i) for i in (9, 10, 11, 12, 14, 15, 99)] == [None, 100, 100, 0, 0, 70, 70]


@given(balances)
def test_balance_round_trips(balance: int) -> None:
    assert s.decode_balance(s.encode_balance(balance)) == balance


def test_balance_out_of_range_is_refused() -> None:
    with pytest.raises(StorageError):
        s.encode_balance(2**63)
    with pytest.raises(StorageError):
        s.decode_balance(bytes(7))


@given(st.lists(st.tuples(hashes, balances), max_size=10))
def test_diff_round_trips_in_order(entries: list[tuple[str, int]]) -> None:
    diff = [(s.hash_key(address), change) for address, change in entries]
    data = s.encode_diff(diff)
    assert len(data) == 57 * len(diff)
    assert s.decode_diff(data) == diff


def test_corrupt_diffs_are_refused() -> None:
    with pytest.raises(StorageError):
        s.decode_diff(bytes(58))
    with pytest.raises(StorageError):
        s.encode_diff([(s.HashKey(bytes(48)), 1)])
    with pytest.raises(StorageError):
        s.encode_diff([(s.HashKey(bytes(49)), 2**63)])


tx_metas = st.builds(
    s.TxMeta,
    solid=st.booleans(),
    validity=st.sampled_from(s.Validity),
    snapshot_index=st.integers(0, 2**31 - 1),
    arrival_ms=st.integers(0, 2**63 - 1),
    milestone=st.booleans(),
)


@given(tx_metas)
def test_tx_meta_round_trips(meta: s.TxMeta) -> None:
    data = meta.encode()
    assert len(data) == 14
    assert s.TxMeta.decode(data) == meta


def test_tx_meta_defaults_mean_unknown_and_unconfirmed() -> None:
    meta = s.TxMeta.decode(s.TxMeta().encode())
    assert not meta.solid and not meta.milestone
    assert meta.validity is s.Validity.UNKNOWN
    assert meta.snapshot_index == 0


def test_corrupt_or_out_of_range_tx_meta_is_refused() -> None:
    good = s.TxMeta(solid=True).encode()
    with pytest.raises(StorageError):
        s.TxMeta.decode(good[:-1])
    with pytest.raises(StorageError):
        s.TxMeta.decode(bytes([0x80]) + good[1:])  # unknown flag bit
    with pytest.raises(StorageError):
        s.TxMeta.decode(good[:1] + bytes([2]) + good[2:])  # validity 2
    with pytest.raises(StorageError):
        s.TxMeta(snapshot_index=2**31).encode()


@given(indexes, hashes, st.integers(-(2**63), 2**63 - 1))
def test_node_meta_records_round_trip(index: int, milestone: str, timestamp: int) -> None:
    ref = s.MilestoneRef(index, s.hash_key(milestone))
    assert s.MilestoneRef.decode(ref.encode()) == ref
    info = s.SnapshotInfo(index, s.hash_key(milestone), timestamp)
    assert s.SnapshotInfo.decode(info.encode()) == info


def test_every_bucket_is_listed_once() -> None:
    names = {value for name, value in vars(s).items() if name.isupper() and isinstance(value, str)}
    assert set(s.BUCKETS) == names
    assert len(s.BUCKETS) == len(set(s.BUCKETS))
    MemoryEngine(s.BUCKETS)  # valid bucket names


@given(st.lists(trit_rows, min_size=1, max_size=4), st.integers(0, 2**32 - 1))
def test_packing_from_trits_equals_packing_from_trytes(rows: list[Trits], seed: int) -> None:
    """Ingest packs records and index keys from the parse's trit matrix; the trytes route
    (transactions whose trits are gone) must give the same bytes, field by field."""
    matrix = np.stack(rows)
    hash_trits = np.random.default_rng(seed).integers(-1, 2, (len(rows), 243), dtype=np.int8)
    trytes = [trits_to_trytes(row) for row in matrix]
    hashes_ = [trits_to_trytes(row) for row in hash_trits]
    from_trits = s.pack_transactions(matrix, hash_trits)
    assert from_trits == s.pack_transaction_trytes(trytes, hashes_)
    for i, text in enumerate(trytes):
        assert from_trits.records[i] == s.encode_transaction_trytes([text])[0]
        assert from_trits.hashes[i] == s.hash_key(hashes_[i])
        assert from_trits.addresses[i] == s.hash_key(text[2187:2268])
        assert from_trits.bundles[i] == s.hash_key(text[2349:2430])
        assert from_trits.trunks[i] == s.hash_key(text[2430:2511])
        assert from_trits.branches[i] == s.hash_key(text[2511:2592])
        assert from_trits.tags[i] == s.tag_key(text[2592:2619])
        assert from_trits.obsolete_tags[i] == s.tag_key(text[2295:2322])


@given(trit_rows)
def test_links_are_decoded_from_the_stored_record(array: Trits) -> None:
    (packed,) = s.encode_transactions(array)

    def number(start: int) -> int:
        return sum(int(trit) * 3**i for i, trit in enumerate(array[start : start + 27]))

    trunks, branches, current, last = s.decode_links([packed, packed])

    trunk, branch = trits_to_trytes(array[7290:7533]), trits_to_trytes(array[7533:7776])
    assert trunks == s.hash_keys([trunk, trunk]) and branches == s.hash_keys([branch, branch])
    assert current == [number(6993)] * 2 and last == [number(7020)] * 2


def test_links_of_nothing_and_of_a_corrupt_record() -> None:
    assert s.decode_links([]) == ([], [], [], [])
    with pytest.raises(StorageError):
        s.decode_links([bytes(s.TX_BYTES - 1)])
    with pytest.raises(StorageError, match="#1"):
        s.decode_links([bytes(s.TX_BYTES), bytes(1500) + b"\x7f" + bytes(103)])


@given(tx_metas)
def test_the_snapshot_index_is_read_without_decoding_the_rest(meta: s.TxMeta) -> None:
    assert s.meta_snapshot_index(meta.encode()) == meta.snapshot_index


def test_a_corrupt_record_has_no_snapshot_index() -> None:
    good = s.TxMeta(solid=True, snapshot_index=7).encode()
    for bad in (good[:-1], bytes([0x80]) + good[1:], good[:1] + bytes([2]) + good[2:]):
        with pytest.raises(StorageError):
            s.meta_snapshot_index(bad)


@given(st.lists(st.none() | tx_metas, max_size=6))
def test_snapshot_indexes_of_many_records_at_once(metas: list[s.TxMeta | None]) -> None:
    records = [None if meta is None else meta.encode() for meta in metas]
    expected = [0 if meta is None else meta.snapshot_index for meta in metas]
    assert s.meta_snapshot_indexes(records) == expected


def test_snapshot_indexes_refuse_a_corrupt_record() -> None:
    good = s.TxMeta(solid=True).encode()
    for bad in (good[:-1], good[:1] + bytes([2]) + good[2:]):
        with pytest.raises(StorageError):
            s.meta_snapshot_indexes([good, None, bad])

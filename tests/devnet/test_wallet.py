"""The workload's wallet: signed bundles validate (§5.4-5.7), keys are used once, double spends
really conflict, and its bookkeeping survives a restart."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from pyri.crypto import wots
from pyri.devnet.bundle_builder import Draft, attach_bundle
from pyri.devnet.errors import WalletError
from pyri.devnet.seeds import named_seed
from pyri.devnet.wallet import (
    Account,
    Input,
    Output,
    Wallet,
    address_of,
    message_bundle,
    value_bundle,
)
from pyri.model.bundle import validate_bundle
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH

ALICE = Account("alice", named_seed("TEST9ALICE"), 1)
BOB = Account("bob", named_seed("TEST9BOB"), 2)
CAROL = Account("carol", named_seed("TEST9CAROL"), 3)


def fixed_clock() -> float:
    return 1_700_000_000.0


def _input(account: Account, index: int, balance: int) -> Input:
    return Input(account, index, address_of(account.seed, index, account.security), balance)


def _attached(drafts: list[Draft]) -> list[Transaction]:
    return attach_bundle(drafts, NULL_HASH, NULL_HASH, 1, fixed_clock)


@pytest.mark.parametrize("account", [ALICE, BOB, CAROL], ids=lambda a: f"security{a.security}")
def test_single_input_transfer_validates(account: Account) -> None:
    source = _input(account, 0, 1000)
    outputs = [Output(address_of(BOB.seed, 7, 2), 600)]
    remainder = Output(address_of(account.seed, 1, account.security), 400)
    bundle = _attached(value_bundle([source], outputs, remainder, tag="TEST", clock=fixed_clock))
    verdict = validate_bundle(bundle, enforce_extra_rules=True)
    assert verdict.valid, verdict.message
    assert dict(verdict.value_diff) == {
        source.address: -1000,
        outputs[0].address: 600,
        remainder.address: 400,
    }
    # Outputs, then the input over `security` transactions, then the remainder.
    assert len(bundle) == 1 + account.security + 1
    assert [tx.value for tx in bundle[1 : 1 + account.security]] == [-1000] + [0] * (
        account.security - 1
    )
    # Wallets keep the normalized bundle hash free of 13 (the "M bug").
    assert 13 not in wots.normalize(bundle[0].bundle).tolist()


def test_several_inputs_and_outputs_of_mixed_security() -> None:
    inputs = [_input(ALICE, 2, 10), _input(CAROL, 4, 25), _input(BOB, 1, 5)]
    outputs = [Output(address_of(BOB.seed, 20 + k, 2), v) for k, v in enumerate((3, 30))]
    remainder = Output(address_of(ALICE.seed, 3, 1), 7)
    bundle = _attached(value_bundle(inputs, outputs, remainder, tag="TEST", clock=fixed_clock))
    verdict = validate_bundle(bundle, enforce_extra_rules=True)
    assert verdict.valid, verdict.message
    assert sum(verdict.value_diff.values()) == 0
    assert set(verdict.spent_addresses) == {i.address for i in inputs}
    assert len(bundle) == 2 + (1 + 3 + 2) + 1


def test_unbalanced_transfer_is_refused() -> None:
    with pytest.raises(WalletError, match="unbalanced"):
        value_bundle(
            [_input(ALICE, 0, 10)], [Output(NULL_HASH, 11)], None, tag="T", clock=fixed_clock
        )


def test_message_bundle() -> None:
    bundle = _attached(message_bundle(NULL_HASH, "hello devnet", tag="TEST", clock=fixed_clock))
    assert len(bundle) == 1 and bundle[0].value == 0
    assert validate_bundle(bundle, enforce_extra_rules=True).valid


def _funded_wallet(tmp_path: Path | None = None) -> Wallet:
    wallet = Wallet([ALICE, BOB, CAROL], tmp_path, initial_keys={"alice": 3})
    for index in range(3):
        wallet.balances[address_of(ALICE.seed, index, 1)] = 100 * (index + 1)
    return wallet


def test_plan_moves_exactly_the_inputs_to_fresh_addresses() -> None:
    wallet = _funded_wallet()
    rng = random.Random(5)
    known = set(wallet.addresses())
    inputs, outputs, remainder = wallet.plan(rng, max_inputs=3, max_outputs=3)
    total = sum(i.balance for i in inputs)
    received = sum(o.value for o in outputs) + (remainder.value if remainder else 0)
    assert total == received
    assert all(o.value > 0 for o in outputs)
    fresh = [o.address for o in outputs] + ([remainder.address] if remainder else [])
    assert not set(fresh) & known and len(set(fresh)) == len(fresh)
    assert {i.address for i in inputs} <= wallet.spent
    # Spent inputs are not offered again.
    assert not {i.address for i in inputs} & {i.address for i in wallet.inputs(ALICE)}


def test_double_spend_conflicts() -> None:
    wallet = _funded_wallet()
    rng = random.Random(9)
    inputs, outputs, remainder = wallet.plan(rng, max_inputs=2, max_outputs=2)
    twin_outputs = wallet.conflicting_outputs(inputs, rng)
    first = _attached(value_bundle(inputs, outputs, remainder, tag="A", clock=fixed_clock))
    second = _attached(value_bundle(inputs, twin_outputs, None, tag="B", clock=fixed_clock))
    one = validate_bundle(first, enforce_extra_rules=True)
    two = validate_bundle(second, enforce_extra_rules=True)
    assert one.valid and two.valid  # each alone is a valid, signed spend
    assert first[0].bundle != second[0].bundle
    # Together they take the inputs' balances twice: the ledger would go negative.
    for item in inputs:
        assert item.balance + one.value_diff[item.address] + two.value_diff[item.address] < 0


def test_state_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "wallet.json"
    wallet = _funded_wallet(path)
    wallet.plan(random.Random(1), max_inputs=1, max_outputs=2)
    wallet.save()
    again = Wallet([ALICE, BOB, CAROL], path, initial_keys={"alice": 3})
    assert again.addresses() == wallet.addresses()
    assert again.spent == wallet.spent
    with pytest.raises(WalletError, match="another seed"):
        Wallet([Account("alice", named_seed("OTHER"), 1), BOB, CAROL], path)


def test_no_funds() -> None:
    with pytest.raises(WalletError, match="no account"):
        Wallet([ALICE]).plan(random.Random(), max_inputs=1, max_outputs=1)

"""A wallet for the workload generator: accounts (seed + security level), their addresses, which
of them hold confirmed funds, and signed value bundles laid out as IOTA wallets lay them out.

A value bundle is: the outputs, then each input (its first transaction carries minus the
address's whole balance, followed by security - 1 zero-value transactions at the same address
for the remaining signature fragments, §5.7), then the remainder, if any, to a fresh address
of the sender. Like real wallets, the obsoleteTag is bumped until the normalized bundle hash
holds no 13 (the "M bug", §4.4), so no signature publishes an unhashed key chunk.

Addresses are used the way wallets must use WOTS keys: an output always goes to a fresh address,
and an address is spent from once. The one deliberate exception is the workload's double spend
(``conflicting_outputs``), a second bundle over the same inputs, signed with the same keys.

The wallet's bookkeeping (the addresses handed out per account, those spent from) is written
to its state file before anything is sent, so a restart never reuses a key or an address.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pyri.crypto import wots
from pyri.crypto.kerl import kerl_hash
from pyri.devnet.bundle_builder import FRAGMENT_TRYTES, Clock, Draft, bundle_hash, pad_tag, seal
from pyri.devnet.client import NodeClient
from pyri.devnet.errors import WalletError
from pyri.devnet.files import read_json, write_json
from pyri.devnet.seeds import check_seed
from pyri.trinary import (
    Trits,
    bytes_to_trytes,
    int_to_trytes,
    trits_to_trytes,
    trytes_to_int,
    trytes_to_trits,
)

MAX_TRYTE = 13


@dataclass(frozen=True, slots=True)
class Account:
    """A seed the workload owns, used at one security level."""

    name: str
    seed: str
    security: int

    def __post_init__(self) -> None:
        check_seed(self.seed, f"seed of account {self.name}")
        if self.security not in (1, 2, 3):
            raise WalletError(
                f"account {self.name}: security must be 1, 2 or 3, not {self.security}"
            )

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "seed": self.seed, "security": self.security}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Account:
        return cls(str(data["name"]), str(data["seed"]), int(data["security"]))


def private_key(seed: str, index: int, security: int) -> Trits:
    """Key ``index`` of ``seed`` (Kerl, as every user key on IOTA), read-only."""
    key = wots.private_key(wots.subseed(trytes_to_trits(seed), index), security)
    key.setflags(write=False)
    return key


def address_of(seed: str, index: int, security: int) -> str:
    """The address of key ``index`` of ``seed`` at ``security``."""
    digests = wots.key_digests(private_key(seed, index, security))
    return trits_to_trytes(wots.address_from_digests(digests))


@dataclass(frozen=True, slots=True)
class Input:
    """A funded address to spend from: all of ``balance`` leaves it."""

    account: Account
    index: int
    address: str
    balance: int


@dataclass(frozen=True, slots=True)
class Output:
    address: str
    value: int


def _increment(tag: str) -> str:
    """The 27-tryte tag plus one (wrapping at the largest 81-trit value), as wallets bump the
    obsoleteTag."""
    value = trytes_to_int(tag) + 1
    return int_to_trytes(value if value <= (3**81 - 1) // 2 else 0, 27)


def _without_m(drafts: list[Draft]) -> list[Draft]:
    """Seal ``drafts``, bumping the tail's obsoleteTag until no normalized tryte is 13.

    Only 1 hash in ~100 passes, so the loop hashes the essences directly: the other drafts'
    essences are spelled once, the tail's obsoleteTag is spliced in per try."""
    numbered = seal(drafts)
    tail = numbered[0].essence()
    start = 81 + 27  # the obsoleteTag follows the address (81) and the value (27)
    rest = "".join(d.essence() for d in numbered[1:])
    tag = numbered[0].obsolete_tag
    while True:
        essences = tail[:start] + tag + tail[start + 27 :] + rest
        digest = trits_to_trytes(kerl_hash(trytes_to_trits(essences)))
        if MAX_TRYTE not in wots.normalize(digest).tolist():
            break
        tag = _increment(tag)
    sealed = [replace(d, bundle=digest) for d in numbered]
    sealed[0] = replace(sealed[0], obsolete_tag=tag)
    return sealed


def value_bundle(
    inputs: Sequence[Input],
    outputs: Sequence[Output],
    remainder: Output | None,
    *,
    tag: str,
    clock: Clock,
) -> list[Draft]:
    """The signed drafts (tail first) of a transfer from ``inputs`` to ``outputs``; the values
    must balance: sum(outputs) + remainder == sum(input balances)."""
    spent = sum(i.balance for i in inputs)
    received = sum(o.value for o in outputs) + (remainder.value if remainder else 0)
    if spent != received or not inputs or any(o.value <= 0 for o in outputs):
        raise WalletError(f"unbalanced transfer: inputs {spent}, outputs {received}")
    now = int(clock())
    tag = pad_tag(tag)
    drafts = [Draft(o.address, o.value, tag, tag, timestamp=now) for o in outputs]
    starts: list[int] = []
    for item in inputs:
        starts.append(len(drafts))
        for k in range(item.account.security):
            drafts.append(
                Draft(item.address, -item.balance if k == 0 else 0, tag, tag, timestamp=now)
            )
    if remainder is not None and remainder.value:
        drafts.append(Draft(remainder.address, remainder.value, tag, tag, timestamp=now))
    sealed = _without_m(drafts)
    digest = sealed[0].bundle
    for start, item in zip(starts, inputs, strict=True):
        key = private_key(item.account.seed, item.index, item.account.security)
        signature = trits_to_trytes(wots.sign(key, digest))
        for k in range(item.account.security):
            fragment = signature[k * FRAGMENT_TRYTES : (k + 1) * FRAGMENT_TRYTES]
            sealed[start + k] = replace(sealed[start + k], fragment=fragment)
    assert bundle_hash(sealed) == digest  # fragments are outside the essence
    return sealed


def message_bundle(
    address: str, text: str, *, tag: str, clock: Clock, number: int = 0
) -> list[Draft]:
    """A zero-value one-transaction bundle carrying ``text`` (ASCII, two trytes per byte).

    The message is not part of the essence, so two messages to one address in the same second
    would share a bundle hash; ``number`` goes into the obsoleteTag to keep them apart."""
    message = bytes_to_trytes(text.encode("ascii", "replace"))[:FRAGMENT_TRYTES]
    obsolete = pad_tag(pad_tag(tag)[:18] + int_to_trytes(number, 9))
    return seal([Draft(address, 0, obsolete, pad_tag(tag), message, int(clock()))])


class Wallet:
    """Accounts, their addresses, confirmed balances and what was spent; persisted in
    ``state_path`` (None: kept in memory only). Addresses are kept with the state: a long run
    hands out thousands, and each costs milliseconds of Kerl to derive again."""

    def __init__(
        self,
        accounts: Sequence[Account],
        state_path: Path | None = None,
        *,
        initial_keys: Mapping[str, int] | None = None,
        reserved: Iterable[str] = (),
    ) -> None:
        if not accounts:
            raise WalletError("a wallet needs at least one account")
        names = [a.name for a in accounts]
        if len(set(names)) != len(names):
            raise WalletError(f"account names must differ: {names}")
        self.accounts = list(accounts)
        self.state_path = state_path
        # Addresses never spent from, whatever they hold (the genesis reserve).
        self.reserved = frozenset(reserved)
        self.spent: set[str] = set()
        self.balances: dict[str, int] = {}
        # Per account, the addresses of keys 0, 1, 2, ... handed out so far.
        self._addresses: dict[str, list[str]] = {a.name: [] for a in accounts}
        if state_path is not None and state_path.exists():
            self._load(state_path)
        for account in accounts:
            self._extend(account, (initial_keys or {}).get(account.name, 0))

    def _extend(self, account: Account, count: int) -> None:
        known = self._addresses[account.name]
        while len(known) < count:
            known.append(address_of(account.seed, len(known), account.security))

    def _load(self, path: Path) -> None:
        try:
            data = read_json(path)
            for name, addresses in dict(data["addresses"]).items():
                if name in self._addresses:
                    self._addresses[name] = [str(a) for a in addresses]
            self.spent.update(str(a) for a in data["spent"])
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise WalletError(f"{path}: unreadable wallet state: {error}") from None
        for account in self.accounts:
            known = self._addresses[account.name]
            # A state written for other seeds would make every balance wrong: check key 0.
            if known and known[0] != address_of(account.seed, 0, account.security):
                raise WalletError(f"{path} was written for another seed of account {account.name}")

    def save(self) -> None:
        if self.state_path is not None:
            write_json(self.state_path, {"addresses": self._addresses, "spent": sorted(self.spent)})

    def account(self, name: str) -> Account:
        for account in self.accounts:
            if account.name == name:
                return account
        raise WalletError(f"no account named {name!r}")

    def next_index(self, account: Account) -> int:
        return len(self._addresses[account.name])

    def addresses(self) -> dict[str, tuple[Account, int]]:
        """Every address handed out so far, with its account and key index."""
        return {
            address: (account, index)
            for account in self.accounts
            for index, address in enumerate(self._addresses[account.name])
        }

    def fresh_address(self, account: Account) -> str:
        """The next unused address of ``account`` (call ``save`` before using it)."""
        self._extend(account, self.next_index(account) + 1)
        return self._addresses[account.name][-1]

    def refresh(self, client: NodeClient, *, spent_from_node: bool = False) -> None:
        """Confirmed balances of the addresses not spent from (a spent address was emptied by
        its spend and never receives again); with ``spent_from_node`` first the node's view of
        which addresses were spent from (after a restart)."""
        known = list(self.addresses())
        if spent_from_node and known:
            states = client.were_addresses_spent_from(known)
            self.spent.update(a for a, s in zip(known, states, strict=True) if s)
        live = [a for a in known if a not in self.spent]
        self.balances = client.balances_of(live)

    def inputs(self, account: Account) -> list[Input]:
        """Funded, never spent, not reserved addresses of ``account``."""
        excluded = self.spent | self.reserved
        usable = []
        for index, address in enumerate(self._addresses[account.name]):
            balance = self.balances.get(address, 0)
            if balance > 0 and address not in excluded:
                usable.append(Input(account, index, address, balance))
        return usable

    def funded_accounts(self) -> list[Account]:
        return [a for a in self.accounts if self.inputs(a)]

    def plan(
        self, rng: random.Random, *, max_inputs: int, max_outputs: int
    ) -> tuple[list[Input], list[Output], Output | None]:
        """A random transfer: inputs from one funded account, 1..max_outputs outputs to fresh
        addresses of any account, the rest back to a fresh address of the sender. The inputs are
        marked spent and the addresses taken; call ``save`` before sending."""
        funded = self.funded_accounts()
        if not funded:
            raise WalletError("no account holds confirmed, unspent funds")
        sender = rng.choice(funded)
        usable = self.inputs(sender)
        inputs = rng.sample(usable, rng.randint(1, min(max_inputs, len(usable))))
        total = sum(i.balance for i in inputs)
        # A quarter of the transfers move everything (no remainder).
        amount = total if total == 1 or rng.random() < 0.25 else rng.randint(1, total - 1)
        count = min(rng.randint(1, max_outputs), amount)
        cuts = sorted(rng.sample(range(1, amount), count - 1)) if count > 1 else []
        values = [b - a for a, b in zip([0, *cuts], [*cuts, amount], strict=True)]
        outputs = [Output(self.fresh_address(rng.choice(self.accounts)), v) for v in values]
        remainder = Output(self.fresh_address(sender), total - amount) if total > amount else None
        self.spent.update(i.address for i in inputs)
        return inputs, outputs, remainder

    def conflicting_outputs(self, inputs: Sequence[Input], rng: random.Random) -> list[Output]:
        """Outputs for a double spend of ``inputs``: everything to one fresh address."""
        total = sum(i.balance for i in inputs)
        return [Output(self.fresh_address(rng.choice(self.accounts)), total)]

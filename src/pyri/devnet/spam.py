"""``pyri spam``: a workload generator for a private tangle.

At a steady rate it sends signed value transfers between the wallet's accounts (several inputs
and outputs, remainders, security 1 to 3 as the accounts are set), zero-value messages, and on
purpose the two things a ledger must survive: double spends (a second bundle spending the same
inputs to somewhere else, signed with the same keys) and reattachments (the same bundle attached
again on other tips). Everything goes through storeTransactions and broadcastTransactions with
proof of work done here, approving tips a wallet's tip selection would pick
(``tip_selection.approvee_pair``).

It follows what becomes of each transfer: after every new milestone it asks the node which of
its tails are confirmed (getInclusionStates) and what its addresses hold (getBalances). The
report (``SpamReport``) lists every transfer with its attachments, the confirmed ones and its
value diff, so that a test can check each balance against the transfers reported confirmed.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final, Literal

from pyri.devnet.bundle_builder import Clock, attach_bundle, reattach_bundle
from pyri.devnet.client import NodeClient, NodeInfo
from pyri.devnet.errors import ApiCallError, NodeUnavailable, WalletError
from pyri.devnet.tip_selection import approvee_pair
from pyri.devnet.wallet import Input, Output, Wallet, message_bundle, value_bundle
from pyri.model.transaction import Transaction
from pyri.trinary import HASH_TRYTES

SPAM_TAG: Final = "PYRI9SPAM"
MESSAGE_ADDRESS: Final = "PYRI9DEVNET9MESSAGES".ljust(HASH_TRYTES, "9")

Kind = Literal["value", "double_spend", "message"]
Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class SpamSettings:
    rate: float = 1.0
    """Bundles sent per second (a double spend counts its two bundles as one action)."""
    message_share: float = 0.2
    """Share of actions that are zero-value messages."""
    double_spend_share: float = 0.1
    """Share of actions that are a value transfer plus a conflicting second spend."""
    reattach_share: float = 0.1
    """Share of actions that reattach a pending value transfer."""
    mwm: int = 9
    max_inputs: int = 3
    max_outputs: int = 3
    reattach_after: float = 2.0
    """A transfer is reattached only when its latest attachment is at least this old (s)."""

    def __post_init__(self) -> None:
        shares = (self.message_share, self.double_spend_share, self.reattach_share)
        if any(s < 0 for s in shares) or sum(shares) > 1:
            raise WalletError(f"shares must be >= 0 and add up to at most 1, got {shares}")
        if self.rate <= 0:
            raise WalletError(f"rate must be positive, got {self.rate}")


@dataclass
class Transfer:
    """One bundle the workload sent, with every attachment (tail) of it."""

    bundle: str
    kind: Kind
    diff: dict[str, int]
    """Address -> change when one attachment is confirmed (inputs negative)."""
    tails: list[str]
    transactions: list[str] = field(repr=False)
    """The trytes of the first attachment, tail first (reattachments reuse its essences)."""
    conflicts_with: str | None = None
    """The bundle hash of the other half of a double spend."""
    confirmed_tails: list[str] = field(default_factory=list)
    sent_at: float = 0.0

    @property
    def confirmed(self) -> bool:
        return bool(self.confirmed_tails)

    def to_json(self) -> dict[str, Any]:
        return {
            "bundle": self.bundle,
            "kind": self.kind,
            "diff": self.diff,
            "tails": self.tails,
            "confirmed_tails": self.confirmed_tails,
            "conflicts_with": self.conflicts_with,
        }


@dataclass(frozen=True)
class SpamReport:
    """What the workload sent and what of it the node confirmed."""

    transfers: tuple[Transfer, ...]

    def count(self, kind: Kind | None = None, *, confirmed: bool | None = None) -> int:
        return sum(
            1
            for t in self.transfers
            if (kind is None or t.kind == kind) and (confirmed is None or t.confirmed == confirmed)
        )

    def confirmed_changes(self) -> dict[str, int]:
        """Address -> total change from confirmed attachments (each confirmed tail counts, as
        the ledger counts it, §7.3)."""
        changes: dict[str, int] = {}
        for transfer in self.transfers:
            for address, value in transfer.diff.items():
                changes[address] = changes.get(address, 0) + value * len(transfer.confirmed_tails)
        return changes

    def double_spends(self) -> list[tuple[Transfer, Transfer]]:
        by_bundle = {t.bundle: t for t in self.transfers}
        return [
            (by_bundle[t.conflicts_with], t)
            for t in self.transfers
            if t.kind == "double_spend" and t.conflicts_with in by_bundle
        ]

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": len(self.transfers),
            "confirmed": self.count(confirmed=True),
            "transfers": [t.to_json() for t in self.transfers],
        }


def _diff(transactions: Sequence[Transaction]) -> dict[str, int]:
    diff: dict[str, int] = {}
    for tx in transactions:
        if tx.value:
            diff[tx.address] = diff.get(tx.address, 0) + tx.value
    return {a: v for a, v in diff.items() if v}


class Spammer:
    """Sends the workload to the node behind ``client`` from ``wallet``."""

    def __init__(
        self,
        client: NodeClient,
        wallet: Wallet,
        settings: SpamSettings = SpamSettings(),
        *,
        rng: random.Random | None = None,
        clock: Clock = time.time,
        log: Log = _quiet,
        log_actions: bool = False,
    ) -> None:
        self.client = client
        self.wallet = wallet
        self.settings = settings
        self.rng = rng if rng is not None else random.Random()
        self._clock = clock
        self._log = log
        self._log_actions = log_actions
        self._transfers: list[Transfer] = []
        self._lock = threading.Lock()
        self._seen_milestone = -1
        self._info: NodeInfo | None = None
        self._messages = 0

    # --- reporting ---------------------------------------------------------------------------

    def report(self) -> SpamReport:
        """A snapshot: later confirmations do not change a report already taken."""
        with self._lock:
            return SpamReport(
                tuple(
                    replace(
                        t,
                        diff=dict(t.diff),
                        tails=list(t.tails),
                        confirmed_tails=list(t.confirmed_tails),
                    )
                    for t in self._transfers
                )
            )

    def refresh(self, *, force: bool = False) -> NodeInfo:
        """Ask the node for its latest milestone; when it moved (or ``force``), update which
        tails are confirmed and the wallet's confirmed balances. The first refresh also reads
        which addresses the node has seen spent from (a restarted workload must not spend
        them again)."""
        info = self.client.node_info()
        self._info = info
        if force or info.latest_solid_milestone_index != self._seen_milestone:
            self.wallet.refresh(self.client, spent_from_node=self._seen_milestone < 0)
            self._update_confirmations(info)
            self._seen_milestone = info.latest_solid_milestone_index
        return info

    def _update_confirmations(self, info: NodeInfo) -> None:
        if not info.has_applied_milestone:
            return  # getInclusionStates is refused before the first milestone (sync check)
        with self._lock:
            pending = [
                (t, tail)
                for t in self._transfers
                for tail in t.tails
                if tail not in t.confirmed_tails
            ]
        if not pending:
            return
        try:
            states = self.client.inclusion_states([tail for _, tail in pending])
        except ApiCallError as error:
            self._log(f"getInclusionStates refused: {error.message}")
            return
        with self._lock:
            for (transfer, tail), state in zip(pending, states, strict=True):
                if state and tail not in transfer.confirmed_tails:
                    transfer.confirmed_tails.append(tail)

    # --- actions -----------------------------------------------------------------------------

    def _approvees(self) -> tuple[str, str]:
        info = self._info if self._info is not None else self.client.node_info()
        fallback = info.latest_solid_milestone
        if not info.has_applied_milestone:
            return fallback, fallback
        return approvee_pair(self.client, fallback, self.rng)

    def _send(self, transactions: Sequence[Transaction]) -> None:
        self.client.send([tx.trytes for tx in reversed(transactions)])

    def _record(self, transfer: Transfer) -> None:
        with self._lock:
            self._transfers.append(transfer)

    def send_message(self) -> Transfer:
        self._messages += 1
        text = f"pyri devnet message {self._messages} at {self._clock():.3f}"
        drafts = message_bundle(
            MESSAGE_ADDRESS, text, tag=SPAM_TAG, clock=self._clock, number=self._messages
        )
        attached = attach_bundle(drafts, *self._approvees(), self.settings.mwm, self._clock)
        transfer = Transfer(
            attached[0].bundle,
            "message",
            {},
            [attached[0].hash],
            [tx.trytes for tx in attached],
            sent_at=self._clock(),
        )
        self._record(transfer)
        self._send(attached)
        return transfer

    def _value(
        self,
        inputs: Sequence[Input],
        outputs: Sequence[Output],
        remainder: Output | None,
        kind: Kind,
        conflicts_with: str | None = None,
    ) -> tuple[Transfer, list[Transaction]]:
        drafts = value_bundle(inputs, outputs, remainder, tag=SPAM_TAG, clock=self._clock)
        attached = attach_bundle(drafts, *self._approvees(), self.settings.mwm, self._clock)
        transfer = Transfer(
            attached[0].bundle,
            kind,
            _diff(attached),
            [attached[0].hash],
            [tx.trytes for tx in attached],
            conflicts_with,
            sent_at=self._clock(),
        )
        return transfer, attached

    def send_transfer(self, *, double_spend: bool = False) -> list[Transfer]:
        """A value transfer; with ``double_spend`` also a second bundle spending the same
        inputs elsewhere. Raises WalletError when no confirmed funds are free."""
        s = self.settings
        inputs, outputs, remainder = self.wallet.plan(
            self.rng, max_inputs=s.max_inputs, max_outputs=s.max_outputs
        )
        twin_outputs = self.wallet.conflicting_outputs(inputs, self.rng) if double_spend else []
        # Keys and addresses are taken for good before anything leaves the wallet.
        self.wallet.save()
        first, first_txs = self._value(inputs, outputs, remainder, "value")
        sent = [first]
        self._record(first)
        if double_spend:
            twin, twin_txs = self._value(inputs, twin_outputs, None, "double_spend", first.bundle)
            with self._lock:
                first.conflicts_with = twin.bundle
            self._record(twin)
            sent.append(twin)
        self._send(first_txs)
        if double_spend:
            self._send(twin_txs)
        return sent

    def reattach(self) -> Transfer | None:
        """Attach a pending transfer again (the oldest one not attached for a while, whose
        double-spend partner is not confirmed either); None when there is none."""
        now = self._clock()
        with self._lock:
            by_bundle = {t.bundle: t for t in self._transfers}
            candidates = [
                t
                for t in self._transfers
                if t.kind != "message"
                and not t.confirmed
                and not (t.conflicts_with and by_bundle[t.conflicts_with].confirmed)
                and now - t.sent_at >= self.settings.reattach_after
            ]
        if not candidates:
            return None
        transfer = min(candidates, key=lambda t: t.sent_at)
        original = [Transaction.from_trytes(t) for t in transfer.transactions]
        attached = reattach_bundle(original, *self._approvees(), self.settings.mwm, self._clock)
        with self._lock:
            transfer.tails.append(attached[0].hash)
            transfer.sent_at = self._clock()
        self._send(attached)
        return transfer

    def step(self) -> str:
        """One action, chosen by the configured shares; returns what was done."""
        s = self.settings
        roll = self.rng.random()
        try:
            if roll < s.message_share:
                self.send_message()
                return "message"
            roll -= s.message_share
            if roll < s.reattach_share and self.reattach() is not None:
                return "reattachment"
            roll -= s.reattach_share
            double = 0 <= roll < s.double_spend_share
            self.send_transfer(double_spend=double)
            return "double spend" if double else "transfer"
        except WalletError:
            # No free confirmed funds right now (all in flight): a message keeps the tangle
            # growing until the next milestone confirms some.
            self.send_message()
            return "message"

    def run(
        self, stop: threading.Event, *, count: int | None = None, duration: float | None = None
    ) -> int:
        """Act ``rate`` times per second until ``stop`` is set (or ``count`` actions, or
        ``duration`` seconds); the node being away is waited out. Returns the actions done."""
        done = 0
        started = time.monotonic()
        due = started
        first = True
        while not stop.is_set() and (count is None or done < count):
            if duration is not None and time.monotonic() - started >= duration:
                break
            if stop.wait(max(0.0, due - time.monotonic())):
                break
            due = max(due + 1.0 / self.settings.rate, time.monotonic())
            try:
                self.refresh(force=first)
                first = False
                what = self.step()
            except NodeUnavailable as error:
                self._log(f"node unavailable, retrying: {error}")
                stop.wait(0.5)
                continue
            except ApiCallError as error:
                self._log(f"node refused a call: {error}")
                continue
            done += 1
            if self._log_actions:
                self._log(what)
        return done

"""``pyri coordinator``: issues milestones to a node over its HTTP API.

Each round: ask the node where it stands (getNodeInfo), wait until it has applied the previous
milestone (so that consistency is judged against the ledger the new milestone will meet), pick
the tips that are consistent together (``tip_selection``), gather them under two approvees
with zero-value "merge" transactions when there are more than two, build and sign the
milestone (``milestones``), record it, send it (storeTransactions + broadcastTransactions), and
wait for the node to apply it.

Before the node has applied any milestone it refuses checkConsistency (IRI's sync check), so
the first milestone approves the snapshot (the null hash) and confirms nothing; from then on
every milestone approves what is consistent, or, when nothing is, the previous milestone.

Restarts. A WOTS key must sign one message only, and the first valid milestone for an index is
the one every node keeps (§6.2 step 2). So the milestone is written to the state file *before*
it is sent: after a crash, an index that was recorded but never reached the node is sent again
byte for byte, never signed anew; and the next index is one past both the recorded one and the
node's latest milestone. A lock file keeps two coordinators off one directory.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from pyri.devnet.bundle_builder import Clock, Draft, attach, pad_tag, seal
from pyri.devnet.client import NodeClient, NodeInfo
from pyri.devnet.errors import ApiCallError, CoordinatorError, NodeUnavailable
from pyri.devnet.files import read_json, write_json
from pyri.devnet.milestones import CoordinatorKeys, build_milestone
from pyri.devnet.tip_selection import consistent_set, tail_tips
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH, int_to_trytes

STATE_FILE: Final = "state.json"
LOCK_FILE: Final = "coordinator.lock"
MERGE_TAG: Final = pad_tag("PYRI9MERGE")
# A tip found inconsistent on its own is skipped for this many milestones before it is tried
# again: it spends what a confirmed transfer already spent, and will rarely ever fit.
DEAD_TIP_MILESTONES: Final = 20

Log = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


@dataclass(frozen=True, slots=True)
class CoordinatorSettings:
    interval: float = 5.0
    """Seconds from one milestone to the next (longer when a round takes longer)."""
    mwm: int = 9
    """The network's minimum weight magnitude: every transaction gets this much proof of work."""
    max_approvees: int = 16
    """The most tips one milestone approves directly or through merge transactions."""
    apply_timeout: float = 60.0
    """How long to wait for the node to apply a milestone before reporting it."""
    poll: float = 0.05
    """How often to ask the node whether it applied the milestone."""


@dataclass(frozen=True, slots=True)
class IssuedMilestone:
    """One milestone as the coordinator saw it through."""

    index: int
    hash: str
    tips: int
    """How many tips it approves (0: it approves the previous milestone or the snapshot)."""
    transactions: int
    """Transactions sent: the milestone bundle and its merge transactions."""
    build_seconds: float
    applied: bool
    """Whether the node applied it within ``apply_timeout``."""
    apply_seconds: float
    resent: bool = False
    """Recorded before a restart and sent again, not built anew."""


@dataclass
class _State:
    address: str
    last_index: int = 0
    last_hash: str = NULL_HASH
    trytes: list[str] = field(default_factory=list)


def _merges(
    approvees: list[str], index: int, mwm: int, clock: Clock
) -> tuple[list[str], list[Transaction]]:
    """Zero-value one-transaction bundles that approve two approvees each, level by level, until
    two are left; the merge transactions come back in the order to send them (approvees
    first). Each is a tail, as the milestone's head must approve tails (§5.6 a)."""
    merges: list[Transaction] = []
    level = list(approvees)
    while len(level) > 2:
        upper: list[str] = []
        for k in range(0, len(level) - 1, 2):
            # The index and position in the obsoleteTag give every merge its own bundle hash.
            tag = pad_tag(int_to_trytes(index, 5) + int_to_trytes(len(merges), 5))
            (draft,) = seal(
                [Draft(address=NULL_HASH, obsolete_tag=tag, tag=MERGE_TAG, timestamp=int(clock()))]
            )
            tx = attach(draft, level[k], level[k + 1], mwm, int(clock() * 1000))
            merges.append(tx)
            upper.append(tx.hash)
        if len(level) % 2:
            upper.append(level[-1])
        level = upper
    return level, merges


class Coordinator:
    """Issues milestones with ``keys`` to the node behind ``client``; its state lives in
    ``directory`` (next to the key tree)."""

    def __init__(
        self,
        client: NodeClient,
        keys: CoordinatorKeys,
        directory: Path,
        settings: CoordinatorSettings = CoordinatorSettings(),
        *,
        clock: Clock = time.time,
        log: Log = _quiet,
    ) -> None:
        self.client = client
        self.keys = keys
        self.directory = directory
        self.settings = settings
        self._clock = clock
        self._log = log
        self._dead: dict[str, int] = {}

    # --- state -------------------------------------------------------------------------------

    @property
    def state_path(self) -> Path:
        return self.directory / STATE_FILE

    def _load_state(self) -> _State:
        if not self.state_path.exists():
            return _State(self.keys.address)
        try:
            data = read_json(self.state_path)
            state = _State(
                str(data["address"]),
                int(data["last_index"]),
                str(data["last_hash"]),
                [str(t) for t in data["trytes"]],
            )
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise CoordinatorError(
                f"{self.state_path}: unreadable coordinator state: {error}"
            ) from None
        if state.address != self.keys.address:
            raise CoordinatorError(
                f"{self.state_path} belongs to coordinator {state.address}, not {self.keys.address}"
            )
        return state

    def _save_state(self, state: _State) -> None:
        write_json(
            self.state_path,
            {
                "address": state.address,
                "last_index": state.last_index,
                "last_hash": state.last_hash,
                "trytes": state.trytes,
            },
        )

    def last_issued(self) -> int:
        """The index of the last milestone recorded in the state file (0 if none)."""
        return self._load_state().last_index

    # --- talking to the node -----------------------------------------------------------------

    def _node_info(self) -> NodeInfo:
        info = self.client.node_info()
        if info.coordinator_address and info.coordinator_address != self.keys.address:
            raise CoordinatorError(
                f"the node trusts coordinator {info.coordinator_address}, this one is "
                f"{self.keys.address}: start the node with --testnet-coordinator "
                f"{self.keys.address}"
            )
        return info

    def _wait_applied(
        self, index: int, stop: threading.Event | None
    ) -> tuple[bool, float, NodeInfo | None]:
        """Poll until the node's latest solid milestone reaches ``index``."""
        started = time.monotonic()
        info: NodeInfo | None = None
        while time.monotonic() - started < self.settings.apply_timeout:
            with contextlib.suppress(NodeUnavailable):
                info = self.client.node_info()
                if info.latest_solid_milestone_index >= index:
                    return True, time.monotonic() - started, info
            if stop is not None and stop.is_set():
                break
            time.sleep(self.settings.poll)
        return False, time.monotonic() - started, info

    def _send(self, trytes: list[str], stop: threading.Event | None) -> None:
        # The milestone is recorded already; if the node is briefly away (restarting), the same
        # trytes are sent again until it takes them.
        while True:
            try:
                self.client.send(trytes)
                return
            except NodeUnavailable:
                if stop is not None and stop.wait(0.5):
                    raise
                if stop is None:
                    time.sleep(0.5)

    # --- one round ---------------------------------------------------------------------------

    def _approvees(self, info: NodeInfo, index: int) -> list[str]:
        if not info.has_applied_milestone:
            return []
        # A tip skipped as dead is tried again after a while (it may be consistent by then).
        self._dead = {h: at for h, at in self._dead.items() if index - at < DEAD_TIP_MILESTONES}
        candidates = tail_tips(self.client, exclude=frozenset(self._dead))
        chosen, dead = consistent_set(
            self.client, [c.hash for c in candidates], self.settings.max_approvees
        )
        for tip in dead:
            self._dead[tip] = index
        if dead:
            self._log(f"milestone {index}: left out {len(dead)} inconsistent tip(s)")
        return chosen

    def issue(self, stop: threading.Event | None = None) -> IssuedMilestone | None:
        """One round. Returns the milestone issued (or re-sent), or None when the node has not
        applied the previous one yet (nothing is issued on top of an unapplied milestone)."""
        info = self._node_info()
        state = self._load_state()
        if state.last_index > info.latest_milestone_index:
            if state.last_index > info.latest_milestone_index + 1 or not state.trytes:
                raise CoordinatorError(
                    f"this coordinator issued milestone {state.last_index}, but the node knows "
                    f"only up to {info.latest_milestone_index}: its database is older than the "
                    "coordinator's state. Give the node its database back, or start a new "
                    "network (a new devnet directory)"
                )
            self._log(f"milestone {state.last_index}: recorded before a restart; sending it again")
            self._send(state.trytes, stop)
            applied, waited, _ = self._wait_applied(state.last_index, stop)
            return IssuedMilestone(
                state.last_index,
                state.last_hash,
                tips=0,
                transactions=len(state.trytes),
                build_seconds=0.0,
                applied=applied,
                apply_seconds=waited,
                resent=True,
            )
        if info.latest_solid_milestone_index < info.latest_milestone_index:
            applied, _, latest = self._wait_applied(info.latest_milestone_index, stop)
            if not applied or latest is None:
                self._log(
                    f"waiting for the node to apply milestone {info.latest_milestone_index} "
                    f"(it is at {info.latest_solid_milestone_index})"
                )
                return None
            info = latest
        index = max(state.last_index, info.latest_milestone_index) + 1
        started = time.monotonic()
        fallback = info.latest_solid_milestone
        chosen = self._approvees(info, index)
        # With fewer than two tips the previous milestone fills in, which keeps the milestones
        # chained and confirms nothing twice (it is confirmed already).
        approvees = chosen if len(chosen) >= 2 else [*chosen, fallback]
        pair, merges = _merges(approvees, index, self.settings.mwm, self._clock)
        trunk, branch = pair[0], pair[-1]
        milestone = build_milestone(self.keys, index, trunk, branch, self.settings.mwm, self._clock)
        # Approvees before approvers, so that the node sees every transaction solid on arrival.
        trytes = [tx.trytes for tx in merges] + [tx.trytes for tx in reversed(milestone)]
        self._save_state(_State(self.keys.address, index, milestone[0].hash, trytes))
        built = time.monotonic() - started
        self._send(trytes, stop)
        applied, waited, _ = self._wait_applied(index, stop)
        return IssuedMilestone(
            index, milestone[0].hash, len(chosen), len(trytes), built, applied, waited
        )

    def run(
        self,
        stop: threading.Event,
        *,
        count: int | None = None,
        on_issue: Callable[[IssuedMilestone], None] | None = None,
    ) -> int:
        """Issue milestones every ``interval`` seconds until ``stop`` is set (or ``count`` are
        issued); the node being away is waited out. Returns how many were issued."""
        issued = 0
        due = time.monotonic()
        with self.lock():
            while not stop.is_set() and (count is None or issued < count):
                if stop.wait(max(0.0, due - time.monotonic())):
                    break
                due = time.monotonic() + self.settings.interval
                try:
                    result = self.issue(stop)
                except NodeUnavailable as error:
                    self._log(f"node unavailable, retrying: {error}")
                    due = time.monotonic() + min(1.0, self.settings.interval)
                    continue
                except ApiCallError as error:
                    self._log(f"node refused a call, retrying: {error}")
                    continue
                if result is None:
                    continue
                issued += 1
                if on_issue is not None:
                    on_issue(result)
        return issued

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        """Hold the directory's lock file: a second coordinator on the same keys would sign
        other messages with the same one-time keys."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / LOCK_FILE, "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise CoordinatorError(
                    f"another coordinator is running on {self.directory}"
                ) from None
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

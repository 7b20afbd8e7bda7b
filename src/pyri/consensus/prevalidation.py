"""Bundles judged before anyone asks: the writer's spare-time work.

Without this, a bundle is first judged by whoever first needs its verdict: the application of
the milestone that confirms it (a milestone confirming 1,000 transfers then checks 1,000
signatures while it holds the writer) or the first getBalances with tips through it. The writer
therefore queues the tails that ingest makes solid (``Tangle.ingest``'s ``on_solid_tails``) and
judges them in its spare time, a bounded chunk at a time, each chunk's verdicts written to the
cache (§5.8) in one atomic write.

Every bundle is judged, value and zero-value alike, as IRI persists a validity flag for every
bundle a walk judges. A value bundle costs its signatures (~0.6 ms for a security-2 transfer on
one core, measured on bench/confirm.py's fixture). A zero-value bundle has no signature to check
(§5.7), but judging it is still loading its chain, the semantic walk and one Kerl bundle hash:
~0.06 ms for a one-transaction bundle on demand, which a cone of many of them pays on its first
judge (7,000 of them ~0.45 s in bench/confirm.py's milestone, the same again for the first
getBalances with tips through a fresh cone). Judged here, ~0.05 ms of the writer's spare time
each, their cached VALID lets that first judge revalidate them from their trunks alone. The
price is a verdict record (18 bytes) and a rewritten metadata record for nearly every tail.

Outcome neutrality. A cached verdict changes later verdicts (§5.8): a cached INVALID is INVALID
for every caller in every mode (shortcut A), a cached VALID skips the bundle hash, the extra
rules and the signatures (shortcut B). A prevalidation must not make any later caller decide
otherwise than on a node that never prevalidated, so ``verdict_to_store`` gives a verdict only
when it is one that no caller can judge differently, now or later (the same rules for value and
zero-value bundles; a zero-value one just has no signature that could fail):

* VALID only when the bundle is VALID judged WITH the extra rules (§5.6). It is then VALID
  without them too (they only add failures), so shortcut B answers what a fresh judgement
  answers in either mode, with the same value diff and spent addresses (both come from the
  chain alone). A fresh verdict can change only through what the judgement reads: the chain's
  transactions, which a hash names immutably (and pyri never deletes a stored one), and, for
  the tail-approval rule, the head's trunk and branch, where an absent one counts as a tail. So
  VALID is written only when each of those two is stored or is one ingest never stores (the
  null hash, a solid entry point of the snapshot): its answer cannot change later.
* INVALID only when the bundle is INVALID also WITHOUT the extra rules, a failure no caller can
  judge away: the semantic rules, the bundle hash or a signature over a complete chain. When
  the extra-rule judgement fails on anything but an extra rule, that failure came before the
  extra rules (semantics, bundle hash) or after they passed (signatures), so the judgement
  without them fails the same way and gives the same verdict; when it fails on an extra rule,
  the bundle is judged again without them and INVALID is written only if that fails too. The
  verdict written is thus the one applying a milestone (no extra rules) writes, reason and all
  (a caller with the extra rules may find an extra rule broken first: only the reason it would
  name differs, never the decision).
* Nothing for a bundle INVALID only because of an extra rule (caching that is IRI's quirk that
  can block a milestone), nothing for an incomplete chain or one that runs into another bundle,
  and nothing over an existing verdict, which is never overwritten.

The queue lives in memory only. Losing it (a crash, a restart, tails dropped because it is
full) changes nothing but speed: a bundle not judged here is judged on demand, as before. A
restart does not look for tails left unjudged; the store has no index that would find them
cheaply, and the next milestone judges its own cone anyway.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Final

from pyri.consensus.ledger import cache_verdict
from pyri.consensus.tangle import Tangle
from pyri.consensus.view import MemoReader, TangleReader
from pyri.model.bundle import (
    BundleStatus,
    BundleVerdict,
    ReasonCode,
    assemble_bundle,
    validate_bundle,
)
from pyri.storage.schema import TxMeta

# The failures only the extra rules produce (§5.6).
EXTRA_RULE_REASONS: Final[frozenset[ReasonCode]] = frozenset(
    {"tail_approval", "transaction_approval"}
)
# A chunk ends once it has spent this long judging, or after this many tails, whichever comes
# first; the writer's lock is then released. The time is measured as the chunk goes, after each
# tail (one bundle is never split): ~0.6 ms a security-2 transfer, ~0.05 ms a one-transaction
# zero-value bundle (bench/confirm.py's fixture, one core), so a chunk of transfers stops at
# ~40 ms plus one bundle, and the count bounds a run of cheap tails (256 zero-value ones take
# ~15 ms, and write one verdict each).
CHUNK_TAILS: Final = 256
CHUNK_SECONDS: Final = 0.04
# Tails kept waiting at most; more are dropped (they are judged on demand later).
QUEUE_LIMIT: Final = 200_000


def verdict_to_store(
    reader: TangleReader,
    tail_hash: str,
    *,
    never_stored: Callable[[str], bool],
) -> BundleVerdict | None:
    """The verdict that may be cached for ``tail_hash`` ahead of any caller, or None (see the
    module docstring for which and why). ``never_stored`` tells the hashes ingest never
    stores (``TangleConfig.is_solid_entry_point``)."""
    if reader.cached_verdict(tail_hash) is not None:
        return None  # never overwritten
    lookup = reader.transaction
    tail = lookup(tail_hash)
    if tail is None or tail.current_index != 0:
        return None
    chain = assemble_bundle(tail, lookup)
    if chain is None:
        return None  # incomplete, or the chain leaves the bundle: judged on demand
    strict = validate_bundle(chain, enforce_extra_rules=True, lookup=lookup)
    if strict.valid:
        head = chain[-1]
        settled = all(
            lookup(approvee) is not None or never_stored(approvee)
            for approvee in (head.trunk_transaction, head.branch_transaction)
        )
        return strict if settled else None
    if strict.status is not BundleStatus.INVALID or not strict.cacheable:
        return None
    if strict.reason not in EXTRA_RULE_REASONS:
        return strict  # the same verdict as without the extra rules
    plain = validate_bundle(chain, enforce_extra_rules=False)
    return plain if plain.status is BundleStatus.INVALID and plain.cacheable else None


@dataclass(frozen=True, slots=True)
class Chunk:
    """One chunk's work: how many queued tails it took, and the verdicts it wrote."""

    taken: int = 0
    written: Mapping[str, BundleVerdict] = field(default_factory=dict)


class Prevalidator:
    """The queue of solid tails waiting to be judged, and the chunks that judge them.

    ``add`` is a ``SolidTailsListener`` for ``Tangle.ingest``. ``run_chunk`` takes the
    Tangle's write lock for one chunk only; the caller decides when there is time for one.
    """

    def __init__(
        self,
        tangle: Tangle,
        *,
        limit: int = QUEUE_LIMIT,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self._tangle = tangle
        self._limit = limit
        self._clock = clock
        self._queue: deque[str] = deque()
        self.dropped = 0

    def __len__(self) -> int:
        return len(self._queue)

    def add(self, tails: Iterable[str]) -> None:
        """Queue tails that have become solid (each becomes solid once, so none repeats)."""
        queue = self._queue
        room = self._limit - len(queue)
        for tail in tails:
            if room <= 0:
                self.dropped += 1
                continue
            queue.append(tail)
            room -= 1

    def run_chunk(
        self,
        *,
        max_tails: int = CHUNK_TAILS,
        max_seconds: float = CHUNK_SECONDS,
        writing: Callable[[], AbstractContextManager[object]] = nullcontext,
    ) -> Chunk:
        """Judge queued tails, oldest first, until ``max_tails`` are taken or ``max_seconds``
        are spent, under the Tangle's write lock; write the verdicts that may be cached in ONE
        atomic batch, inside ``writing()`` (the writer's count of writes; a chunk that writes
        nothing does not count as a write)."""
        queue = self._queue
        if not queue:
            return Chunk()
        tangle = self._tangle
        never_stored = tangle.config.is_solid_entry_point
        found: dict[str, BundleVerdict] = {}
        metas: dict[str, TxMeta | None] = {}
        taken = 0
        with tangle.write_lock:
            start = self._clock()
            with tangle.read() as store:
                # The chunk's transactions, read once: a tail read as its own bundle is often
                # read again as another head's trunk or branch, and each head's approvees are
                # read twice (the tail-approval rule, then whether they are settled).
                reader = MemoReader(store)
                while queue and taken < max_tails:
                    tail_hash = queue.popleft()
                    taken += 1
                    verdict = verdict_to_store(reader, tail_hash, never_stored=never_stored)
                    if verdict is not None:
                        found[tail_hash] = verdict
                        metas[tail_hash] = reader.meta(tail_hash)
                    if self._clock() - start >= max_seconds:
                        break
            if found:
                with writing(), tangle.engine.write() as batch:
                    for tail_hash, verdict in found.items():
                        cache_verdict(batch, tail_hash, verdict, metas[tail_hash])
        return Chunk(taken, MappingProxyType(found))

    def run_all(
        self, *, max_tails: int = CHUNK_TAILS, max_seconds: float = CHUNK_SECONDS
    ) -> list[Chunk]:
        """Chunks until the queue is empty (for a caller with nothing else to do)."""
        done: list[Chunk] = []
        while self._queue:
            done.append(self.run_chunk(max_tails=max_tails, max_seconds=max_seconds))
        return done

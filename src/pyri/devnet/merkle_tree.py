"""The coordinator's key tree: 2^depth WOTS keys from one seed and the Merkle tree over their
addresses (iri-consensus-reference §4.4, §4.5), generated in batches and kept on disk.

Generation works on chunks of aligned leaves (256 by default). For a chunk, every step is one
batched kernel call over all of its keys: the subseeds (seed + index, added for all rows at
once, then hashed), the private keys (squeezed together), the 26-step hash chains of every
chunk of every key (the bit-sliced Curl kernel runs 64 chains per pass), the fragment digests
and the addresses. The chunk's own subtree is hashed right away, so only the levels above the
chunks are left for the end. Chunks run on a thread pool: the kernels release the GIL.

The tree is stored as one ``.npy`` file of all levels, leaves first, each node packed to 49
bytes (five trits per byte, as the node stores hashes), memory-mapped, so a depth-20 tree takes
103 MB on disk and almost nothing in memory. A JSON file beside it records the parameters and
how many chunks are done: an interrupted generation resumes where it stopped, and a finished
tree is loaded instead of recomputed. The seed is not stored with the tree; leaf 0 is
recomputed on load to prove that the tree belongs to the seed it is opened with.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from pyri.crypto.merkle import merkle_levels
from pyri.crypto.sponge import SpongeMode, hash_chains, hash_rows
from pyri.crypto.wots import CHUNKS_PER_FRAGMENT, FRAGMENT_TRITS, MAX_TRYTE
from pyri.devnet.errors import KeyTreeError
from pyri.devnet.files import read_json, write_json
from pyri.trinary import (
    HASH_TRITS,
    Trits,
    bytes_to_trits,
    int_to_trits,
    trits_to_bytes,
    trits_to_int,
    trits_to_trytes,
    trytes_to_trits,
)

FORMAT_VERSION: Final = 1
MAX_DEPTH: Final = 27  # the siblings must fit one signatureMessageFragment (§6.2 step 9)
NODE_BYTES: Final = 49  # 243 trits and two zero trits, five to a byte
_PADDED_TRITS: Final = 5 * NODE_BYTES
DEFAULT_CHUNK_LEAVES: Final = 256
NODES_FILE: Final = "tree.npy"
META_FILE: Final = "tree.json"

ProgressCallback = Callable[[int], None]
"""Called with the number of leaves just finished."""


@dataclass(frozen=True, slots=True)
class TreeSpec:
    """The shape of a key tree: Merkle depth (2^depth keys), WOTS security level, sponge."""

    depth: int
    security: int
    mode: SpongeMode

    def __post_init__(self) -> None:
        if not 0 <= self.depth <= MAX_DEPTH:
            raise KeyTreeError(f"tree depth must lie in 0..{MAX_DEPTH}, got {self.depth}")
        if self.security not in (1, 2, 3):
            raise KeyTreeError(f"security level must be 1, 2 or 3, got {self.security}")

    @property
    def leaves(self) -> int:
        return 1 << self.depth

    def describe(self) -> str:
        return f"depth {self.depth}, {self.mode.value}, security {self.security}"


# --- leaves, batched -------------------------------------------------------------------------


def _balanced_digits(values: npt.NDArray[np.int64], width: int) -> npt.NDArray[np.int8]:
    """Balanced-ternary digits of non-negative ``values``, (n, width), least significant first."""
    digits = np.zeros((values.shape[0], width), dtype=np.int8)
    remaining = values.copy()
    for position in range(width):
        trit = (remaining + 1) % 3 - 1
        digits[:, position] = trit
        remaining = (remaining - trit) // 3
    return digits


def subseed_inputs(seed: Trits, first: int, count: int) -> Trits:
    """Rows ``seed + (first + k)`` for k < count as 243-trit balanced integers, the carry past
    trit 242 dropped: what ``wots.subseed`` hashes, for many indexes at once."""
    base = np.zeros(HASH_TRITS, dtype=np.int8)
    total = int_to_trits(trits_to_int(seed) + first)[:HASH_TRITS]
    base[: total.shape[0]] = total
    width = max(1, int(np.ceil(np.log(2 * count + 1) / np.log(3))) + 1)
    offsets = _balanced_digits(np.arange(count, dtype=np.int64), width)
    rows = np.tile(base.astype(np.int16), (count, 1))
    carry = np.zeros(count, dtype=np.int16)
    for position in range(HASH_TRITS):
        if position >= width and not carry.any():
            break
        column = rows[:, position] + carry
        if position < width:
            column += offsets[:, position]
        trit = (column + 1) % 3 - 1
        carry = (column - trit) // 3
        rows[:, position] = trit
    return rows.astype(np.int8)


def _private_keys(subseeds: Trits, security: int, mode: SpongeMode) -> Trits:
    length = FRAGMENT_TRITS * security
    if mode is SpongeMode.KERL:
        from pyri.crypto.kerl import kerl_hash

        # Kerl re-absorbs each squeezed block, so the squeezes of one key are a chain; one
        # compiled call per key is all the batching there is to have.
        squeezes = length // HASH_TRITS
        return np.stack([kerl_hash(row, squeezes) for row in subseeds])
    from pyri.crypto.curl import ROUNDS_P27, ROUNDS_P81, curl_hash_batch

    rounds = ROUNDS_P27 if mode is SpongeMode.CURLP27 else ROUNDS_P81
    return curl_hash_batch(subseeds, rounds, length)


def leaf_addresses(seed: Trits, first: int, count: int, security: int, mode: SpongeMode) -> Trits:
    """The addresses of keys ``first .. first + count - 1`` of ``seed``, (count, 243): row k
    equals ``wots.address(seed, first + k, security, mode)``."""
    subseeds = hash_rows(mode, subseed_inputs(seed, first, count))
    keys = _private_keys(subseeds, security, mode)
    chunks = keys.reshape(-1, HASH_TRITS)
    steps = np.full(chunks.shape[0], 2 * MAX_TRYTE, dtype=np.int64)
    hashed = hash_chains(mode, chunks, steps)
    digests = hash_rows(mode, hashed.reshape(-1, CHUNKS_PER_FRAGMENT * HASH_TRITS))
    return hash_rows(mode, digests.reshape(count, security * HASH_TRITS))


# --- packing ---------------------------------------------------------------------------------


def pack_nodes(nodes: Trits) -> npt.NDArray[np.uint8]:
    """(n, 243) trits -> (n, 49) bytes."""
    padded = np.zeros((nodes.shape[0], _PADDED_TRITS), dtype=np.int8)
    padded[:, :HASH_TRITS] = nodes
    packed = trits_to_bytes(padded.reshape(-1))
    return np.frombuffer(packed, dtype=np.uint8).reshape(-1, NODE_BYTES)


def unpack_nodes(packed: npt.NDArray[np.uint8]) -> Trits:
    """(n, 49) bytes -> (n, 243) trits."""
    count = packed.shape[0]
    trits = bytes_to_trits(np.ascontiguousarray(packed).tobytes(), count * _PADDED_TRITS)
    return np.ascontiguousarray(trits.reshape(count, _PADDED_TRITS)[:, :HASH_TRITS])


def level_offsets(depth: int) -> list[int]:
    """Row where level l (0 = leaves, depth = root) starts in the stored array."""
    offsets = [0]
    for level in range(depth):
        offsets.append(offsets[-1] + (1 << (depth - level)))
    return offsets


# --- the stored tree -------------------------------------------------------------------------


class KeyTree:
    """A finished key tree, memory-mapped from its directory."""

    def __init__(self, directory: Path, spec: TreeSpec, nodes: npt.NDArray[np.uint8]) -> None:
        self.directory = directory
        self.spec = spec
        self._nodes = nodes
        self._offsets = level_offsets(spec.depth)
        self.root = self.node(spec.depth, 0)

    def node(self, level: int, position: int) -> str:
        """Node ``position`` of ``level`` (0 = leaves) as 81 trytes."""
        row = self._offsets[level] + position
        return trits_to_trytes(unpack_nodes(self._nodes[row : row + 1])[0])

    def leaf(self, index: int) -> str:
        """The address of key ``index``."""
        return self.node(0, index)

    def path(self, index: int) -> str:
        """The Merkle siblings of key ``index``, leaf level first (81 trytes each)."""
        if not 0 <= index < self.spec.leaves:
            raise KeyTreeError(f"key {index} is outside a tree of {self.spec.leaves} keys")
        rows = [self._offsets[level] + ((index >> level) ^ 1) for level in range(self.spec.depth)]
        if not rows:
            return ""
        return trits_to_trytes(unpack_nodes(self._nodes[rows]).reshape(-1))

    def levels(self) -> list[Trits]:
        """Every level as trits, leaves first (for tests and small trees)."""
        return [
            unpack_nodes(self._nodes[start : start + (1 << (self.spec.depth - level))])
            for level, start in enumerate(self._offsets)
        ]


def _meta(
    spec: TreeSpec, chunk: int, done: int, root: str | None, leaf0: str | None
) -> dict[str, object]:
    return {
        "version": FORMAT_VERSION,
        "depth": spec.depth,
        "security": spec.security,
        "mode": spec.mode.value,
        "chunk_leaves": chunk,
        "chunks_done": done,
        "complete": root is not None,
        "root": root,
        "leaf0": leaf0,
    }


def _read_meta(directory: Path) -> dict[str, object] | None:
    path = directory / META_FILE
    if not path.exists():
        return None
    try:
        meta = read_json(path)
    except (OSError, ValueError) as error:
        raise KeyTreeError(f"{path}: cannot read the key tree's description: {error}") from None
    if not isinstance(meta, dict) or meta.get("version") != FORMAT_VERSION:
        raise KeyTreeError(f"{path}: not a pyri key tree description (version {FORMAT_VERSION})")
    return meta


def _open_nodes(directory: Path, mode: str) -> np.memmap[Any, np.dtype[np.uint8]]:
    path = directory / NODES_FILE
    try:
        nodes: np.memmap[Any, np.dtype[np.uint8]] = np.lib.format.open_memmap(path, mode=mode)
    except (OSError, ValueError) as error:
        raise KeyTreeError(f"{path}: cannot open the key tree: {error}") from None
    return nodes


def stored_spec(directory: Path) -> TreeSpec | None:
    """The spec of the tree stored in ``directory`` (finished or not), None if there is none."""
    meta = _read_meta(directory)
    if meta is None:
        return None
    try:
        depth, security = int(str(meta["depth"])), int(str(meta["security"]))
        return TreeSpec(depth, security, SpongeMode.parse(str(meta["mode"])))
    except (KeyError, ValueError) as error:
        raise KeyTreeError(f"{directory / META_FILE}: malformed: {error}") from None


def _check_seed(seed: Trits, spec: TreeSpec, leaf0: object, directory: Path) -> None:
    # Leaf 0 depends on the seed, the security level and the sponge: recomputing it (a few ms)
    # proves that the stored tree is this seed's without storing the seed next to it.
    if leaf0 is None:
        return
    actual = trits_to_trytes(leaf_addresses(seed, 0, 1, spec.security, spec.mode)[0])
    if actual != leaf0:
        raise KeyTreeError(
            f"{directory} holds the key tree of another seed (its key 0 is {leaf0}, this seed's "
            f"is {actual}); use the seed it was made with, or another directory"
        )


def load_key_tree(directory: Path, seed: str) -> KeyTree:
    """The finished tree in ``directory``, checked against ``seed``; KeyTreeError otherwise."""
    meta = _read_meta(directory)
    spec = stored_spec(directory)
    if meta is None or spec is None or not meta.get("complete"):
        raise KeyTreeError(f"{directory} holds no finished key tree")
    _check_seed(trytes_to_trits(seed), spec, meta.get("leaf0"), directory)
    nodes = _open_nodes(directory, "r")
    if nodes.shape != ((1 << (spec.depth + 1)) - 1, NODE_BYTES):
        raise KeyTreeError(f"{directory / NODES_FILE} has shape {nodes.shape}, not {spec}")
    tree = KeyTree(directory, spec, nodes)
    if tree.root != meta.get("root"):
        raise KeyTreeError(f"{directory / NODES_FILE} is damaged: its root is not the recorded one")
    return tree


def _chunk_starts(spec: TreeSpec, chunk: int, done: int) -> Iterator[int]:
    return iter(range(done * chunk, spec.leaves, chunk))


def _in_order(
    work: Callable[[int], tuple[int, list[Trits]]], starts: Iterator[int], workers: int
) -> Iterator[tuple[int, list[Trits]]]:
    """``work`` over ``starts`` on ``workers`` threads, results in order.

    In order, so that "chunks done" is always a finished prefix and a resumed run never skips
    a chunk a crashed worker had not written. Only a few chunks are in flight at a time, so
    that Ctrl-C stops a long generation within one chunk rather than after all of them."""
    window = 2 * max(1, workers)
    pool = ThreadPoolExecutor(max_workers=max(1, workers))
    try:
        pending: deque[Future[tuple[int, list[Trits]]]] = deque(
            pool.submit(work, first) for first in islice(starts, window)
        )
        while pending:
            result = pending.popleft().result()
            following = next(starts, None)
            if following is not None:
                pending.append(pool.submit(work, following))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def build_key_tree(
    directory: Path,
    seed: str,
    spec: TreeSpec,
    *,
    workers: int = 1,
    chunk_leaves: int = DEFAULT_CHUNK_LEAVES,
    on_progress: ProgressCallback | None = None,
) -> KeyTree:
    """The key tree of ``seed`` in ``directory``: loaded if it is there and finished, resumed
    if a generation was interrupted, generated otherwise. ``workers`` threads generate chunks
    in parallel; ``on_progress`` is first called with the leaves already there (0 for a new
    tree, all of them for a finished one), then with each finished chunk's leaves."""
    seed_trits = trytes_to_trits(seed)
    meta = _read_meta(directory)
    if meta is not None:
        existing = stored_spec(directory)
        if existing != spec:
            raise KeyTreeError(
                f"{directory} holds a key tree of {existing.describe() if existing else '?'}, "
                f"not {spec.describe()}; use another directory or the same parameters"
            )
        _check_seed(seed_trits, spec, meta.get("leaf0"), directory)
        if meta.get("complete"):
            tree = load_key_tree(directory, seed)
            if on_progress is not None:
                on_progress(spec.leaves)
            return tree
        chunk = int(str(meta["chunk_leaves"]))
        done = int(str(meta["chunks_done"]))
        nodes = _open_nodes(directory, "r+")
    else:
        directory.mkdir(parents=True, exist_ok=True)
        chunk = min(chunk_leaves, spec.leaves)
        if chunk & (chunk - 1):
            raise KeyTreeError(f"chunk size must be a power of two, got {chunk_leaves}")
        done = 0
        rows = (1 << (spec.depth + 1)) - 1
        nodes = np.lib.format.open_memmap(
            directory / NODES_FILE, mode="w+", dtype=np.uint8, shape=(rows, NODE_BYTES)
        )
        write_json(directory / META_FILE, _meta(spec, chunk, 0, None, None))
    offsets = level_offsets(spec.depth)
    chunk_depth = chunk.bit_length() - 1
    if on_progress is not None:
        on_progress(done * chunk)  # the baseline: leaves a resumed tree already has

    def subtree(first: int) -> tuple[int, list[Trits]]:
        leaves = leaf_addresses(seed_trits, first, chunk, spec.security, spec.mode)
        return first, merkle_levels(leaves, spec.mode)

    leaf0: str | None = None if done == 0 else trits_to_trytes(unpack_nodes(nodes[:1])[0])
    for first, chunk_levels in _in_order(subtree, _chunk_starts(spec, chunk, done), workers):
        for level, values in enumerate(chunk_levels):
            start = offsets[level] + (first >> level)
            nodes[start : start + values.shape[0]] = pack_nodes(values)
        if first == 0:
            leaf0 = trits_to_trytes(chunk_levels[0][0])
        done += 1
        # The nodes reach the disk before the description says they are there.
        nodes.flush()
        write_json(directory / META_FILE, _meta(spec, chunk, done, None, leaf0))
        if on_progress is not None:
            on_progress(chunk)
    # The levels above the chunks: 2^(depth - chunk_depth) nodes, one batched call per level.
    top = merkle_levels(
        unpack_nodes(
            nodes[offsets[chunk_depth] : offsets[chunk_depth] + (spec.leaves >> chunk_depth)]
        ),
        spec.mode,
    )
    for extra, values in enumerate(top[1:], start=chunk_depth + 1):
        nodes[offsets[extra] : offsets[extra] + values.shape[0]] = pack_nodes(values)
    nodes.flush()
    root = trits_to_trytes(top[-1][0])
    write_json(directory / META_FILE, _meta(spec, chunk, done, root, leaf0))
    del nodes
    return load_key_tree(directory, seed)


def default_workers() -> int:
    """One thread per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class TreeProgress:
    """A rich progress bar with leaves/s and an ETA for ``build_key_tree`` (on stderr), or
    nothing when stderr is not a terminal and ``force`` is not set."""

    def __init__(self, spec: TreeSpec, *, force: bool = False) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        console = Console(stderr=True)
        self._enabled = force or console.is_terminal
        self._progress = Progress(
            TextColumn("key tree {task.description}"),
            BarColumn(bar_width=24),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} leaves/s"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            disable=not self._enabled,
        )
        self._task = self._progress.add_task(f"depth {spec.depth}", total=spec.leaves, rate="-")
        self._started = time.perf_counter()
        self._first: int | None = None
        self._done = 0

    def __enter__(self) -> TreeProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    def __call__(self, leaves: int) -> None:
        self._done += leaves
        if self._first is None:
            # Leaves a resumed tree already had do not count towards the rate.
            self._first = self._done
            self._started = time.perf_counter()
        elapsed = time.perf_counter() - self._started
        fresh = self._done - self._first
        rate = f"{fresh / elapsed:,.0f}" if elapsed > 0 and fresh else "-"
        self._progress.update(self._task, completed=self._done, rate=rate)

"""A small test coordinator: real, signed milestone bundles for any sponge, security and depth.

``CoordinatorKeys.generate`` derives a coordinator's WOTS keys from a seed and builds its Merkle
tree; ``build_milestone`` lays out the bundle a coordinator issues (§6.2, worked layout):

* transactions 0 .. S-1 sit at the coordinator address, carry the milestone index in their
  obsoleteTag (and tag), and carry signature fragment i of normalize(sibling's Curl-P-81 hash);
* transaction S, the sibling transaction, sits at the null address and carries the Merkle
  siblings of the signing key (leaf level first) in its signatureMessageFragment;
* every value is 0; the bundle hash is the Kerl hash of the essences (§5.2); trunks chain the
  bundle (tx i's trunk is tx i+1), every non-head branch is the head's trunk, and the head
  approves the two given transactions (§5.6, §6.2 step 5);
* no proof of work (nonce all 9s), so only a node with MWM 0 would take them at ingest.

Everything is assembled field by field from trytes and parsed with ``parse_batch``, so the
transactions are exactly what a node would receive. The keyword arguments of ``build_milestone``
forge what a test needs: another signing key, another Merkle path, another branch, more
transactions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from pyri.consensus.coordinator import CoordinatorConfig
from pyri.crypto import wots
from pyri.crypto.kerl import kerl_hash
from pyri.crypto.merkle import merkle_levels, merkle_path
from pyri.crypto.sponge import SpongeMode
from pyri.model.transaction import (
    ESSENCE,
    LAYOUT,
    SIGNATURE_MESSAGE_FRAGMENT,
    TRANSACTION_TRYTES,
    Field,
    Transaction,
    parse_batch,
)
from pyri.trinary import (
    NULL_HASH,
    Trits,
    int_to_trytes,
    trits_to_trytes,
    trytes_to_trits,
)

DEFAULT_TIMESTAMP = 1_600_000_000
# The integer fields; every other field is trytes, padded with 9s to its length.
_INTEGER_FIELDS = frozenset(
    {
        "value",
        "timestamp",
        "currentIndex",
        "lastIndex",
        "attachmentTimestamp",
        "attachmentTimestampLowerBound",
        "attachmentTimestampUpperBound",
    }
)


def transaction_trytes(**fields: str | int) -> str:
    """2673 trytes from IRI field names (``trunkTransaction="..."``, ``currentIndex=1``); a
    field left out is all 9s (zero), a short tryte field is padded with 9s."""
    unknown = set(fields) - {f.name for f in LAYOUT}
    if unknown:
        raise KeyError(f"no such transaction fields: {sorted(unknown)}")
    parts = []
    for layout_field in LAYOUT:
        value = fields.get(layout_field.name, 0 if layout_field.name in _INTEGER_FIELDS else "")
        if layout_field.name in _INTEGER_FIELDS:
            assert isinstance(value, int)
            parts.append(int_to_trytes(value, layout_field.length))
        else:
            assert isinstance(value, str) and len(value) <= layout_field.length
            parts.append(value.ljust(layout_field.length, "9"))
    trytes = "".join(parts)
    assert len(trytes) == TRANSACTION_TRYTES
    return trytes


def parse_one(trytes: str) -> Transaction:
    (parsed,) = parse_batch([trytes])
    assert isinstance(parsed, Transaction), parsed
    return parsed


def with_field(tx: Transaction, field: Field, value: str) -> Transaction:
    """``tx`` with one tryte field replaced (a new transaction, with a new hash)."""
    assert len(value) == field.length
    trytes = tx.trytes
    return parse_one(trytes[: field.offset] + value + trytes[field.offset + field.length :])


def bundle_hash(essences: Sequence[str]) -> str:
    """Kerl over the essences in index order, squeezing 243 trits (§5.2)."""
    return trits_to_trytes(kerl_hash(trytes_to_trits("".join(essences))))


def index_tag(index: int) -> str:
    """The obsoleteTag of a milestone: the index in its first 15 trits (5 trytes), then 9s."""
    return int_to_trytes(index, 5).ljust(27, "9")


@dataclass(frozen=True)
class CoordinatorKeys:
    """A coordinator's 2^depth WOTS keys (from ``seed``) and their Merkle tree."""

    seed: str
    depth: int
    security: int
    mode: SpongeMode
    levels: tuple[Trits, ...]

    @classmethod
    def generate(cls, seed: str, depth: int, security: int, mode: SpongeMode) -> CoordinatorKeys:
        seed_trits = trytes_to_trits(seed)
        leaves = [wots.address(seed_trits, k, security, mode) for k in range(1 << depth)]
        levels = merkle_levels(trytes_to_trits("".join(map(trits_to_trytes, leaves))), mode)
        return cls(seed, depth, security, mode, tuple(levels))

    @property
    def root(self) -> str:
        """The coordinator address."""
        return trits_to_trytes(self.levels[-1][0])

    def leaf(self, index: int) -> str:
        return trits_to_trytes(self.levels[0][index])

    def path(self, index: int) -> str:
        """The Merkle siblings of key ``index``, leaf level first, as trytes."""
        return trits_to_trytes(merkle_path(list(self.levels), index))

    def private_key(self, index: int) -> Trits:
        subseed = wots.subseed(trytes_to_trits(self.seed), index, self.mode)
        return wots.private_key(subseed, self.security, self.mode)

    def config(self, **flags: object) -> CoordinatorConfig:
        """A testnet configuration trusting this coordinator, as IRI's flags would give it;
        ``flags`` override or add to them."""
        settings: dict[str, object] = {
            "--testnet-coordinator": self.root,
            "--testnet-coordinator-security-level": self.security,
            "--testnet-coordinator-signature-mode": self.mode.value,
            "--milestone-keys": self.depth,
            "--milestone-start": 0,
            "--mwm": 0,
        }
        settings.update({"--" + k.lstrip("-").replace("_", "-"): v for k, v in flags.items()})
        return CoordinatorConfig.from_flags(True, **settings)


def build_milestone(
    keys: CoordinatorKeys,
    index: int,
    *,
    trunk: str = NULL_HASH,
    branch: str = NULL_HASH,
    timestamp: int = DEFAULT_TIMESTAMP,
    key_index: int | None = None,
    path_index: int | None = None,
    extra_transactions: int = 0,
    branches: Mapping[int, str] | None = None,
) -> list[Transaction]:
    """The milestone bundle for ``index``, tail first, approving ``trunk`` and ``branch``.

    Forgeries: ``key_index`` signs with another key, ``path_index`` writes another key's Merkle
    path, ``extra_transactions`` appends zero-value transactions after the sibling transaction
    (which then is no longer the head), and ``branches`` sets chosen transactions' branch.
    """
    security = keys.security
    last = security + extra_transactions
    tag = index_tag(index)

    def fields_of(i: int) -> dict[str, str | int]:
        """The essence fields and tags of transaction i (everything but chaining and fragment)."""
        return {
            "address": keys.root if i < security else NULL_HASH,
            "obsoleteTag": tag if i < security else "",
            "tag": tag if i < security else "",
            "timestamp": timestamp,
            "currentIndex": i,
            "lastIndex": last,
        }

    essences = [transaction_trytes(**fields_of(i))[ESSENCE.trytes] for i in range(last + 1)]
    bundle = bundle_hash(essences)
    siblings = keys.path(index if path_index is None else path_index)
    chosen = dict(branches or {})

    # Built from the head down: each transaction's trunk is the hash of the next one, and the
    # signature transactions need the sibling transaction's hash, which they sign.
    built: list[Transaction] = []
    signature_fragments: list[str] = []
    for i in reversed(range(last + 1)):
        if i == security - 1:
            signed_hash = built[-1].hash  # the sibling transaction, built just before
            key = keys.private_key(index if key_index is None else key_index)
            signature = trits_to_trytes(wots.sign(key, signed_hash, keys.mode))
            length = SIGNATURE_MESSAGE_FRAGMENT.length
            signature_fragments = [
                signature[k * length : (k + 1) * length] for k in range(security)
            ]
        if i < security:
            fragment = signature_fragments[i]
        elif i == security:
            fragment = siblings
        else:
            fragment = ""  # the forged extra transactions after the sibling carry nothing
        # The head approves the two given transactions; every other transaction's trunk is the
        # next one and its branch the head's trunk (§5.6b).
        tx_trunk, tx_branch = (trunk, branch) if i == last else (built[-1].hash, trunk)
        trytes = transaction_trytes(
            signatureMessageFragment=fragment,
            bundle=bundle,
            trunkTransaction=tx_trunk,
            branchTransaction=chosen.get(i, tx_branch),
            **fields_of(i),
        )
        built.append(parse_one(trytes))
    built.reverse()
    # One batch parse of the final trytes, as a node would receive them.
    parsed = parse_batch([tx.trytes for tx in built])
    assert all(isinstance(tx, Transaction) for tx in parsed)
    return [tx for tx in parsed if isinstance(tx, Transaction)]


def lookup_of(*transactions: Transaction) -> dict[str, Transaction]:
    """A hash → transaction map; pass its ``get`` as the lookup."""
    return {tx.hash: tx for tx in transactions}

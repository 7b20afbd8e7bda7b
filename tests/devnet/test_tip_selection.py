"""Tip selection through getTips and checkConsistency."""

from __future__ import annotations

import random
import threading
from pathlib import Path

from pyri.crypto.sponge import SpongeMode
from pyri.devnet.bundle_builder import Draft, attach_bundle, pad_tag, seal
from pyri.devnet.client import NodeClient
from pyri.devnet.coordinator import Coordinator, CoordinatorSettings
from pyri.devnet.genesis import genesis_balances
from pyri.devnet.tip_selection import approvee_pair, consistent_set, tail_tips
from pyri.model.transaction import Transaction
from pyri.trinary import NULL_HASH
from tests.devnet.conftest import KeysFactory, NodeFactory


def _bundle(count: int, trunk: str = NULL_HASH, text: str = "") -> list[Transaction]:
    drafts = seal([Draft(NULL_HASH, 0, pad_tag(text), pad_tag("TIPS"), text, 1)] * count)
    return attach_bundle(drafts, trunk, trunk, 1)


def test_unsolid_tips_wait_and_broken_ones_are_dropped(
    coordinator_keys: KeysFactory, fake_node: NodeFactory, tmp_path: Path
) -> None:
    keys = coordinator_keys(3, 1, SpongeMode.CURLP27)
    _, url = fake_node(keys, genesis_balances(), mwm=1)
    client = NodeClient(url)
    settings = CoordinatorSettings(interval=0, mwm=1, apply_timeout=5, poll=0.01)
    Coordinator(client, keys, tmp_path, settings).run(threading.Event(), count=1)
    good = _bundle(1, text="GOOD")
    unsolid = _bundle(1, trunk="UNKNOWN".ljust(81, "9"), text="WAIT")
    pair = _bundle(2, text="PAIR")
    client.store_transactions([tx.trytes for tx in [*good, *unsolid, *reversed(pair)]])
    tips = {c.hash for c in tail_tips(client)}
    assert good[0].hash in tips and unsolid[0].hash in tips and pair[0].hash in tips
    candidates = [unsolid[0].hash, pair[1].hash, good[0].hash]  # pair[1] is not a tail
    chosen, dead = consistent_set(client, candidates, limit=5)
    assert chosen == [good[0].hash]
    assert dead == [pair[1].hash]  # the unsolid tip is not given up on
    trunk, branch = approvee_pair(client, "F" * 81, random.Random(1))
    assert {trunk, branch} <= tips | {"F" * 81}

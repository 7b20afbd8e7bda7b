"""Fixtures of the end-to-end tests: real ``pyri run`` processes on free loopback ports.

``main_node`` (one per session) is loaded with ``tangles.main_scenario()``; tests that need a
node of their own (other flags, restarts, crashes) get one from ``nodes``, which stops whatever
is still running at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest

from tests.e2e.node import LoadedNode, NodeProcess, load, scenario_node
from tests.e2e.tangles import Scenario, main_scenario

# The main node reads one setting from an ini file, to cover ``-c``.
MAIN_INI = "[IRI]\nMAX_FIND_TRANSACTIONS = 5\n"


class NodeFactory:
    """``nodes(name, scenario, flags)``: a node (not started) in a fresh directory that starts
    from ``scenario``'s snapshot. Nodes still running at the end of the session are stopped."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory) -> None:
        self._tmp = tmp_path_factory
        self.made: list[NodeProcess] = []

    def __call__(
        self, name: str, scenario: Scenario, flags: Sequence[str] = (), *, ini: str = ""
    ) -> NodeProcess:
        node = scenario_node(self._tmp.mktemp(name), scenario, flags, ini=ini)
        self.made.append(node)
        return node

    def stop_all(self) -> None:
        for node in self.made:
            if node.running:
                node.stop()


@pytest.fixture(scope="session")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodeFactory]:
    factory = NodeFactory(tmp_path_factory)
    yield factory
    factory.stop_all()


@pytest.fixture(scope="session")
def main_node(nodes: NodeFactory) -> Iterator[LoadedNode]:
    process = nodes("main", main_scenario(), ini=MAIN_INI)
    process.start()
    node = load(process, main_scenario())
    yield node
    code = process.stop()
    assert code == 0, f"pyri run exited with {code}:\n{process.log_tail()}"

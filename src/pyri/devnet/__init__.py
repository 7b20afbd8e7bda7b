"""A private tangle on one machine (design.md, layer 7): the coordinator's key tree and
milestones, a workload generator of signed transfers, the genesis files that bind a node to the
new coordinator, and ``pyri devnet``, which runs all of it against a ``pyri run`` node.

Everything here talks to the node only through its public HTTP API (``client``), as an
external coordinator or wallet would; nothing imports the node's internals.
"""

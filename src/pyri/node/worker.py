"""An API worker process: the ASGI app over a read-only view of the node's database.

Granian (or uvicorn) imports ``create`` in every worker process; the node passes its settings,
the writer's socket and the writer's count of writes through the environment. Reads go straight
to LMDB, so they scale with processes; writes go to the node's single writer.
"""

from __future__ import annotations

import os
from pathlib import Path

from pyri.api.app import ASGIApp, create_app
from pyri.node.backend import StoreBackend
from pyri.node.config import NodeConfig
from pyri.node.service import api_config, tangle_config
from pyri.node.write_counter import WriteCounter
from pyri.node.writer import WriterClient
from pyri.storage import open_engine

ENV_CONFIG = "PYRI_NODE_CONFIG"
ENV_SOCKET = "PYRI_WRITER_SOCKET"
ENV_KEY = "PYRI_WRITER_KEY"
ENV_COUNTER = "PYRI_WRITE_COUNTER"


def create() -> ASGIApp:
    """The app for one worker process (a granian/uvicorn factory)."""
    config = NodeConfig.from_json(os.environ[ENV_CONFIG])
    engine = open_engine(config.db_path, readonly=True)
    client = WriterClient(Path(os.environ[ENV_SOCKET]), bytes.fromhex(os.environ[ENV_KEY]))
    backend = StoreBackend(
        engine,
        tangle_config(config),
        config.coordinator,
        client,
        testnet=config.testnet,
        db_path=config.db_path,
        writes=WriteCounter.attach(Path(os.environ[ENV_COUNTER])),
    )
    return create_app(backend, api_config(config))

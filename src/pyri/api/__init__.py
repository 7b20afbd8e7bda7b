"""IRI 1.8's HTTP API: the ASGI transport (``app``), one handler module per command
(``commands``), their declarative parameters (``params``) and the node interface they call
(``backend``)."""

from __future__ import annotations

from pyri.api.app import ASGIApp, create_app
from pyri.api.backend import (
    Balances,
    Consistency,
    MilestoneNotAvailable,
    NodeBackend,
    NodeInfo,
    NotATail,
    TipNotFound,
    TipsNotConsistent,
    TransactionMissing,
    TransactionRejected,
)
from pyri.api.config import ApiConfig
from pyri.api.errors import ApiError, BadRequest, Unauthorized

__all__ = [
    "ASGIApp",
    "ApiConfig",
    "ApiError",
    "BadRequest",
    "Balances",
    "Consistency",
    "MilestoneNotAvailable",
    "NodeBackend",
    "NodeInfo",
    "NotATail",
    "TipNotFound",
    "TipsNotConsistent",
    "TransactionMissing",
    "TransactionRejected",
    "Unauthorized",
    "create_app",
]

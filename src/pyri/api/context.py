"""What every command handler is given: the node and the API settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

from pyri.api.backend import NodeBackend
from pyri.api.config import ApiConfig
from pyri.api.params import Request


@dataclass(frozen=True, slots=True)
class Context:
    backend: NodeBackend
    config: ApiConfig


# A handler validates its parameters, asks the backend, and returns the response fields in IRI's
# order without ``duration`` (the transport appends it last, iri-api-reference §1.6); or it
# raises ApiError.
Handler: TypeAlias = Callable[[Request, Context], dict[str, object]]

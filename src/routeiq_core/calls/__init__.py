"""The request use case: one call, from any surface, through access, plugins, routing and settlement.

A surface builds a :class:`CallCommand` and enters ``async with service.call(command) as result``;
see :mod:`routeiq_core.calls.service` for the sequence.
"""

from routeiq_core.calls.access import CallAccess
from routeiq_core.calls.command import (
    CallAnswer,
    CallCommand,
    CallRequest,
    CallResult,
    CallStream,
    Credentials,
    Decode,
    RoutingHints,
)
from routeiq_core.calls.routed import BODY_EXTENSION, RoutedModels, RoutedName, take_cost_weight
from routeiq_core.calls.service import CallService, describe_call
from routeiq_core.calls.settle import Settlement, account

__all__ = [
    "BODY_EXTENSION",
    "CallAccess",
    "CallAnswer",
    "CallCommand",
    "CallRequest",
    "CallResult",
    "CallService",
    "CallStream",
    "Credentials",
    "Decode",
    "RoutedModels",
    "RoutedName",
    "RoutingHints",
    "Settlement",
    "account",
    "describe_call",
    "take_cost_weight",
]

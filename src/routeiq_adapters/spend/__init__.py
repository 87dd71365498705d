"""Spend ledger adapters."""

from routeiq_adapters.spend.memory import InMemorySpendLedger

__all__ = ["InMemorySpendLedger"]

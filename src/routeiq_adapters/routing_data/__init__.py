"""Adapters of the routing dataset port: JSON-lines files in the shared routing-table format."""

from routeiq_adapters.routing_data.jsonl import JsonlRoutingDataset

__all__ = ["JsonlRoutingDataset"]

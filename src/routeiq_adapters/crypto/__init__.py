"""Cryptographic adapters: sealing small blobs into tokens (MCP sessions)."""

from routeiq_adapters.crypto.aes_gcm import AesGcmSealer

__all__ = ["AesGcmSealer"]

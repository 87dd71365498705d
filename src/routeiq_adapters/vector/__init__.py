"""Vector index adapters for the core's ``VectorIndex`` port."""

from routeiq_adapters.vector.faiss_index import FaissVectorIndex, faiss_index_factory

__all__ = ["FaissVectorIndex", "faiss_index_factory"]

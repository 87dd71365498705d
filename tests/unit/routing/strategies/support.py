"""Shared builders and hypothesis strategies for the routing-strategy tests."""

from __future__ import annotations

from typing import Any

from hypothesis import settings
from hypothesis import strategies as st

from routeiq_core.catalog import Deployment, ModelGroup
from routeiq_core.context import CallContext


def dep(n: int, **kw: Any) -> Deployment:
    return Deployment(id=f"d{n}", model_group="g", adapter="mock", upstream_model=f"up-{n}", **kw)


def group_of(deployments: tuple[Deployment, ...] | list[Deployment], name: str = "g") -> ModelGroup:
    return ModelGroup(name=name, deployments=tuple(deployments))


def ids(deployments: list[Deployment]) -> list[str]:
    return [d.id for d in deployments]


_TAG = st.sampled_from(["eu", "us", "gpu", "fast"])
_FIELDS = st.fixed_dictionaries(
    {
        "weight": st.sampled_from([0.0, 0.5, 1.0, 3.0]),
        "input_price_per_mtok": st.sampled_from([0.0, 0.5, 1.0, 5.0]),
        "output_price_per_mtok": st.sampled_from([0.0, 1.0, 15.0]),
        "rpm": st.none() | st.integers(min_value=1, max_value=20),
        "tpm": st.none() | st.integers(min_value=100, max_value=5000),
        "max_context_tokens": st.none() | st.sampled_from([4096, 8192, 128_000]),
        "tags": st.frozensets(_TAG, max_size=3).map(lambda tags: tuple(sorted(tags))),
    }
)

# Property tests stay quick: the whole routing suite must run in well under 20 s.
PROPERTY = settings(max_examples=60, deadline=None)


def deployment_lists(min_size: int = 0, max_size: int = 8) -> st.SearchStrategy[list[Deployment]]:
    """Deployments with unique ids and random weights, prices, limits, context windows and tags."""
    return st.lists(_FIELDS, min_size=min_size, max_size=max_size).map(
        lambda rows: [dep(i, **row) for i, row in enumerate(rows)]
    )


contexts = st.builds(
    CallContext,
    request_id=st.none() | st.text(min_size=1, max_size=8),
    estimated_prompt_tokens=st.integers(min_value=0, max_value=20_000),
    tags=st.lists(_TAG, max_size=2, unique=True).map(tuple),
)

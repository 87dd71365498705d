"""The official `openai` SDK's Responses API, unmodified, against `routeiq serve` on a real socket.

Every call is translated to chat for the built-in mock provider and back. Two workers share the
SQLite response store, so a conversation continues whichever worker takes the next turn; each
request opens its own connection, so the workers take turns.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import anyio
import asyncpg  # type: ignore[import-untyped]
import httpx
import httpx2
import openai
import pytest
from pydantic import BaseModel

from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

MASTER = "sk-responses-master-key-0123456789"
MOCK_TEXT = "Hello from the mock"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The current weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
}
CONFIG = f"""
server: {{workers: 2}}
model_list:
  - model_name: mock
    litellm_params: {{model: mock/m, mock: {{content: '{MOCK_TEXT}', ttft_ms: 0, inter_token_ms: 0}}}}
  - model_name: echo
    litellm_params: {{model: mock/e, mock: {{echo: true, ttft_ms: 0, inter_token_ms: 0}}}}
resilience: {{num_retries: 0}}
"""


class Weather(BaseModel):
    city: str
    temperature: float


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    keys = tmp_path_factory.mktemp("responses") / "keys.db"
    env = {"ROUTEIQ_SECURITY__MASTER_KEY": MASTER, "ROUTEIQ_KEYS__SQLITE_PATH": str(keys)}
    with GatewayProcess(CONFIG, env=env) as gw:
        yield gw
        assert "Traceback" not in gw.log(), gw.log()[-4000:]


def client_for(gateway: GatewayProcess, key: str = MASTER) -> openai.OpenAI:
    """A client on a connection of its own (no keep-alive: the next request may reach another worker)."""
    http = openai.DefaultHttpxClient(limits=httpx2.Limits(max_keepalive_connections=0), timeout=10)
    return openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=key, max_retries=0, http_client=http)


@pytest.fixture
def client(gateway: GatewayProcess) -> openai.OpenAI:
    return client_for(gateway)


def virtual_key(gateway: GatewayProcess) -> str:
    issued = httpx.post(
        f"{gateway.base_url}/admin/keys",
        json={"models": ["mock", "echo"]},
        headers={"Authorization": f"Bearer {MASTER}"},
        timeout=10,
    )
    assert issued.status_code == 201, issued.text
    return str(issued.json()["key"])


def test_create_plain(client: openai.OpenAI) -> None:
    response = client.responses.create(model="mock", input="hi", instructions="Answer briefly.")
    assert response.id.startswith("resp_")
    assert response.object == "response"
    assert response.status == "completed"
    assert response.output_text == MOCK_TEXT
    assert response.output[0].type == "message"
    assert response.usage is not None
    assert response.usage.input_tokens > 0
    assert response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens


def test_create_streaming(client: openai.OpenAI) -> None:
    events = list(client.responses.create(model="mock", input="hi", stream=True))
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert text == MOCK_TEXT
    final = events[-1].response  # type: ignore[union-attr]
    assert final.output_text == MOCK_TEXT


def test_stream_helper(client: openai.OpenAI) -> None:
    with client.responses.stream(model="mock", input="hi") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == MOCK_TEXT
    assert final.output_text == MOCK_TEXT
    assert final.status == "completed"


def test_function_tool_round_trip(client: openai.OpenAI) -> None:
    first = client.responses.create(model="mock", input="What is the weather in Paris?", tools=[WEATHER])
    calls = [item for item in first.output if item.type == "function_call"]
    assert len(calls) == 1
    call = calls[0]
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    second = client.responses.create(
        model="mock",
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Sunny in Paris"}],
    )
    assert second.status == "completed"
    assert "Sunny in Paris" in second.output_text


def test_function_tool_round_trip_streaming(client: openai.OpenAI) -> None:
    with client.responses.stream(model="mock", input="Weather in Oslo?", tools=[WEATHER]) as stream:
        arguments = "".join(e.delta for e in stream if e.type == "response.function_call_arguments.delta")
        first = stream.get_final_response()
    call = next(item for item in first.output if item.type == "function_call")
    assert json.loads(arguments) == json.loads(call.arguments) == {"city": "Oslo"}
    with client.responses.stream(
        model="mock",
        previous_response_id=first.id,
        tools=[WEATHER],
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Snow"}],
    ) as stream:
        second = stream.get_final_response()
    assert "Snow" in second.output_text


def test_previous_response_id_across_two_workers(gateway: GatewayProcess) -> None:
    firsts = [
        client_for(gateway).responses.create(model="echo", input=f"first {i}", store=True) for i in range(8)
    ]
    for i, first in enumerate(firsts):
        second = client_for(gateway).responses.create(
            model="echo", input=f"second {i}", previous_response_id=first.id
        )
        assert second.output_text == f"second {i}"
        items = client_for(gateway).responses.input_items.list(second.id, order="asc")
        texts = [_text(item) for item in items.data]
        assert texts == [f"first {i}", f"first {i}", f"second {i}"]  # the user turn, its echo, the new one


def test_the_two_workers_both_serve(tmp_path: Any) -> None:
    """The control: with per-worker memory stores some responses are missing on the other worker."""
    env = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__SQLITE_PATH": str(tmp_path / "keys.db"),
        "ROUTEIQ_RESPONSES__BACKEND": "memory",
    }
    missing = 0
    with GatewayProcess(CONFIG, env=env) as gw:
        for i in range(16):
            created = client_for(gw).responses.create(model="echo", input=f"turn {i}")
            try:
                client_for(gw).responses.retrieve(created.id)
            except openai.NotFoundError:
                missing += 1
    assert missing > 0


def test_previous_response_id_across_two_nodes_on_postgres(tmp_path: Any, postgres_dsn: str) -> None:
    """Two gateways (two nodes) sharing the key store's PostgreSQL: a conversation moves between them."""
    schema = f"riq_responses_{uuid.uuid4().hex[:12]}"
    env = {
        "ROUTEIQ_SECURITY__MASTER_KEY": MASTER,
        "ROUTEIQ_KEYS__BACKEND": "postgres",
        "ROUTEIQ_KEYS__POSTGRES_DSN": postgres_dsn,
        "ROUTEIQ_KEYS__POSTGRES_SCHEMA": schema,
        "ROUTEIQ_AUDIT__ENABLED": "false",
    }
    single = CONFIG.replace("server: {workers: 2}", "")
    try:
        with GatewayProcess(single, env=env) as one, GatewayProcess(single, env=env) as two:
            first = client_for(one).responses.create(model="echo", input="on node one")
            second = client_for(two).responses.create(
                model="echo", input="on node two", previous_response_id=first.id
            )
            assert second.output_text == "on node two"
            items = client_for(one).responses.input_items.list(second.id, order="asc")
            assert [_text(item) for item in items.data] == ["on node one", "on node one", "on node two"]
            client_for(two).responses.delete(first.id)
            with pytest.raises(openai.NotFoundError):
                client_for(one).responses.retrieve(first.id)
    finally:
        anyio.run(_drop, postgres_dsn, schema)


async def _drop(dsn: str, schema: str) -> None:
    conn = await asyncpg.connect(dsn, timeout=10)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


def _text(item: Any) -> str:
    return "".join(part.text for part in item.content)


def test_retrieve_delete_and_input_items(client: openai.OpenAI) -> None:
    created = client.responses.create(
        model="mock", input=[{"role": "user", "content": "hi"}], metadata={"purpose": "test"}
    )
    fetched = client.responses.retrieve(created.id)
    assert fetched.id == created.id
    assert fetched.output_text == MOCK_TEXT
    assert fetched.metadata == {"purpose": "test"}
    items = client.responses.input_items.list(created.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].id
    with pytest.raises(openai.BadRequestError):
        client.responses.cancel(created.id)
    client.responses.delete(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.create(model="mock", input="again", previous_response_id=created.id)


def test_input_items_page(client: openai.OpenAI) -> None:
    first = client.responses.create(model="echo", input="one")
    second = client.responses.create(model="echo", input="two", previous_response_id=first.id)
    page = client.responses.input_items.list(second.id, limit=2)  # newest first
    assert [_text(item) for item in page.data] == ["two", "one"]
    assert page.has_more
    rest = client.responses.input_items.list(second.id, limit=2, after=page.data[-1].id)
    assert [_text(item) for item in rest.data] == ["one"]
    assert not rest.has_more
    every = [_text(item) for item in client.responses.input_items.list(second.id, order="asc")]
    assert every == ["one", "one", "two"]
    with pytest.raises(openai.BadRequestError):
        client.responses.input_items.list(second.id, limit=0)


def test_store_false_is_not_kept(client: openai.OpenAI) -> None:
    created = client.responses.create(model="mock", input="hi", store=False)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(created.id)


def test_another_key_cannot_see_a_response(gateway: GatewayProcess) -> None:
    owner, other = client_for(gateway, virtual_key(gateway)), client_for(gateway, virtual_key(gateway))
    created = owner.responses.create(model="mock", input="hi")
    assert owner.responses.retrieve(created.id).id == created.id
    for attempt in (
        lambda: other.responses.retrieve(created.id),
        lambda: other.responses.delete(created.id),
        lambda: other.responses.input_items.list(created.id),
        lambda: other.responses.create(model="mock", input="x", previous_response_id=created.id),
    ):
        with pytest.raises(openai.NotFoundError):
            attempt()
    assert client_for(gateway).responses.retrieve(created.id).id == created.id  # the master key sees all


def test_json_schema_with_parse(client: openai.OpenAI) -> None:
    parsed = client.responses.parse(model="mock", input="Weather in Rome?", text_format=Weather)
    weather = parsed.output_parsed
    assert isinstance(weather, Weather)


def test_a_hosted_tool_is_refused_by_name(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.responses.create(model="mock", input="hi", tools=[{"type": "web_search"}])
    assert "web_search" in refused.value.message


def test_unauthenticated_is_refused(gateway: GatewayProcess) -> None:
    with pytest.raises(openai.AuthenticationError):
        client_for(gateway, "sk-wrong").responses.create(model="mock", input="hi")

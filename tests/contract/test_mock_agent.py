"""Agent code against the mock provider through a real `routeiq serve`: no credentials, no network.

Driven by the official `openai` SDK (a plain two-tool agent loop, streamed tool calls assembled by
the SDK, structured output parsed into a Pydantic model, n/stop/max_tokens/seed) and by the OpenAI
Agents SDK (`openai-agents`: `Agent`, `Runner`, `function_tool`, `OpenAIChatCompletionsModel`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import agents
import anyio
import openai
import pytest
from pydantic import BaseModel

from tests.support.gateway_process import GatewayProcess

pytestmark = pytest.mark.slow

QUESTION = "What's the weather in Paris, and what time is it there?"

CONFIG = """
model_list:
  - model_name: agent
    litellm_params:
      model: mock/agent
      mock: {content: "The mock has nothing to add."}
  - model_name: flaky
    litellm_params:
      model: mock/flaky
      mock:
        content: "one two three four five"
        script: [{status: 503}, {}, {status: 503}, {cut_after: 1}]
        repeat_script: true
resilience:
  num_retries: 1
  retry_base_delay_s: 0.01
"""

TOOLS: list[dict[str, Any]] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The current weather in a city.",
            "parameters": {
                "type": "object",
                "properties": {
                    "city": {"type": "string"},
                    "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                },
                "required": ["city", "unit"],
                "additionalProperties": False,
            },
        },
    },
    {
        "type": "function",
        "function": {
            "name": "get_time",
            "description": "The local time in a timezone.",
            "parameters": {
                "type": "object",
                "properties": {"timezone": {"type": "string"}},
                "required": ["timezone"],
                "additionalProperties": False,
            },
        },
    },
]


def weather(city: str, unit: str) -> str:
    return f"Sunny and 21 degrees {unit} in {city}"


def clock(timezone: str) -> str:
    return f"It is 14:05 in {timezone}"


LOCAL_TOOLS = {"get_weather": weather, "get_time": clock}


@pytest.fixture(scope="module")
def gateway() -> Iterator[GatewayProcess]:
    with GatewayProcess(CONFIG) as gw:
        yield gw


@pytest.fixture
def client(gateway: GatewayProcess) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0, timeout=10) as c:
        yield c


def test_a_two_tool_agent_loop_runs_end_to_end(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": QUESTION}]
    calls: list[tuple[str, dict[str, Any]]] = []
    for _ in range(5):
        completion = client.chat.completions.create(model="agent", messages=messages, tools=TOOLS)  # type: ignore[arg-type]
        choice = completion.choices[0]
        messages.append(choice.message.model_dump(exclude_none=True))
        if choice.finish_reason != "tool_calls":
            break
        for call in choice.message.tool_calls or []:
            arguments = json.loads(call.function.arguments)  # type: ignore[union-attr]
            calls.append((call.function.name, arguments))  # type: ignore[union-attr]
            result = LOCAL_TOOLS[call.function.name](**arguments)  # type: ignore[union-attr]
            messages.append({"role": "tool", "tool_call_id": call.id, "content": result})
    assert calls == [("get_weather", {"city": "Paris", "unit": "celsius"}), ("get_time", {"timezone": "UTC"})]
    assert choice.finish_reason == "stop"
    final = choice.message.content or ""
    assert "Sunny and 21 degrees celsius in Paris" in final
    assert "It is 14:05 in UTC" in final


def test_streamed_tool_calls_are_assembled_by_the_sdk(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model="agent",
        messages=[{"role": "user", "content": QUESTION}],
        tools=TOOLS,  # type: ignore[arg-type]
        parallel_tool_calls=True,
        stream_options={"include_usage": True},
    ) as stream:
        completion = stream.get_final_completion()
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [c.function.name for c in calls] == ["get_weather", "get_time"]  # type: ignore[union-attr]
    assert json.loads(calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}  # type: ignore[union-attr]
    assert all(c.id.startswith("call_") for c in calls)
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0


class Forecast(BaseModel):
    city: str
    temperatures: list[float]
    will_rain: bool
    advice: str | None


def test_structured_output_parses_into_a_pydantic_model(client: openai.OpenAI) -> None:
    completion = client.chat.completions.parse(
        model="agent", messages=[{"role": "user", "content": "Forecast for Paris"}], response_format=Forecast
    )
    parsed = completion.choices[0].message.parsed
    assert isinstance(parsed, Forecast)
    assert parsed.city == "Paris"
    assert parsed.temperatures
    with pytest.raises(openai.LengthFinishReasonError):
        client.chat.completions.parse(
            model="agent", messages=[{"role": "user", "content": "x"}], response_format=Forecast, max_tokens=2
        )


def test_n_stop_max_tokens_and_seed(client: openai.OpenAI) -> None:
    hi = [{"role": "user", "content": "hi"}]
    several = client.chat.completions.create(model="agent", messages=hi, n=3)  # type: ignore[arg-type]
    assert [c.index for c in several.choices] == [0, 1, 2]
    assert {c.message.content for c in several.choices} == {"The mock has nothing to add."}
    stopped = client.chat.completions.create(model="agent", messages=hi, stop=["nothing"])  # type: ignore[arg-type]
    assert (stopped.choices[0].message.content, stopped.choices[0].finish_reason) == ("The mock has ", "stop")
    cut = client.chat.completions.create(model="agent", messages=hi, max_tokens=3)  # type: ignore[arg-type]
    assert (cut.choices[0].message.content, cut.choices[0].finish_reason) == ("The mock has", "length")
    seeded = [client.chat.completions.create(model="agent", messages=hi, seed=s) for s in (1, 1, 2)]  # type: ignore[arg-type]
    prints = [c.system_fingerprint for c in seeded]
    assert prints[0] == prints[1] != prints[2]
    streamed = client.chat.completions.create(model="agent", messages=hi, n=2, max_tokens=2, stream=True)  # type: ignore[arg-type]
    texts = {0: "", 1: ""}
    for chunk in streamed:
        for part in chunk.choices:
            texts[part.index] += part.delta.content or ""
    assert texts == {0: "The mock", 1: "The mock"}
    emb = client.embeddings.create(model="agent", input=["a", "b"], dimensions=12)  # base64 on the wire
    assert [len(d.embedding) for d in emb.data] == [12, 12]


def test_scripted_failures_are_retried_and_cut_streams_reach_the_client(client: openai.OpenAI) -> None:
    hi = [{"role": "user", "content": "hi"}]
    raw = client.chat.completions.with_raw_response.create(model="flaky", messages=hi)  # type: ignore[arg-type]
    assert raw.headers["x-routeiq-attempts"] == "2"  # step 1 fails with 503, step 2 answers
    stream = client.chat.completions.create(model="flaky", messages=hi, stream=True)  # type: ignore[arg-type]
    chunks = iter(stream)
    assert next(chunks).choices[0].delta.content == "one"  # step 3 fails, step 4 cuts after a chunk
    with pytest.raises(openai.APIError, match="cut the stream"):
        list(chunks)


def test_the_openai_agents_sdk_runs_a_two_tool_task(gateway: GatewayProcess) -> None:
    used: list[str] = []

    @agents.function_tool
    def get_weather(city: str) -> str:
        """The current weather in a city."""
        used.append(f"get_weather({city})")
        return f"Sunny in {city}"

    @agents.function_tool
    def get_time(timezone: str) -> str:
        """The local time in a timezone."""
        used.append(f"get_time({timezone})")
        return f"14:05 in {timezone}"

    class Report(BaseModel):
        city: str
        summary: str

    async def main() -> tuple[Any, Any]:
        async with openai.AsyncOpenAI(
            base_url=f"{gateway.base_url}/v1", api_key="unused", max_retries=0
        ) as ac:
            model = agents.OpenAIChatCompletionsModel(model="agent", openai_client=ac)
            config = agents.RunConfig(tracing_disabled=True)
            helper = agents.Agent(
                name="helper", instructions="Use the tools.", tools=[get_weather, get_time], model=model
            )
            text = await agents.Runner.run(helper, QUESTION, run_config=config)
            reporter = agents.Agent(
                name="reporter", tools=[get_weather, get_time], model=model, output_type=Report
            )
            streamed = agents.Runner.run_streamed(reporter, QUESTION, run_config=config)
            async for _ in streamed.stream_events():
                pass
            return text.final_output, streamed.final_output

    text, report = anyio.run(main)
    assert used == ["get_weather(Paris)", "get_time(UTC)"] * 2
    assert "Sunny in Paris" in text
    assert "14:05 in UTC" in text
    assert isinstance(report, Report)
    assert report.city == "Paris"

"""The tools of the conformance upstream (:mod:`tests.support.mcp_conformance_upstream`).

One function per tool the pinned ``@modelcontextprotocol/conformance`` server scenarios call, with
the content and behaviour each scenario checks: fixed content blocks, progress, logging, the
diagnostic tools of the 2026-07-28 ``server-stateless`` scenario, sampling and elicitation mid-call
(2025-11-25). The helpers below also build the ``input_required`` results of
:mod:`tests.support.mcp_conformance_input`.
"""

from __future__ import annotations

import json
import warnings
from typing import Any

import anyio
from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, InputRequiredResult, SamplingMessage, TextContent

IMAGE_PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
AUDIO_WAV = "UklGRiQAAABXQVZFZm10IBAAAAABAAEAQB8AAEAfAAABAAgAZGF0YQAAAAA="
SIMPLE_TEXT = "This is a simple text response for testing."


def _result(*content: dict[str, Any], is_error: bool = False) -> CallToolResult:
    return CallToolResult.model_validate({"content": list(content), "isError": is_error})


def text_result(text: str) -> CallToolResult:
    return _result({"type": "text", "text": text})


def form_request(message: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "properties": properties, "required": required}
    return {"method": "elicitation/create", "params": {"message": message, "requestedSchema": schema}}


def sampling_request(text: str, max_tokens: int) -> dict[str, Any]:
    message = {"role": "user", "content": {"type": "text", "text": text}}
    return {"method": "sampling/createMessage", "params": {"messages": [message], "maxTokens": max_tokens}}


ROOTS_REQUEST = {"method": "roots/list", "params": {}}
NAME_FORM = form_request("What is your name?", {"name": {"type": "string"}}, ["name"])


def ask_for(requests: dict[str, Any], state: dict[str, Any] | None = None) -> InputRequiredResult:
    body: dict[str, Any] = {"resultType": "input_required", "inputRequests": requests}
    if state is not None:
        body["requestState"] = json.dumps(state, separators=(",", ":"))
    return InputRequiredResult.model_validate(body)


def input_answer(ctx: Context, key: str) -> dict[str, Any] | None:
    """The client's answer to input request ``key`` as plain JSON, or None when it did not answer."""
    response = (ctx.input_responses or {}).get(key)
    if response is None:
        return None
    data = response.model_dump(mode="json", by_alias=True) if hasattr(response, "model_dump") else response
    return data if isinstance(data, dict) else None


def echoed_state(ctx: Context) -> dict[str, Any]:
    try:
        value = json.loads(ctx.request_state or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def answer_content(answer: dict[str, Any] | None) -> dict[str, Any]:
    content = (answer or {}).get("content")
    return content if isinstance(content, dict) else {}


def test_simple_text() -> CallToolResult:
    """Returns one text block."""
    return text_result(SIMPLE_TEXT)


def test_image_content() -> CallToolResult:
    """Returns one PNG image."""
    return _result({"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"})


def test_audio_content() -> CallToolResult:
    """Returns one WAV clip."""
    return _result({"type": "audio", "data": AUDIO_WAV, "mimeType": "audio/wav"})


def test_embedded_resource() -> CallToolResult:
    """Returns an embedded text resource."""
    resource = {
        "uri": "test://embedded-resource",
        "mimeType": "text/plain",
        "text": "This is an embedded resource content.",
    }
    return _result({"type": "resource", "resource": resource})


def test_multiple_content_types() -> CallToolResult:
    """Returns text, an image and a resource."""
    data = json.dumps({"test": "data", "value": 123}, separators=(",", ":"))
    resource = {"uri": "test://mixed-content-resource", "mimeType": "application/json", "text": data}
    return _result(
        {"type": "text", "text": "Multiple content types test:"},
        {"type": "image", "data": IMAGE_PNG, "mimeType": "image/png"},
        {"type": "resource", "resource": resource},
    )


def test_error_handling() -> CallToolResult:
    """Always answers with isError: true."""
    return _result(
        {"type": "text", "text": "This tool intentionally returns an error for testing"}, is_error=True
    )


async def test_tool_with_progress(ctx: Context) -> CallToolResult:
    """Reports progress 0, 50 and 100 of 100."""
    for step in (0, 50, 100):
        await ctx.report_progress(step, 100, f"step {step} of 100")
        if step < 100:
            await anyio.sleep(0.05)
    return text_result("Progress completed")


async def test_tool_with_logging(ctx: Context) -> CallToolResult:
    """Logs three info messages while it runs (2025-11-25)."""
    for n, message in enumerate(
        ("Tool execution started", "Tool processing data", "Tool execution completed")
    ):
        if n:
            await anyio.sleep(0.05)
        await ctx.info(message)
    return text_result("Tool with logging executed successfully")


def test_missing_capability(ctx: Context) -> CallToolResult:
    """Needs the client's sampling capability."""
    capabilities = ctx.client_capabilities
    if capabilities is None or capabilities.sampling is None:
        raise MCPError(
            code=-32021,
            message="Missing required client capability: sampling",
            data={"requiredCapabilities": {"sampling": {}}},
        )
    return text_result("sampling is declared")


async def test_trigger_tool_change(ctx: Context) -> CallToolResult:
    """Changes the tool list (list_changed notification)."""
    await ctx.notify_tools_changed()
    return text_result("tool list changed")


async def test_trigger_prompt_change(ctx: Context) -> CallToolResult:
    """Changes the prompt list (list_changed notification)."""
    await ctx.notify_prompts_changed()
    return text_result("prompt list changed")


async def test_logging_tool(ctx: Context) -> CallToolResult:
    """Logs only when the request opts in with _meta logLevel (2026-07-28)."""
    await ctx.info("logging tool ran")
    return text_result("Logging tool complete")


async def test_streaming_elicitation(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Reports progress, then asks for a name in its input_required result."""
    name = answer_content(input_answer(ctx, "user_name")).get("name")
    if isinstance(name, str):
        return text_result(f"Hello, {name}!")
    await ctx.report_progress(1, 2, "about to ask")
    return ask_for({"user_name": NAME_FORM})


async def test_sampling(prompt: str, ctx: Context) -> CallToolResult:
    """Asks the client's model to answer a prompt."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        answer = await ctx.session.create_message(
            messages=[SamplingMessage(role="user", content=TextContent(type="text", text=prompt))],
            max_tokens=100,
            related_request_id=ctx.request_id,
        )
    text = getattr(answer.content, "text", None) or "no response"
    return text_result(f"LLM response: {text}")


async def _elicit(ctx: Context, message: str, schema: dict[str, Any]) -> CallToolResult:
    answer = await ctx.session.elicit_form(message, schema, related_request_id=ctx.request_id)
    content = json.dumps(answer.content or {}, separators=(",", ":"))
    return text_result(f"Elicitation completed: action={answer.action}, content={content}")


async def test_elicitation(message: str, ctx: Context) -> CallToolResult:
    """Asks the user for a username and an email."""
    properties = {
        "username": {"type": "string", "description": "User's response"},
        "email": {"type": "string", "description": "User's email address"},
    }
    return await _elicit(
        ctx, message, {"type": "object", "properties": properties, "required": ["username", "email"]}
    )


async def test_elicitation_sep1034_defaults(ctx: Context) -> CallToolResult:
    """Elicits a form whose fields all have defaults (SEP-1034)."""
    properties = {
        "name": {"type": "string", "default": "John Doe"},
        "age": {"type": "integer", "default": 30},
        "score": {"type": "number", "default": 95.5},
        "status": {"type": "string", "enum": ["active", "inactive", "pending"], "default": "active"},
        "verified": {"type": "boolean", "default": True},
    }
    schema = {"type": "object", "properties": properties}
    return await _elicit(ctx, "Please review and update the form fields with defaults", schema)


async def test_elicitation_sep1330_enums(ctx: Context) -> CallToolResult:
    """Elicits a form with every enum variant (SEP-1330)."""

    def titled(prefix: str, word: str) -> list[dict[str, str]]:
        return [
            {"const": f"{prefix}{n}", "title": f"{t} {word}"}
            for n, t in ((1, "First"), (2, "Second"), (3, "Third"))
        ]

    options = ["option1", "option2", "option3"]
    properties = {
        "untitledSingle": {"type": "string", "enum": options},
        "titledSingle": {"type": "string", "oneOf": titled("value", "Option")},
        "legacyEnum": {
            "type": "string",
            "enum": ["opt1", "opt2", "opt3"],
            "enumNames": ["Option One", "Option Two", "Option Three"],
        },
        "untitledMulti": {"type": "array", "items": {"type": "string", "enum": options}},
        "titledMulti": {"type": "array", "items": {"anyOf": titled("value", "Choice")}},
    }
    schema = {"type": "object", "properties": properties}
    return await _elicit(ctx, "Please select options from the enum fields", schema)


TOOLS = (
    test_simple_text,
    test_image_content,
    test_audio_content,
    test_embedded_resource,
    test_multiple_content_types,
    test_error_handling,
    test_tool_with_progress,
    test_tool_with_logging,
    test_missing_capability,
    test_trigger_tool_change,
    test_trigger_prompt_change,
    test_logging_tool,
    test_streaming_elicitation,
    test_sampling,
    test_elicitation,
    test_elicitation_sep1034_defaults,
    test_elicitation_sep1330_enums,
)
"""Every tool here, in the order ``tools/list`` shows them (each one's docstring is its description)."""

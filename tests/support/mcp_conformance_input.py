"""The 2026-07-28 multi-round-trip tools of the conformance upstream (``input_required`` results).

Each asks in round 1 with an ``input_required`` result and finishes when the client retries with
``inputResponses`` (and, where it sent one, the echoed ``requestState``, which the SDK seals and
verifies, so a tampered echo is refused before the tool runs). The conformance upstream serves
them beside the tools of :mod:`tests.support.mcp_conformance_tools`.
"""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import Context
from mcp_types import CallToolResult, InputRequiredResult

from tests.support.mcp_conformance_tools import (
    NAME_FORM,
    ROOTS_REQUEST,
    answer_content,
    ask_for,
    echoed_state,
    form_request,
    input_answer,
    sampling_request,
    text_result,
)


def test_input_required_result_elicitation(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Round 1 asks for a name; round 2 greets."""
    name = answer_content(input_answer(ctx, "user_name")).get("name")
    return text_result(f"Hello, {name}!") if isinstance(name, str) else ask_for({"user_name": NAME_FORM})


def test_input_required_result_sampling(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Round 1 asks the client's model; round 2 quotes it."""
    answer = input_answer(ctx, "capital_question")
    if answer is None:
        return ask_for({"capital_question": sampling_request("What is the capital of France?", 100)})
    return text_result(f"Sampling result: {answer_content(answer).get('text', 'no text')}")


def test_input_required_result_list_roots(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Round 1 asks for the client's roots; round 2 lists them."""
    answer = input_answer(ctx, "client_roots")
    if answer is None or not isinstance(answer.get("roots"), list):
        return ask_for({"client_roots": ROOTS_REQUEST})
    uris = [str(root.get("uri")) for root in answer["roots"] if isinstance(root, dict)]
    return text_result(f"Found {len(uris)} root(s): {', '.join(uris)}")


def test_input_required_result_request_state(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Round-trips requestState; round 2 says state-ok."""
    confirm = form_request("Please confirm", {"ok": {"type": "boolean"}}, ["ok"])
    if input_answer(ctx, "confirm") is None or echoed_state(ctx).get("round") != 1:
        return ask_for({"confirm": confirm}, {"round": 1})
    return text_result("Confirmed: state-ok")


def test_input_required_result_multiple_inputs(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Asks for elicitation, sampling and roots at once."""
    asked = {
        "user_name": NAME_FORM,
        "greeting": sampling_request("Generate a greeting", 50),
        "client_roots": ROOTS_REQUEST,
    }
    if echoed_state(ctx).get("asked") != "all" or any(input_answer(ctx, key) is None for key in asked):
        return ask_for(asked, {"asked": "all"})
    return text_result(f"All inputs received: {', '.join(sorted(asked))}")


def test_input_required_result_multi_round(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Two rounds of questions with an evolving requestState."""
    step = echoed_state(ctx).get("step")
    name = answer_content(input_answer(ctx, "step1")).get("name")
    color = answer_content(input_answer(ctx, "step2")).get("color")
    if step == 2 and isinstance(color, str):
        return text_result(f"Done: {echoed_state(ctx).get('name')} likes {color}")
    if step == 1 and isinstance(name, str):
        form = form_request("Step 2: What is your favorite color?", {"color": {"type": "string"}}, ["color"])
        return ask_for({"step2": form}, {"step": 2, "name": name})
    form = form_request("Step 1: What is your name?", {"name": {"type": "string"}}, ["name"])
    return ask_for({"step1": form}, {"step": 1})


def test_input_required_result_tampered_state(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Its requestState is sealed: a tampered echo is refused."""
    if echoed_state(ctx).get("issued") is True and input_answer(ctx, "user_name") is not None:
        return text_result("state verified")
    return ask_for({"user_name": NAME_FORM}, {"issued": True})


def test_input_required_result_capabilities(ctx: Context) -> CallToolResult | InputRequiredResult:
    """Only asks for what the client declared it can answer."""
    capabilities = ctx.client_capabilities
    wanted: dict[str, Any] = {}
    if capabilities is not None and capabilities.sampling is not None:
        wanted["sample"] = sampling_request("Say hello", 20)
    if capabilities is not None and capabilities.elicitation is not None:
        wanted["user_name"] = NAME_FORM
    if capabilities is not None and capabilities.roots is not None:
        wanted["client_roots"] = ROOTS_REQUEST
    if not wanted or all(input_answer(ctx, key) is not None for key in wanted):
        return text_result(f"answered: {', '.join(sorted(wanted)) or 'nothing to ask'}")
    return ask_for(wanted)


def test_input_required_result_prompt(ctx: Context) -> list[dict[str, Any]] | InputRequiredResult:
    """Asks for context before it renders (input_required on prompts/get)."""
    context = answer_content(input_answer(ctx, "user_context")).get("context")
    if not isinstance(context, str):
        form = form_request(
            "What context should the prompt use?", {"context": {"type": "string"}}, ["context"]
        )
        return ask_for({"user_context": form})
    return [{"role": "user", "content": {"type": "text", "text": f"Prompt with context: {context}"}}]


TOOLS = (
    test_input_required_result_elicitation,
    test_input_required_result_sampling,
    test_input_required_result_list_roots,
    test_input_required_result_request_state,
    test_input_required_result_multiple_inputs,
    test_input_required_result_multi_round,
    test_input_required_result_tampered_state,
    test_input_required_result_capabilities,
)
"""The input_required tools (each one's docstring is its description)."""
PROMPTS = (test_input_required_result_prompt,)
"""The input_required prompt."""

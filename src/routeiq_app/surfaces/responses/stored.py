"""The stored responses' routes: retrieve, delete, cancel and list input items (Litestar handlers).

Each needs the caller's key (``llm.call``) and finds only the responses that key created (an admin
finds all); anything else is a 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from litestar import MediaType, delete, get, post
from litestar import Response as LitestarResponse
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery

from routeiq_app.surfaces.responses.answers import DeletedResponse, InputItemList, Response
from routeiq_app.surfaces.responses.conversation import ITEMS, RESPONSE, Conversations
from routeiq_core.access import Principal, require
from routeiq_core.errors import InvalidRequestError

ITEM_PATH = "/v1/responses/{response_id:str}"
MAX_PAGE = 100


async def _load(principal: Principal, conversations: Conversations, response_id: str) -> Any:
    require(principal, "llm.call")
    return await conversations.load(principal, response_id)


@get(ITEM_PATH, summary="Retrieve a stored response", tags=["responses"])
async def get_response(
    response_id: FromPath[str], principal: NamedDependency[Principal], conversations: NamedDependency[Any]
) -> Response:
    """The response as it was answered (404 when missing, expired, or another key's).

    A natively served one is the upstream's JSON as it came (fields the gateway does not model kept).
    """
    record = await _load(principal, conversations, response_id)
    if record.native_deployment is not None:
        raw = LitestarResponse(content=record.response, media_type=MediaType.JSON)
        return cast(Response, raw)  # Litestar sends a Response instance as is; the schema stays Response's
    response: Response = RESPONSE.decode(record.response)
    return response


@delete(ITEM_PATH, summary="Delete a stored response", tags=["responses"], status_code=200)
async def delete_response(
    response_id: FromPath[str], principal: NamedDependency[Principal], conversations: NamedDependency[Any]
) -> DeletedResponse:
    """Delete it: it can no longer be read or continued."""
    record = await _load(principal, conversations, response_id)
    await conversations.store.delete(record.id)
    return DeletedResponse(id=record.id)


class NotCancellable(InvalidRequestError):
    """Only background responses can be cancelled; every response here completed before it was answered."""

    default_code = "response_not_cancellable"


@post(ITEM_PATH + "/cancel", summary="Cancel a background response", tags=["responses"], status_code=200)
async def cancel_response(
    response_id: FromPath[str], principal: NamedDependency[Principal], conversations: NamedDependency[Any]
) -> Response:
    """Always a 400 for a stored response: only ``background: true`` responses can be cancelled."""
    await _load(principal, conversations, response_id)
    raise NotCancellable("Only responses created with background=true can be cancelled.")


@get(ITEM_PATH + "/input_items", summary="List a response's input items", tags=["responses"])
async def list_input_items(
    response_id: FromPath[str],
    principal: NamedDependency[Principal],
    conversations: NamedDependency[Any],
    limit: FromQuery[int] = 20,
    order: FromQuery[Literal["asc", "desc"]] = "desc",
    after: FromQuery[str | None] = None,
) -> InputItemList:
    """The conversation's items up to this response (the inherited ones included), a page at a time."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidRequestError(f"limit must be between 1 and {MAX_PAGE}, got {limit}.", param="limit")
    record = await _load(principal, conversations, response_id)
    items = ITEMS.decode(record.items)
    if order == "desc":
        items.reverse()
    if after is not None:
        ids = [item.id for item in items]
        if after not in ids:
            raise InvalidRequestError(f"No input item {after[:128]!r} in this response.", param="after")
        items = items[ids.index(after) + 1 :]
    page = items[:limit]
    return InputItemList(
        data=page,
        first_id=page[0].id if page else None,
        last_id=page[-1].id if page else None,
        has_more=len(items) > limit,
    )


stored_response_routes = (get_response, delete_response, cancel_response, list_input_items)

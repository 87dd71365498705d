"""What a Responses call reads and writes in the response store: the previous turn, the new record.

Ownership is the core's rule (:func:`routeiq_core.responses.may_access`): a key sees, continues and
deletes only the responses it created; another key's (or an expired) response is a 404, as if it
did not exist.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from types import MappingProxyType

import msgspec

from routeiq_app.surfaces.responses.answers import Response
from routeiq_app.surfaces.responses.native import native_output
from routeiq_app.surfaces.responses.translate import as_input, new_id
from routeiq_app.surfaces.responses.wire import (
    MAX_ITEMS,
    FunctionCallItem,
    FunctionCallOutputItem,
    InputItem,
    InputText,
    MessageItem,
    OutputText,
)
from routeiq_core.access import Principal
from routeiq_core.errors import InvalidRequestError, NotFoundError
from routeiq_core.responses import ResponseStore, StoredResponse, may_access, owner_of

ITEMS = msgspec.json.Decoder(list[InputItem])
RESPONSE = msgspec.json.Decoder(Response)
_ENCODER = msgspec.json.Encoder()
_PREFIX: Mapping[type, str] = MappingProxyType(
    {MessageItem: "msg", FunctionCallItem: "fc", FunctionCallOutputItem: "fco"}
)


class Conversations:
    """Loads and stores the turns of Responses conversations, owner-checked.

    Args:
        store: Where responses live.
        ttl_s: How long a stored response lives.
        max_stored_bytes: Largest conversation (encoded input items) stored or continued.
    """

    def __init__(self, store: ResponseStore, *, ttl_s: float, max_stored_bytes: int) -> None:
        self.store = store
        self._ttl_s = ttl_s
        self._max_bytes = max_stored_bytes

    async def load(self, principal: Principal, response_id: str, param: str | None = None) -> StoredResponse:
        """The stored response ``principal`` may see.

        Raises:
            NotFoundError: none with this id, expired, or another key's.
        """
        record = await self.store.get(response_id, time.time())
        if record is None or not may_access(principal, record):
            raise NotFoundError(f"Response with id {response_id[:128]!r} not found.", param=param)
        return record

    def history(self, record: StoredResponse | None) -> list[InputItem]:
        """The conversation before the new turn: the previous turn's items, then its output.

        A natively served turn's output is the upstream's: its messages and function calls count.
        """
        if record is None:
            return []
        output = (
            RESPONSE.decode(record.response).output
            if record.native_deployment is None
            else native_output(record.response)
        )
        return [*ITEMS.decode(record.items), *as_input(output)]

    def encode_items(self, items: Sequence[InputItem]) -> bytes:
        """The conversation's items encoded for storing.

        Raises:
            InvalidRequestError: more than the store keeps (a new conversation is needed).
        """
        encoded = _ENCODER.encode(list(items))
        if len(encoded) > self._max_bytes or len(items) > MAX_ITEMS:
            raise InvalidRequestError(
                f"The conversation is larger than responses.max_stored_bytes ({self._max_bytes} bytes) or "
                f"{MAX_ITEMS} items; start a new one without previous_response_id, or send store: false.",
                param="previous_response_id",
                code="conversation_too_large",
            )
        return encoded

    async def save(
        self, principal: Principal, response: Response, items: bytes, conversation_id: str
    ) -> None:
        """Store ``response`` (the turn's conversation ``items`` encoded) for ``ttl_s``."""
        now = time.time()
        record = StoredResponse(
            id=response.id,
            owner=owner_of(principal),
            created_at=now,
            expires_at=now + self._ttl_s,
            conversation_id=conversation_id,
            items=items,
            response=_ENCODER.encode(response),
        )
        await self.store.put(record)

    async def save_native(
        self,
        principal: Principal,
        response_id: str,
        response: bytes,
        items: bytes,
        conversation_id: str,
        deployment_id: str,
    ) -> None:
        """Store a response ``deployment_id`` served natively, under the upstream's ``response_id``."""
        now = time.time()
        record = StoredResponse(
            id=response_id,
            owner=owner_of(principal),
            created_at=now,
            expires_at=now + self._ttl_s,
            conversation_id=conversation_id,
            items=items,
            response=response,
            native_deployment=deployment_id,
        )
        await self.store.put(record)


def stored_items(items: Sequence[InputItem]) -> list[InputItem]:
    """``items`` as the input item list answers them: each with an id, message text as content parts."""
    return [_stored(item) for item in items]


def _stored(item: InputItem) -> InputItem:
    if isinstance(item, MessageItem) and isinstance(item.content, str):
        part = OutputText(text=item.content) if item.role == "assistant" else InputText(text=item.content)
        item = msgspec.structs.replace(item, content=[part])
    if not item.id:
        item = msgspec.structs.replace(item, id=new_id(_PREFIX[type(item)]))
    return item

"""Strings for the mock's generated JSON: message text, ``format`` values, hints from the user's message."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

MAX_HINT_CHARS = 200
"""Longest string taken from the user's message."""

_FORMATS: Mapping[str, str] = MappingProxyType(
    {
        "date": "2024-01-01",
        "date-time": "2024-01-01T12:00:00Z",
        "time": "12:00:00Z",
        "duration": "PT1H",
        "email": "user@example.com",
        "idn-email": "user@example.com",
        "hostname": "example.com",
        "idn-hostname": "example.com",
        "ipv4": "192.0.2.1",
        "ipv6": "2001:db8::1",
        "uri": "https://example.com/",
        "url": "https://example.com/",
        "iri": "https://example.com/",
        "uri-reference": "/example",
        "iri-reference": "/example",
        "uri-template": "https://example.com/{id}",
        "uuid": "00000000-0000-4000-8000-000000000000",
        "json-pointer": "/example",
        "relative-json-pointer": "0",
        "regex": "^example$",
    }
)

_QUERY_NAMES = frozenset(
    {"query", "q", "search", "search_query", "search_term", "question", "prompt", "text", "input"}
    | {"message", "content", "topic", "keywords", "keyword", "term", "request", "task", "instruction"}
)
_PLACE_NAMES = frozenset(
    {"city", "location", "place", "country", "region", "destination", "origin", "town", "state", "address"}
)
_NAME_NAMES = frozenset({"name", "person", "user", "username", "company", "product", "title", "author"})
_NAMED: Mapping[str, str] = MappingProxyType(
    {
        "timezone": "UTC",
        "tz": "UTC",
        "language": "en",
        "lang": "en",
        "locale": "en-US",
        "currency": "USD",
        "country_code": "US",
        "url": "https://example.com/",
        "email": "user@example.com",
        "date": "2024-01-01",
        "time": "12:00",
        "id": "id-1",
    }
)
_NOT_NAMES = frozenset(
    {"I", "What", "Who", "Where", "When", "Why", "How", "Which", "Please", "Can", "Could", "Would", "Tell"}
)


def user_text(messages: Any) -> str:
    """The text of the last user message (text parts joined), or ``""``."""
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return text_of(message.get("content"))
    return ""


def text_of(content: Any) -> str:
    """The text of a message's ``content``: a string, or the ``text`` of its parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p.get("text") for p in content if isinstance(p, dict)]
        return " ".join(p for p in parts if isinstance(p, str))
    return ""


def formatted(fmt: str, variant: int) -> str | None:
    """A value of a JSON-schema ``format`` (``variant`` makes distinct values), None if unknown."""
    if fmt == "date":
        return (datetime.date(2024, 1, 1) + datetime.timedelta(days=variant)).isoformat()
    if fmt == "date-time":
        moment = datetime.datetime(2024, 1, 1, 12, tzinfo=datetime.UTC) + datetime.timedelta(days=variant)
        return moment.isoformat().replace("+00:00", "Z")
    if fmt in ("email", "idn-email"):
        return f"user{variant or ''}@example.com"
    if fmt in ("uri", "url", "iri"):
        return f"https://example.com/{variant or ''}"
    if fmt == "uuid":
        return f"00000000-0000-4000-8000-{variant:012d}"
    if fmt == "ipv4":
        return f"192.0.2.{(1 + variant) % 256}"
    return _FORMATS.get(fmt)


def hint(name: str, text: str) -> str | None:
    """A string for a property called ``name``, taken from the user's message where that makes sense.

    A query-like property (``query``, ``question``, ``text``, ...) gets the message itself; a place or
    a name (``city``, ``location``, ``name``, ...) the first capitalised word that does not start a
    sentence; a few common names (``timezone``, ``language``, ``currency``, ``url``, ...) a typical
    value. None when the name suggests nothing.
    """
    key = name.lower()
    clean = " ".join(text.split())[:MAX_HINT_CHARS]
    if key in _QUERY_NAMES or key.endswith("_query"):
        return clean or None
    if key in _NAMED:
        return _NAMED[key]
    if key in _PLACE_NAMES or key in _NAME_NAMES or key.endswith(("_city", "_name", "_location")):
        words: list[str] = re.findall(r"[A-Za-z][\w'-]*", clean)
        for i, word in enumerate(words[1:], start=1):
            if word[0].isupper() and word not in _NOT_NAMES and not words[i - 1].endswith((".", "?", "!")):
                return word[:-2] if word.endswith("'s") else word
        return "London" if key in _PLACE_NAMES or key.endswith(("_city", "_location")) else None
    return None

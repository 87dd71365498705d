"""AWS Signature Version 4 for request headers, with the standard library only."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Mapping
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, msg: str) -> bytes:
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = [
        (quote(k, safe="-_.~"), quote(v, safe="-_.~")) for k, v in parse_qsl(query, keep_blank_values=True)
    ]
    return "&".join(f"{k}={v}" for k, v in sorted(pairs))


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """The derived key: ``HMAC(HMAC(HMAC(HMAC("AWS4" + secret, day), region), service), "aws4_request")``."""
    key = _hmac(("AWS4" + secret_key).encode(), day)
    return _hmac(_hmac(_hmac(key, region), service), "aws4_request")


def sigv4_headers(
    method: str,
    url: str,
    body: bytes,
    region: str,
    service: str,
    access_key: str,
    secret_key: str,
    session_token: str | None,
    now: dt.datetime,
    *,
    headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers that sign one request with SigV4 (``Authorization``, ``X-Amz-Date``, ...).

    ``headers`` are extra headers to sign and send (for example ``Content-Type``); they are returned
    too, so the result is the complete set to send. The path is used as written in ``url`` (already
    percent-encoded) and encoded once more, as AWS expects for every service but S3.

    Args:
        method: HTTP method.
        url: Full URL, query included.
        body: The exact request body.
        region: AWS region (``us-east-1``).
        service: Signing name of the service (``bedrock`` for Bedrock runtime).
        access_key: Access key id.
        secret_key: Secret access key.
        session_token: Session token of temporary credentials, if any (sent and signed).
        now: Signing time (naive values are taken as UTC).
        headers: Extra headers to sign and send.

    Returns:
        The headers to send, including ``Host``.
    """
    parts = urlsplit(url)
    when = (now if now.tzinfo else now.replace(tzinfo=dt.UTC)).astimezone(dt.UTC)
    amz_date, day = when.strftime("%Y%m%dT%H%M%SZ"), when.strftime("%Y%m%d")
    out: dict[str, str] = {"Host": parts.netloc, **(headers or {}), "X-Amz-Date": amz_date}
    if session_token:
        out["X-Amz-Security-Token"] = session_token
    canonical = {k.lower(): " ".join(v.split()) for k, v in out.items()}
    signed = ";".join(sorted(canonical))
    request = "\n".join(
        (
            method.upper(),
            quote(parts.path or "/", safe="/~"),
            _canonical_query(parts.query),
            "".join(f"{k}:{canonical[k]}\n" for k in sorted(canonical)),
            signed,
            hashlib.sha256(body).hexdigest(),
        )
    )
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = f"{ALGORITHM}\n{amz_date}\n{scope}\n{hashlib.sha256(request.encode()).hexdigest()}"
    signature = hmac.new(signing_key(secret_key, day, region, service), to_sign.encode(), hashlib.sha256)
    credential = f"Credential={access_key}/{scope}"
    out["Authorization"] = (
        f"{ALGORITHM} {credential}, SignedHeaders={signed}, Signature={signature.hexdigest()}"
    )
    return out

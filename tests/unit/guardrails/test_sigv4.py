"""SigV4 against AWS's published test-suite vectors (AKIDEXAMPLE, 2015-08-30T12:36:00Z, us-east-1)."""

from __future__ import annotations

import datetime as dt

import pytest

from routeiq_adapters.guardrails.sigv4 import sigv4_headers

KEY = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
WHEN = dt.datetime(2015, 8, 30, 12, 36, 0, tzinfo=dt.UTC)
TOKEN = (
    "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTfl"
    "fKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HF"
    "vlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr"
    "4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
)


@pytest.mark.parametrize(
    ("name", "method", "url", "body", "token", "extra", "signed", "signature"),
    [
        (
            "get-vanilla",
            "GET",
            "https://example.amazonaws.com/",
            b"",
            None,
            None,
            "host;x-amz-date",
            "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        ),
        (
            "post-vanilla",
            "POST",
            "https://example.amazonaws.com/",
            b"",
            None,
            None,
            "host;x-amz-date",
            "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
        ),
        (
            "get-vanilla-query-order-key-case",
            "GET",
            "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            b"",
            None,
            None,
            "host;x-amz-date",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        (
            "post-x-www-form-urlencoded",
            "POST",
            "https://example.amazonaws.com/",
            b"Param1=value1",
            None,
            {"Content-Type": "application/x-www-form-urlencoded"},
            "content-type;host;x-amz-date",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        ),
        (
            "post-sts-header-after",
            "POST",
            "https://example.amazonaws.com/",
            b"",
            TOKEN,
            None,
            "host;x-amz-date;x-amz-security-token",
            "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
        ),
    ],
)
def test_published_vectors(
    name: str,
    method: str,
    url: str,
    body: bytes,
    token: str | None,
    extra: dict[str, str] | None,
    signed: str,
    signature: str,
) -> None:
    headers = sigv4_headers(
        method, url, body, "us-east-1", "service", KEY, SECRET, token, WHEN, headers=extra
    )
    assert headers["Authorization"] == (
        f"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        f"SignedHeaders={signed}, Signature={signature}"
    ), name
    assert headers["X-Amz-Date"] == "20150830T123600Z"
    assert headers["Host"] == "example.amazonaws.com"
    assert ("X-Amz-Security-Token" in headers) is (token is not None)


def test_naive_times_are_utc_and_other_zones_are_converted() -> None:
    naive = sigv4_headers(
        "GET",
        "https://example.amazonaws.com/",
        b"",
        "us-east-1",
        "service",
        KEY,
        SECRET,
        None,
        WHEN.replace(tzinfo=None),
    )
    shifted = WHEN.astimezone(dt.timezone(dt.timedelta(hours=2)))
    aware = sigv4_headers(
        "GET", "https://example.amazonaws.com/", b"", "us-east-1", "service", KEY, SECRET, None, shifted
    )
    assert naive["Authorization"] == aware["Authorization"]
    assert naive["Authorization"].endswith("5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")

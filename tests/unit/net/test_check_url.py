"""check_url: the up-front check of a configured outbound URL (no lookup, no socket)."""

from __future__ import annotations

import pytest
from yarl import URL

from routeiq_adapters.net import check_url
from routeiq_core.errors import UnsafeUpstreamError
from routeiq_core.net import AddressPolicy


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "no host"),
        ("gopher://example.com/", "scheme 'gopher'"),
        ("ftp://example.com/", "scheme 'ftp'"),
        ("http://user:secret@example.com/", "credentials"),
        ("http://user@example.com/", "credentials"),
        ("http:///path-only", "no host"),
        ("http://2130706433/", "loopback"),
        ("http://0x7f.1/", "loopback"),
        ("http://0177.0.0.1/", "loopback"),
        ("http://127.1/", "loopback"),
        ("https://[::1]:8443/mcp", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "IPv4-mapped"),
        ("http://[fe80::1%25eth0]/", "link-local"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11/", "loopback"),
        ("http://a b/", "not a valid host name"),
    ],
)
def test_unsafe_urls_are_refused(url: str, reason: str) -> None:
    with pytest.raises(UnsafeUpstreamError) as refused:
        check_url(url, AddressPolicy())
    assert reason in refused.value.reason
    assert "secret" not in refused.value.message


@pytest.mark.parametrize(
    "url", ["https://mcp.example.com/mcp", "http://93.184.216.34:8080/x", "https://[2606:4700:4700::1111]/"]
)
def test_safe_urls_pass_and_come_back_parsed(url: str) -> None:
    assert check_url(url, AddressPolicy()) == URL(url)


def test_the_allow_list_admits_a_loopback_fixture() -> None:
    assert check_url("http://127.0.0.1:9000/mcp", AddressPolicy.from_cidrs(["127.0.0.0/8"])).port == 9000

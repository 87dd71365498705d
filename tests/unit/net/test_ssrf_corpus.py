"""The SSRF policy against a corpus of hostile host spellings: every one refused, public hosts allowed."""

from __future__ import annotations

import socket
from ipaddress import IPv4Address, ip_address

import pytest

from routeiq_core.errors import UnsafeUpstreamError
from routeiq_core.net import AddressPolicy, parse_host_literal, refusal_reason

# (host as written in a URL, a word the refusal must give as the reason)
HOSTILE = [
    # loopback, in every spelling inet_aton accepts
    ("127.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("127.0.1", "loopback"),
    ("2130706433", "loopback"),
    ("0x7f000001", "loopback"),
    ("0X7F000001", "loopback"),
    ("0x7f.1", "loopback"),
    ("0x7f.0.0.1", "loopback"),
    ("0x7f.0x0.0x0.0x1", "loopback"),
    ("0177.0.0.1", "loopback"),
    ("0177.1", "loopback"),
    ("017700000001", "loopback"),
    ("00000177.0.0.1", "loopback"),
    ("0177.0x0.0.01", "loopback"),
    ("127.000.000.001", "loopback"),
    ("127.16777215", "loopback"),
    ("127.0.0.1.", "loopback"),
    ("127.255.255.254", "loopback"),
    ("\uff11\uff12\uff17\uff0e\uff10\uff0e\uff10\uff0e\uff11", "loopback"),  # full-width digits and dots
    ("\u2460\u2461\u2466.0.0.1", "loopback"),  # circled digits fold to 127
    # unspecified and this-network
    ("0.0.0.0", "unspecified"),
    ("0", "unspecified"),
    ("0x0", "unspecified"),
    ("00", "unspecified"),
    ("0.0", "unspecified"),
    ("0.1.2.3", "this-network"),
    ("::", "unspecified"),
    ("[::]", "unspecified"),
    ("0:0:0:0:0:0:0:0", "unspecified"),
    # IPv6 loopback
    ("::1", "loopback"),
    ("[::1]", "loopback"),
    ("[0:0:0:0:0:0:0:1]", "loopback"),
    ("[0000::0001]", "loopback"),
    # IPv4-mapped and IPv4-compatible IPv6
    ("[::ffff:127.0.0.1]", "IPv4-mapped"),
    ("[::ffff:7f00:1]", "IPv4-mapped"),
    ("[0:0:0:0:0:ffff:7f00:1]", "IPv4-mapped"),
    ("::ffff:169.254.169.254", "IPv4-mapped"),
    ("[::ffff:10.0.0.1]", "IPv4-mapped"),
    ("[::ffff:8.8.8.8]", "IPv4-mapped"),
    ("[::127.0.0.1]", "IPv4-compatible"),
    ("[::7f00:1]", "IPv4-compatible"),
    ("[::8.8.8.8]", "IPv4-compatible"),
    # 6to4, NAT64 and Teredo embedding a forbidden IPv4 address
    ("2002:7f00:1::", "6to4"),
    ("[2002:a9fe:a9fe::1]", "6to4"),
    ("[2002:0a00:0001::]", "6to4"),
    ("64:ff9b::7f00:1", "NAT64"),
    ("[64:ff9b::127.0.0.1]", "NAT64"),
    ("64:ff9b::a9fe:a9fe", "NAT64"),
    ("64:ff9b:1::1", "local-use NAT64"),
    ("2001:0:4136:e378:8000:63bf:80ff:fffe", "Teredo"),
    # link-local, cloud metadata included
    ("169.254.169.254", "cloud metadata"),
    ("0xa9fea9fe", "cloud metadata"),
    ("2852039166", "cloud metadata"),
    ("0251.0376.0251.0376", "cloud metadata"),
    ("169.254.43518", "cloud metadata"),
    ("169.254.0.1", "link-local"),
    ("fe80::1", "link-local"),
    ("[fe80::1%25eth0]", "link-local"),
    ("fe80::1%eth0", "link-local"),
    ("[febf::a:b:c:d]", "link-local"),
    ("fec0::1", "site-local"),
    # unique-local (the AWS IPv6 metadata address is one)
    ("[fd00:ec2::254]", "unique-local"),
    ("fc00::1", "unique-local"),
    ("[fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]", "unique-local"),
    # CGNAT
    ("100.64.0.1", "CGNAT"),
    ("100.127.255.254", "CGNAT"),
    ("0x64400001", "CGNAT"),
    # private
    ("10.0.0.1", "private"),
    ("10.255.255.255", "private"),
    ("012.0.0.1", "private"),
    ("0xa.0.0.1", "private"),
    ("167772161", "private"),
    ("10.1", "private"),
    ("172.16.0.1", "private"),
    ("172.31.255.254", "private"),
    ("0xac.0x10.0.1", "private"),
    ("192.168.0.1", "private"),
    ("192.168.1", "private"),
    ("0xc0a80001", "private"),
    ("3232235521", "private"),
    ("0300.0250.0.1", "private"),
    # multicast, broadcast, reserved, documentation, benchmarking
    ("224.0.0.1", "multicast"),
    ("239.255.255.250", "multicast"),
    ("0xe0000001", "multicast"),
    ("ff02::1", "multicast"),
    ("[ff05::2]", "multicast"),
    ("255.255.255.255", "broadcast"),
    ("4294967295", "broadcast"),
    ("0xffffffff", "broadcast"),
    ("240.0.0.1", "reserved"),
    ("250.1.2.3", "reserved"),
    ("192.0.0.8", "reserved"),
    ("192.88.99.1", "reserved"),
    ("100::1", "discard-only"),
    ("192.0.2.1", "documentation"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("2001:db8::1", "documentation"),
    ("198.18.0.1", "benchmarking"),
    # not an address and not a host name either
    ("127.0.0.1 x", "not a valid host name"),
    ("a b", "not a valid host name"),
    ("host\x00.example", "not a valid host name"),
    ("-leading-hyphen.example", "not a valid host name"),
    ("[not-an-ipv6]", "not a valid host name"),
    ("", "not a valid host name"),
]
PUBLIC = [
    ("8.8.8.8", "8.8.8.8"),
    ("1.1.1.1", "1.1.1.1"),
    ("134744072", "8.8.8.8"),
    ("0x8.0x8.0x8.0x8", "8.8.8.8"),
    ("2606:4700:4700::1111", "2606:4700:4700::1111"),
    ("[2a00:1450:4001:80b::200e]", "2a00:1450:4001:80b::200e"),
    ("2002:808:808::1", "2002:808:808::1"),  # 6to4 of a public address
    ("64:ff9b::808:808", "64:ff9b::808:808"),  # NAT64 of a public address
]


def test_the_corpus_is_big_enough() -> None:
    assert len(HOSTILE) >= 60
    assert len({host for host, _ in HOSTILE}) == len(HOSTILE)


@pytest.mark.parametrize(("host", "reason"), HOSTILE)
def test_every_hostile_spelling_is_refused(host: str, reason: str) -> None:
    with pytest.raises(UnsafeUpstreamError) as refused:
        AddressPolicy().check_host(host)
    assert reason in refused.value.reason
    assert repr(host) in refused.value.message
    assert refused.value.status_code == 502
    assert refused.value.code == "unsafe_upstream"
    assert refused.value.retryable is False


@pytest.mark.parametrize(("host", "address"), PUBLIC)
def test_public_addresses_are_allowed(host: str, address: str) -> None:
    assert AddressPolicy().check_host(host) == ip_address(address)


@pytest.mark.parametrize("host", ["example.com", "api.openai.com", "mcp_server.internal", "localhost", "x."])
def test_names_are_left_for_resolution(host: str) -> None:
    assert AddressPolicy().check_host(host) is None


@pytest.mark.parametrize("host", [h for h, _ in HOSTILE if h and set(h) <= set("0123456789abcdefABCDEFxX.")])
def test_ipv4_spellings_read_as_inet_aton_reads_them(host: str) -> None:
    try:
        expected: IPv4Address | None = IPv4Address(socket.inet_aton(host))
    except OSError:
        expected = None
    if host.endswith("."):  # a final dot is the DNS root, not part of the literal
        expected = IPv4Address(socket.inet_aton(host[:-1]))
    assert parse_host_literal(host) == expected


@pytest.mark.parametrize("text", ["08.1", "0x", "1..2", "1.2.3.256", "4294967296", "1.2.3.4.5", ".1", "0xg"])
def test_what_inet_aton_refuses_is_not_a_literal(text: str) -> None:
    with pytest.raises(OSError, match="illegal IP address"):
        socket.inet_aton(text)
    assert parse_host_literal(text) is None


def test_a_huge_numeric_host_is_not_parsed() -> None:
    assert parse_host_literal("1" * 5000) is None


def test_the_allow_list_lets_loopback_through_but_nothing_else() -> None:
    policy = AddressPolicy.from_cidrs(["127.0.0.0/8"])
    for host in ("127.0.0.1", "0x7f.1", "2130706433", "0177.0.0.2", "[::ffff:127.0.0.1]"):
        assert policy.check_host(host) is not None, host
    for host in ("10.0.0.1", "::1", "169.254.169.254", "192.168.0.1", "[::ffff:10.0.0.1]", "2002:7f00:1::"):
        with pytest.raises(UnsafeUpstreamError):
            policy.check_host(host)


def test_an_ipv6_allow_list_entry_matches_zoned_addresses() -> None:
    policy = AddressPolicy.from_cidrs(["fe80::/10"])
    assert policy.refusal(ip_address("fe80::1%eth0")) is None
    assert policy.refusal(ip_address("fc00::1")) == "unique-local (ULA)"


def test_from_cidrs_names_every_bad_entry() -> None:
    with pytest.raises(ValueError, match="allow-list") as bad:
        AddressPolicy.from_cidrs(["10.0.0.0/8", "10.0.0.1/8", "not-a-network", "300.0.0.0/8"])
    text = str(bad.value)
    assert "'10.0.0.1/8'" in text
    assert "host bits" in text
    assert "'not-a-network'" in text
    assert "'300.0.0.0/8'" in text
    assert "'10.0.0.0/8'" not in text


def test_from_cidrs_accepts_bare_addresses_and_both_families() -> None:
    policy = AddressPolicy.from_cidrs([" 10.1.2.3 ", "fd00::/8"])
    assert [str(n) for n in policy.allowed] == ["10.1.2.3/32", "fd00::/8"]
    assert AddressPolicy.from_cidrs([]) == AddressPolicy()


def test_the_reason_is_classified_without_a_host() -> None:
    assert refusal_reason(ip_address("127.0.0.1")) == "loopback"
    assert refusal_reason(ip_address("::ffff:7f00:1")) == "IPv4-mapped IPv6 (loopback)"
    assert refusal_reason(ip_address("2002:7f00:1::")) == "6to4 (embedding loopback IPv4)"
    assert refusal_reason(ip_address("9.9.9.9")) is None

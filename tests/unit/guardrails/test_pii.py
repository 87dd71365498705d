"""PII detectors, redaction, and the streaming redactor's equivalence with whole-text redaction."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from routeiq_core.guardrails.pii import Finding, PiiKind, StreamRedactor, find, redact


def kinds(text: str) -> list[PiiKind]:
    return [f.kind for f in find(text)]


def only(text: str, kind: PiiKind) -> None:
    """``text`` is exactly one entity of ``kind``, also when surrounded by prose."""
    assert find(text) == [Finding(kind, 0, len(text))]
    assert kinds(f"see {text} please.") == [kind]


@pytest.mark.parametrize(
    "email", ["john.doe@example.com", "a+tag@sub.example.co.uk", "X_Y-z%1@mail-server.io", "ops@a.b.museum"]
)
def test_emails(email: str) -> None:
    only(email, PiiKind.EMAIL)


@pytest.mark.parametrize("text", ["user@localhost", "@handle", "a@b", "name at example dot com", "x@.com"])
def test_non_emails(text: str) -> None:
    assert PiiKind.EMAIL not in kinds(text)


def test_email_at_end_of_sentence_keeps_the_period() -> None:
    assert redact("write to ops@example.com.")[0] == "write to [REDACTED:EMAIL]."


@pytest.mark.parametrize(
    "phone",
    [
        "+1 (555) 123-4567",
        "+44 20 7946 0958",
        "+33 1 23 45 67 89",
        "+49 (0)30 12345678",
        "+14155552671",
        "+91-98765-43210",
        "(555) 123-4567",
        "555-123-4567",
        "555.123.4567",
        "1-800-555-0199",
        "020 7946 0958",
        "07700 900123",
        "01 23 45 67 89",
        "030 12345678",
        "(020) 7946 0958",
    ],
)
def test_phones(phone: str) -> None:
    only(phone, PiiKind.PHONE)


@pytest.mark.parametrize(
    "text",
    [
        "12345678901234",
        "5551234567",
        "order 123456789 shipped",
        "on 2024-01-15 at 10:30",
        "pi is 3.14159265",
        "version 1.2.3 and 10.4",
        "ISBN 978-3-16-148410-0",
        "call ext. 1234",
        "+12 34",
        "01.02.2023",
    ],
)
def test_non_phones(text: str) -> None:
    assert PiiKind.PHONE not in kinds(text)


@pytest.mark.parametrize(
    "card",
    [
        "4111 1111 1111 1111",
        "4111-1111-1111-1111",
        "4111111111111111",
        "3782 822463 10005",
        "5500005555555559",
    ],
)
def test_cards(card: str) -> None:
    only(card, PiiKind.CREDIT_CARD)


@pytest.mark.parametrize(
    "text", ["4111111111111112", "4111 1111-1111 1111", "0000 0000 0000 0000", "41111111111111111111111"]
)
def test_non_cards(text: str) -> None:
    assert PiiKind.CREDIT_CARD not in kinds(text)


def _luhn_digit(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


@given(
    first=st.sampled_from("3456"),
    body=st.text(alphabet="0123456789", min_size=14, max_size=14),
    separator=st.sampled_from(["", " ", "-"]),
)
def test_every_luhn_valid_number_is_a_card_and_a_wrong_check_digit_is_not(
    first: str, body: str, separator: str
) -> None:
    digits = first + body
    digits += _luhn_digit(digits)
    assume(len(set(digits)) > 1)
    text = separator.join(digits[i : i + 4] for i in range(0, 16, 4))
    assert find(text) == [Finding(PiiKind.CREDIT_CARD, 0, len(text))]
    wrong = str((int(digits[-1]) + 1) % 10)
    assert find(text[:-1] + wrong) == []


@pytest.mark.parametrize(
    "iban",
    [
        "DE89 3704 0044 0532 0130 00",
        "GB82WEST12345698765432",
        "GB82 WEST 1234 5698 7654 32",
        "NO93 8601 1117 947",
    ],
)
def test_ibans(iban: str) -> None:
    only(iban, PiiKind.IBAN)


def test_iban_followed_by_an_unrelated_group_is_cut_at_the_group() -> None:
    assert redact("GB82 WEST 1234 5698 7654 32 ABCD")[0] == "[REDACTED:IBAN] ABCD"


@pytest.mark.parametrize("text", ["DE89 3704 0044 0532 0130 01", "XX00 0000 0000 00", "DE8937040044"])
def test_non_ibans(text: str) -> None:
    assert PiiKind.IBAN not in kinds(text)


def _iban(country: str, bban: str) -> str:
    numeric = "".join(str(int(c, 36)) for c in bban + country + "00")
    return f"{country}{98 - int(numeric) % 97:02d}{bban}"


def test_a_mod97_valid_number_of_the_wrong_length_for_its_country_is_no_iban() -> None:
    assert kinds(_iban("DE", "3704004405320130")) == []
    assert kinds(_iban("DE", "370400440532013000")) == [PiiKind.IBAN]


BBAN_LENGTHS = {"DE": 18, "GB": 18, "FR": 23, "NL": 14, "ES": 20, "IT": 23, "CH": 17, "NO": 11, "MT": 27}


@given(
    country=st.sampled_from(sorted(BBAN_LENGTHS)),
    bban=st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=27, max_size=27),
    grouped=st.booleans(),
    position=st.integers(min_value=4),
)
def test_every_mod97_valid_iban_is_found_and_one_changed_digit_is_not(
    country: str, bban: str, grouped: bool, position: int
) -> None:
    compact = _iban(country, bban[: BBAN_LENGTHS[country]])
    text = " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) if grouped else compact
    assert find(text) == [Finding(PiiKind.IBAN, 0, len(text))]
    digits = [i for i, c in enumerate(text) if c.isdigit() and i >= 4]
    assume(digits)
    at = digits[position % len(digits)]
    broken = text[:at] + str((int(text[at]) + 1) % 10) + text[at + 1 :]
    assert PiiKind.IBAN not in kinds(broken)


@pytest.mark.parametrize(
    "ip", ["192.168.1.1", "8.8.8.8", "fe80::1", "2001:db8:85a3::8a2e:370:7334", "::1", "::ffff:192.0.2.128"]
)
def test_ip_addresses(ip: str) -> None:
    only(ip, PiiKind.IP_ADDRESS)


@pytest.mark.parametrize(
    "text", ["10.0.0.256", "1.2.3", "12:30:45", "std::vector", "00:1A:2B:3C:4D:5E", "a :: b", "1.2.3.4.5"]
)
def test_non_ip_addresses(text: str) -> None:
    assert PiiKind.IP_ADDRESS not in kinds(text)


@pytest.mark.parametrize(
    "secret",
    [
        "sk-proj-Abc123def456ghi789jkl012mno345",
        "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
        "AKIAIOSFODNN7EXAMPLE",
        "ghp_abcdefghijklmnopqrstuvwxyz0123456789",
        "github_pat_11ABCDEFG0123456789_abcdefghij",
        "xoxb-1234567890-abcdefghij",
        "AIzaSyA1234567890abcdefghijklmnopqrstuv",
        "sk_live_abcdefghijklmnop1234",
        "aZ3kP9qL2mN8vB5xC7wE1rT4yU6iO0pS",
    ],
)
def test_secrets(secret: str) -> None:
    only(secret, PiiKind.SECRET)


def test_secret_after_an_assignment_is_redacted_but_not_its_name() -> None:
    assert redact("OPENAI_API_KEY=sk-abcdefghijklmnopqrstu12")[0] == "OPENAI_API_KEY=[REDACTED:SECRET]"


@pytest.mark.parametrize(
    "text",
    [
        "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",  # a sha256, lower hex
        "123e4567-e89b-12d3-a456-426614174000",  # a UUID
        "/usr/local/lib/python3/site-packages/numpy",
        "this_is_a_very_long_snake_case_identifier_name",
        "sk-short",
    ],
)
def test_non_secrets(text: str) -> None:
    assert PiiKind.SECRET not in kinds(text)


def test_redact_replaces_each_entity_and_reports_offsets() -> None:
    text = "Mail bob@example.com or call +1 555 123 4567 from 10.0.0.1."
    redacted, findings = redact(text)
    assert redacted == "Mail [REDACTED:EMAIL] or call [REDACTED:PHONE] from [REDACTED:IP_ADDRESS]."
    assert [text[f.start : f.end] for f in findings] == ["bob@example.com", "+1 555 123 4567", "10.0.0.1"]


def test_kinds_can_be_restricted() -> None:
    text = "bob@example.com 4111111111111111"
    assert redact(text, kinds=[PiiKind.CREDIT_CARD])[0] == "bob@example.com [REDACTED:CREDIT_CARD]"


def test_plain_prose_is_untouched() -> None:
    text = "The quick brown fox jumps over the lazy dog, twice: at 9:30 and at 10:15 (room 101)."
    assert redact(text) == (text, [])


# --- streaming ---------------------------------------------------------------------------------


def stream(chunks: list[str]) -> tuple[list[str], StreamRedactor]:
    redactor = StreamRedactor()
    out = [redactor.feed(c) for c in chunks]
    out.append(redactor.flush())
    return out, redactor


def test_stream_redacts_entities_split_across_chunks() -> None:
    out, redactor = stream(["Mail jo", "hn@exa", "mple.com, card 4111 11", "11 1111 1111 now."])
    assert "".join(out) == "Mail [REDACTED:EMAIL], card [REDACTED:CREDIT_CARD] now."
    assert [f.kind for f in redactor.findings] == [PiiKind.EMAIL, PiiKind.CREDIT_CARD]
    assert (redactor.findings[0].start, redactor.findings[0].end) == (5, 21)


def test_stream_holds_back_only_the_tail_that_could_still_be_an_entity() -> None:
    redactor = StreamRedactor()
    assert redactor.feed("Hello there, how are") == "Hello there, how "
    assert redactor.pending == "are"
    assert redactor.feed(" you? Call me at 555") == "are you? Call me at "
    assert redactor.pending == "555"
    assert redactor.feed("-123-4567 tomorrow!") == "[REDACTED:PHONE] tomorrow!"
    assert redactor.pending == ""
    assert redactor.flush() == ""


def test_stream_releases_text_once_a_word_ends_in_punctuation() -> None:
    redactor = StreamRedactor()
    assert redactor.feed("Fine, thanks!") == "Fine, thanks!"


ENTITIES = (
    "john.doe+x@example.co.uk",
    "a@b.io",
    "+1 (555) 123-4567",
    "555-123-4567",
    "020 7946 0958",
    "4111 1111 1111 1111",
    "4111111111111111",
    "3782 822463 10005",
    "DE89 3704 0044 0532 0130 00",
    "GB82WEST12345698765432",
    "192.168.1.1",
    "2001:db8:85a3::8a2e:370:7334",
    "::ffff:192.0.2.128",
    "sk-proj-abcdefghijklmnopqrstuvwxyz123456",
    "AKIAIOSFODNN7EXAMPLE",
    "aZ3kP9qL2mN8vB5xC7wE1rT4yU6iO0pS",
)
FILLER = (
    "hello",
    " ",
    "world",
    ". ",
    ", ",
    "\n",
    "12",
    "3",
    "-",
    ".",
    "@",
    "+",
    "(",
    ")",
    ":",
    "x",
    "DE",
    "0",
    "=",
)


@st.composite
def split_texts(draw: st.DrawFn) -> tuple[str, list[str]]:
    pieces = draw(st.lists(st.one_of(st.sampled_from(ENTITIES), st.sampled_from(FILLER)), max_size=12))
    text = "".join(pieces)
    cuts = sorted(draw(st.lists(st.integers(0, len(text)), max_size=10)))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    return text, chunks


@settings(max_examples=400, deadline=None)
@given(split_texts())
def test_streaming_any_split_equals_redacting_the_whole(case: tuple[str, list[str]]) -> None:
    text, chunks = case
    out, redactor = stream(chunks)
    expected, findings = redact(text)
    assert "".join(out) == expected
    assert redactor.findings == findings


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="0123456789 .-+():@aAZf=/_\n", max_size=50), st.lists(st.integers(0, 50), max_size=8))
def test_streaming_random_symbol_soup_equals_redacting_the_whole(text: str, raw_cuts: list[int]) -> None:
    cuts = sorted(c for c in raw_cuts if c <= len(text))
    chunks = [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)]
    assert "".join(stream(chunks)[0]) == redact(text)[0]

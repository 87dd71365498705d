"""The feedback use case: who may score which call, what a record carries, validation, scoping."""

from __future__ import annotations

import time

import pytest

from routeiq_adapters.feedback import InMemoryFeedbackStore
from routeiq_adapters.request_log import InMemoryRequestLog
from routeiq_core.access import Principal
from routeiq_core.errors import InvalidRequestError, NotFoundError, PermissionDeniedError
from routeiq_core.feedback import FeedbackQuery, FeedbackService, FeedbackSubmission
from routeiq_core.request_log import RequestRecord, answer_id, frame_answer_id

pytestmark = pytest.mark.anyio
ALICE = Principal(kind="virtual_key", role="member", key_id="k-alice", team="red")
BOB = Principal(kind="virtual_key", role="member", key_id="k-bob", team="red")


async def service(
    *, stored: dict[str, str | None] | None = None
) -> tuple[FeedbackService, list[tuple[str, float]]]:
    log = InMemoryRequestLog()
    await log.record(
        RequestRecord(
            at=time.time(),
            request_id="req-a",
            key_id="k-alice",
            team="red",
            model="auto",
            model_group="strong",
            deployment_id="strong-1",
            response_id="chatcmpl-a",
        )
    )
    heard: list[tuple[str, float]] = []

    async def owner(response_id: str) -> tuple[bool, str | None]:
        known = stored or {}
        return (response_id in known, known.get(response_id))

    feedback = FeedbackService(
        InMemoryFeedbackStore(),
        log=log,
        response_owner=owner,
        on_quality=lambda request_id, score: heard.append((request_id, score)),
        lookup_wait_s=0,
        clock=lambda: 5.0,
    )
    return feedback, heard


async def test_the_caller_scores_its_call_and_the_record_is_joined_to_it() -> None:
    feedback, heard = await service()
    record = await feedback.submit(ALICE, FeedbackSubmission(request_id="req-a", score=0.25, comment="meh"))
    assert (record.model_group, record.deployment_id, record.team, record.key_id) == (
        "strong",
        "strong-1",
        "red",
        "k-alice",
    )
    assert (record.response_id, record.at, record.source, record.submitted_by) == (
        "chatcmpl-a",
        5.0,
        "client",
        "k-alice",
    )
    assert heard == [("req-a", 0.25)]
    by_answer = await feedback.submit(
        ALICE, FeedbackSubmission(response_id="chatcmpl-a", label="thumbs_down")
    )
    assert by_answer.request_id == "req-a"
    assert by_answer.score is None
    assert heard == [("req-a", 0.25)]  # a label alone teaches no strategy


async def test_another_keys_call_is_not_found_like_a_missing_one_but_an_admin_may_score_it() -> None:
    feedback, _ = await service()
    with pytest.raises(NotFoundError) as other:
        await feedback.submit(BOB, FeedbackSubmission(request_id="req-a", score=1))
    with pytest.raises(NotFoundError) as missing:
        await feedback.submit(BOB, FeedbackSubmission(request_id="req-zzz", score=1))
    assert other.value.message.replace("req-a", "X") == missing.value.message.replace("req-zzz", "X")
    record = await feedback.submit(Principal.admin(), FeedbackSubmission(request_id="req-a", score=1))
    assert record.key_id == "k-alice"
    assert record.submitted_by is None


async def test_a_stored_response_is_scored_by_its_owner_only() -> None:
    feedback, _ = await service(stored={"resp_1": "k-bob"})
    record = await feedback.submit(BOB, FeedbackSubmission(response_id="resp_1", score=0.5))
    assert (record.response_id, record.request_id, record.key_id) == ("resp_1", None, "k-bob")
    with pytest.raises(NotFoundError):
        await feedback.submit(ALICE, FeedbackSubmission(response_id="resp_1", score=0.5))


@pytest.mark.parametrize(
    ("submission", "param"),
    [
        (FeedbackSubmission(score=1), "request_id"),
        (FeedbackSubmission(request_id="r"), "score"),
        (FeedbackSubmission(request_id="r", score=float("nan")), "score"),
        (FeedbackSubmission(request_id="r", score=2), "score"),
        (FeedbackSubmission(request_id="r", label="a b"), "label"),
        (FeedbackSubmission(response_id="", score=1), "response_id"),
    ],
)
async def test_bad_submissions_name_the_field(submission: FeedbackSubmission, param: str) -> None:
    feedback, _ = await service()
    with pytest.raises(InvalidRequestError) as error:
        await feedback.submit(ALICE, submission)
    assert error.value.param == param


async def test_a_viewer_cannot_submit_and_readers_see_their_own_scope() -> None:
    feedback, _ = await service()
    with pytest.raises(PermissionDeniedError):
        await feedback.submit(
            Principal(kind="virtual_key", role="viewer", key_id="v"),
            FeedbackSubmission(request_id="req-a", score=1),
        )
    await feedback.submit(ALICE, FeedbackSubmission(request_id="req-a", score=1))
    assert len(await feedback.query(ALICE, FeedbackQuery())) == 1
    assert await feedback.query(BOB, FeedbackQuery()) == []  # a member: its own key's only
    assert len(await feedback.query(Principal.admin(), FeedbackQuery())) == 1
    with pytest.raises(InvalidRequestError):
        await feedback.query(ALICE, FeedbackQuery(limit=0))


def test_answer_id_reads_the_id_of_json_answers_only() -> None:
    assert answer_id(b'{"id":"chatcmpl-1","choices":[]}') == "chatcmpl-1"
    assert answer_id(b'{"object":"list"}') is None
    assert answer_id(b"plain text transcript") is None
    assert answer_id(b'{"id": 5}') is None
    assert answer_id(b'{"id":"' + b"x" * 300 + b'"}') is None
    assert answer_id(b'{"id":"broken') is None


def test_frame_answer_id_reads_the_first_chunk_of_a_stream() -> None:
    assert frame_answer_id(b'data: {"id":"chatcmpl-9","object":"chat.completion.chunk"}\n\n') == "chatcmpl-9"
    assert frame_answer_id(b'event: message_start\ndata: {"type":"message_start"}\n\n') is None
    assert frame_answer_id(b"data: [DONE]\n\n") is None
    assert frame_answer_id(b'data: {"object":"x","id":"later"}\n\n') is None

"""Progress of long steps: a bar with its ETA on a terminal, plain lines elsewhere; Steps are strings."""

from __future__ import annotations

import io

from routeiq_app.cli_routing import Progress, bar
from routeiq_core.routing.learned.progress import Step, step


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_step_is_the_message_a_plain_callback_prints() -> None:
    message = step("embedding prompts", 250, 1000, started=0.0, clock=lambda: 10.0)
    assert message == "embedding prompts (250/1000, ETA 30s)"
    assert (message.done, message.total, message.eta_s) == (250, 1000, 30.0)
    assert step("x", 0, 5, started=0.0, clock=lambda: 1.0) == "x (0/5)"


def test_a_terminal_redraws_one_line_and_ends_it_when_done() -> None:
    out = Terminal()
    progress = Progress("train", stream=out)
    progress(Step("embedding prompts", 1, 4, 6.0))
    progress(Step("embedding prompts", 4, 4, 0.0))
    progress("training a knn router")
    text = out.getvalue()
    assert text.count("\r") == 2
    assert "[######..................]  25% 1/4 ETA 6s" in text
    assert "[########################] 100% 4/4" in text
    assert text.endswith("training a knn router\n")
    assert text.count("\n") == 2  # the finished bar, then the message


def test_elsewhere_every_message_is_a_line() -> None:
    out = io.StringIO()
    progress = Progress("eval", stream=out)
    progress(Step("fold 1", 0, 5))
    progress("done")
    assert "\r" not in out.getvalue()
    assert out.getvalue().splitlines()[0].endswith("fold 1 (0/5)")
    assert bar(Step("x", 0, 0)).startswith("x [########################] 100%")

"""One webhook POST to a loopback receiver; failures name the URL redacted; the back-off doubles."""

from __future__ import annotations

from datetime import timedelta

import pytest

from headwater.ops.drift_webhook import WebhookError, backoff, post_json, redact
from tests.ops.drift_receiver import SECRET, Receiver


def test_a_post_delivers_the_json_body() -> None:
    with Receiver() as receiver:
        assert post_json(receiver.url, {"detector": "d", "magnitude": 42.5}) == 200
    assert receiver.bodies == [{"detector": "d", "magnitude": 42.5}]


def test_a_failing_receiver_raises_with_the_url_redacted() -> None:
    with Receiver(fail_first=1) as receiver:
        with pytest.raises(WebhookError, match="answered HTTP 500") as caught:
            post_json(receiver.url, {"n": 1})
        assert SECRET not in str(caught.value)
        assert post_json(receiver.url, {"n": 2}) == 200
    assert receiver.bodies == [{"n": 2}] and len(receiver.attempts) == 2


def test_an_unreachable_receiver_and_a_non_http_url_are_errors() -> None:
    with Receiver() as receiver:
        url = receiver.url
    with pytest.raises(WebhookError, match="could not be reached") as caught:
        post_json(url, {}, seconds=2)
    assert SECRET not in str(caught.value)
    with pytest.raises(WebhookError, match="not an http"):
        post_json(f"file:///etc/{SECRET}", {})


def test_redact_keeps_only_scheme_host_and_port() -> None:
    assert (
        redact(f"https://user:pw@hooks.example.org:8443/x/{SECRET}?sig={SECRET}") == "https://hooks.example.org:8443/…"
    )
    assert redact("nonsense") == "<webhook URL>"


def test_the_back_off_doubles_up_to_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEADWATER_DRIFT_WEBHOOK_BACKOFF", "10")
    assert [backoff(n) for n in (1, 2, 3)] == [timedelta(seconds=10), timedelta(seconds=20), timedelta(seconds=40)]
    assert backoff(30) == timedelta(hours=1)

"""Bedrock's errors, each mapped to its row of the failover table, over the gateway and the simulator."""

from __future__ import annotations

import time

import httpx
import pytest

from gateway.upstream.adapters import bedrock
from gateway.conf.domain import Deployment
from gateway.conf.loader import parse_config
from gateway.events.outcomes import Outcome
from tests.providers.bedrock.conftest import PROFILE_ID, BedrockGateway

ASK = [{"role": "user", "content": "hi"}]
FIRST = f"br-a/{PROFILE_ID}"
STREAM = [False, True]


def ask(gw: BedrockGateway, model: str = "claude", stream: bool = False) -> httpx.Response:
    return gw.chat({"model": model, "messages": ASK, "stream": stream})


@pytest.mark.parametrize("stream", STREAM)
def test_throttling_cools_the_deployment_down_and_moves_on(gw: BedrockGateway, stream: bool) -> None:
    gw.sim.set_fault("br-a", status=429)
    for _ in range(3):
        response = ask(gw, stream=stream)
        assert response.status_code == 200
        assert response.headers["x-gateway-provider"] == "br-b"
    assert gw.sim.attempts("br-a") == 1
    assert gw.runtime.health.get(FIRST).cooldown_until > 0


def test_throttling_retry_after_sets_the_cooldown(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", status=429, retry_after="30")
    ask(gw)
    # The gateway's loop clock (uvloop) and time.monotonic() are both CLOCK_MONOTONIC.
    assert 20 < gw.runtime.health.get(FIRST).cooldown_until - time.monotonic() <= 30


@pytest.mark.parametrize("stream", STREAM)
@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_move_to_the_next_deployment(gw: BedrockGateway, status: int, stream: bool) -> None:
    gw.sim.set_fault("br-a", status=status)
    response = ask(gw, stream=stream)
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-b"


def test_model_not_ready_is_a_server_error_not_a_rate_limit(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", status=429, error_type="ModelNotReadyException")
    assert ask(gw).headers["x-gateway-provider"] == "br-b"
    assert gw.runtime.health.get(FIRST).cooldown_until == 0


@pytest.mark.parametrize(
    ("fault", "exception"),
    [
        ({"status": 403}, "AccessDeniedException"),
        ({"kind": "auth"}, "UnrecognizedClientException"),
        ({"kind": "not_found"}, "ResourceNotFoundException"),
    ],
)
def test_access_problems_mark_the_deployment_misconfigured(
    gw: BedrockGateway, fault: dict[str, object], exception: str
) -> None:
    gw.sim.set_fault("br-a", **fault)
    response = ask(gw)
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-b"
    assert exception in (gw.runtime.health.get(FIRST).misconfigured or "")


def test_wrong_secret_fails_signature_check_and_marks_misconfigured(gw: BedrockGateway) -> None:
    response = ask(gw, "badsig")
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-b"
    reason = gw.runtime.health.get("br-bad/amazon.nova-lite-v1:0").misconfigured or ""
    assert "InvalidSignatureException" in reason


@pytest.mark.parametrize("stream", STREAM)
def test_input_too_long_falls_back_to_the_larger_model(gw: BedrockGateway, stream: bool) -> None:
    gw.sim.set_fault("br-a", kind="context_length")
    response = ask(gw, stream=stream)
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-c"
    assert gw.sim.attempts("br-b") == 0  # same window: no point asking the sibling deployment


def test_input_too_long_everywhere_is_a_400_context_length_error(gw: BedrockGateway) -> None:
    for provider in ("br-a", "br-c"):
        gw.sim.set_fault(provider, kind="context_length")
    response = ask(gw)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "context_length_exceeded"
    assert "Input is too long" in error["message"]


def test_validation_exception_is_a_400_to_the_client_without_failover(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", status=400, error_message="The provided request is not valid")
    response = ask(gw)
    assert response.status_code == 400
    assert response.json()["error"]["message"] == "ValidationException: The provided request is not valid"
    assert gw.sim.attempts("br-b") == 0


@pytest.mark.parametrize("stream", STREAM)
def test_stream_exception_before_content_fails_over(gw: BedrockGateway, stream: bool) -> None:
    gw.sim.set_fault("br-a", kind="malformed", after=0)
    response = ask(gw, stream=stream)
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-b"


def test_stream_exception_after_content_is_retried_for_a_whole_answer(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", kind="malformed", after=3)
    response = ask(gw)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"].startswith("Hello from br-b/")


def test_stream_cut_after_content_is_retried_for_a_whole_answer(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", kind="cut_after", after=3)
    response = ask(gw)
    assert response.status_code == 200
    assert response.headers["x-gateway-provider"] == "br-b"


def test_stream_without_metadata_still_completes(gw: BedrockGateway) -> None:
    gw.sim.set_fault("br-a", kind="no_done")
    response = ask(gw, "nova")
    assert response.status_code == 200
    assert response.json()["choices"][0]["finish_reason"] == "stop"


@pytest.fixture
def deployment(bedrock_env: None) -> Deployment:
    config = parse_config(
        """providers:
  - {name: cls, kind: bedrock, base_url: 'http://127.0.0.1:9', region: us-east-1,
     options: {access_key_id_env: GW_TEST_BEDROCK_KEY_ID, secret_access_key_env: GW_TEST_BEDROCK_SECRET}}
models:
  - {name: m, deployments: [{provider: cls, model: 'amazon.nova-lite-v1:0'}]}
""",
        source="classify.yaml",
    )
    return config.models["m"].deployments[0]


@pytest.mark.parametrize(
    ("status", "kind", "message", "failure"),
    [
        (429, "ThrottlingException", "Too many tokens, please wait before trying again.", Outcome.RATE_LIMITED),
        (400, "ServiceQuotaExceededException", "Quota exceeded", Outcome.RATE_LIMITED),
        (503, "ServiceUnavailableException", "Bedrock is unable to process your request.", Outcome.SERVER_ERROR),
        (500, "InternalServerException", "internal", Outcome.SERVER_ERROR),
        (429, "ModelNotReadyException", "not ready", Outcome.SERVER_ERROR),
        (424, "ModelErrorException", "model failed", Outcome.SERVER_ERROR),
        (408, "ModelTimeoutException", "timed out", Outcome.SERVER_ERROR),
        (403, "AccessDeniedException", "no access", Outcome.MISCONFIGURED),
        (403, "UnrecognizedClientException", "bad token", Outcome.MISCONFIGURED),
        (403, "ExpiredTokenException", "expired", Outcome.MISCONFIGURED),
        (404, "ResourceNotFoundException", "no model", Outcome.MISCONFIGURED),
        (400, "ValidationException", "Input is too long for requested model.", Outcome.CONTEXT_LENGTH),
        (400, "ValidationException", "prompt is too long: 250000 tokens > 200000 maximum", Outcome.CONTEXT_LENGTH),
        (400, "ValidationException", "temperature: must be <= 1", Outcome.CLIENT_ERROR),
    ],
)
def test_error_classification_table(
    deployment: Deployment, status: int, kind: str, message: str, failure: Outcome
) -> None:
    headers = httpx.Headers({"x-amzn-errortype": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"})
    error = bedrock.classify_error(deployment, status, f'{{"message":"{message}"}}'.encode(), headers)
    assert error.failure is failure
    assert error.message == f"{kind}: {message}"
    assert error.status == status


def test_error_type_is_read_from_the_body_when_the_header_is_missing(deployment: Deployment) -> None:
    body = b'{"__type":"com.amazon.coral.service#ThrottlingException","message":"slow down"}'
    error = bedrock.classify_error(deployment, 400, body, httpx.Headers({"retry-after": "7"}))
    assert error.failure is Outcome.RATE_LIMITED
    assert error.retry_after == 7

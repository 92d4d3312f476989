"""instructor (TOOLS and JSON modes) over the openai SDK through the live gateway.

instructor is not in the dev extras: its ``jiter<0.15`` cap holds the openai SDK back from 3.63 to
3.3 for the whole suite. These tests run where it is installed (``pip install instructor``).
"""

from __future__ import annotations

import openai
import pytest

from tests.clients.conftest import (
    BAD_KEY,
    COMPLETION_TOKENS,
    HELLO_CHAT,
    HELLO_CHAT_FAILOVER,
    ClientGateway,
    Invoice,
    Weather,
)

instructor = pytest.importorskip("instructor", reason="instructor is not installed (its jiter cap holds openai back)")
HI = [{"role": "user", "content": "an invoice"}]


@pytest.fixture(params=["TOOLS", "JSON"])
def mode(request: pytest.FixtureRequest) -> object:
    return getattr(instructor.Mode, request.param)


def client(gw: ClientGateway, mode: object, key: str = "") -> object:
    sdk = openai.OpenAI(base_url=gw.openai_base, api_key=key or gw.key, max_retries=0, timeout=20)
    return instructor.from_openai(sdk, mode=mode)


def test_chat_without_a_response_model(gw: ClientGateway, mode: object) -> None:
    completion = client(gw, mode).chat.completions.create(model="chat", messages=HI, response_model=None)  # type: ignore[attr-defined]
    assert completion.choices[0].message.content.startswith(HELLO_CHAT)


def test_structured_answer_and_usage(gw: ClientGateway, mode: object) -> None:
    invoice, completion = client(gw, mode).chat.completions.create_with_completion(  # type: ignore[attr-defined]
        model="chat", messages=HI, response_model=Invoice
    )
    assert isinstance(invoice, Invoice)
    assert completion.usage.completion_tokens >= 1 and completion.usage.prompt_tokens >= 1


def test_tool_mode_call_validates(gw: ClientGateway, mode: object) -> None:
    weather = client(gw, mode).chat.completions.create(model="chat", messages=HI, response_model=Weather)  # type: ignore[attr-defined]
    assert 1 <= weather.days <= 7 and weather.unit in ("c", "f")


def test_streamed_partials_end_in_a_valid_object(gw: ClientGateway, mode: object) -> None:
    partials = list(
        client(gw, mode).chat.completions.create_partial(model="chat", messages=HI, response_model=Invoice)  # type: ignore[attr-defined]
    )
    assert len(partials) > 1
    Invoice.model_validate(partials[-1].model_dump())


def test_an_invalid_answer_is_retried_and_the_retry_validates(gw: ClientGateway, mode: object) -> None:
    gw.sim.set_fault("cl-a", kind="invalid_output", times=1)
    invoice = client(gw, mode).chat.completions.create(  # type: ignore[attr-defined]
        model="chat", messages=HI, response_model=Invoice, max_retries=2
    )
    assert isinstance(invoice, Invoice) and gw.attempts("cl-a") == 2


def test_errors_are_the_sdks_exceptions(gw: ClientGateway, mode: object) -> None:
    with pytest.raises(Exception) as caught:
        client(gw, mode, BAD_KEY).chat.completions.create(model="chat", messages=HI, response_model=Invoice)  # type: ignore[attr-defined]
    chain = [caught.value, caught.value.__cause__, caught.value.__context__]
    assert any(isinstance(error, openai.AuthenticationError) for error in chain), repr(caught.value)


def test_failover_mid_run(gw: ClientGateway, mode: object) -> None:
    patched = client(gw, mode)
    assert isinstance(patched.chat.completions.create(model="chat", messages=HI, response_model=Invoice), Invoice)  # type: ignore[attr-defined]
    gw.fail_primary()
    assert isinstance(patched.chat.completions.create(model="chat", messages=HI, response_model=Invoice), Invoice)  # type: ignore[attr-defined]
    assert gw.attempts("cl-b") == 1
    raw = patched.chat.completions.create(model="chat", messages=HI, response_model=None)  # type: ignore[attr-defined]
    assert raw.choices[0].message.content.startswith(HELLO_CHAT_FAILOVER)
    assert raw.usage.completion_tokens == COMPLETION_TOKENS

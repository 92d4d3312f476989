"""Hostile or wrong embeddings requests get a clear 400 in OpenAI's shape, before any upstream call."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.proxy.conftest import LiveGateway
from tests.proxy.embedding_gateway import emb, emb_gateway, post

__all__ = ["emb", "emb_gateway"]

CASES: list[tuple[str, dict[str, Any], str, str]] = [
    ("no input", {"model": "small"}, "input", "missing_required_parameter"),
    ("empty array", {"model": "small", "input": []}, "input", "empty_array"),
    ("empty string", {"model": "small", "input": ""}, "input", "empty_string"),
    ("an empty string in a batch", {"model": "small", "input": ["a", ""]}, "input", "empty_string"),
    ("a number", {"model": "small", "input": 42}, "input", "invalid_type"),
    ("an object", {"model": "small", "input": {"text": "a"}}, "input", "invalid_type"),
    ("mixed items", {"model": "small", "input": ["a", 1]}, "input", "invalid_type"),
    ("nested arrays of strings", {"model": "small", "input": [["a"]]}, "input", "invalid_type"),
    ("a negative token", {"model": "small", "input": [[1, -2]]}, "input", "invalid_type"),
    ("a boolean token", {"model": "small", "input": [[True]]}, "input", "invalid_type"),
    ("a huge token", {"model": "small", "input": [[2**40]]}, "input", "invalid_type"),
    ("too many inputs", {"model": "small", "input": ["a"] * 2049}, "input", "array_above_max_length"),
    ("too many tokens", {"model": "small", "input": ["word " * 30000] * 50}, "input", "max_tokens_per_request"),
    ("no model", {"input": "a"}, "model", "missing_required_parameter"),
    ("a numeric model", {"model": 3, "input": "a"}, "model", "invalid_type"),
    ("an unknown encoding", {"model": "small", "input": "a", "encoding_format": "int8"}, "encoding_format", ""),
    ("zero dimensions", {"model": "small", "input": "a", "dimensions": 0}, "dimensions", "integer_below_min_value"),
    ("negative dimensions", {"model": "small", "input": "a", "dimensions": -5}, "dimensions",
     "integer_below_min_value"),
    ("string dimensions", {"model": "small", "input": "a", "dimensions": "256"}, "dimensions", "invalid_type"),
    ("float dimensions", {"model": "small", "input": "a", "dimensions": 25.5}, "dimensions", "invalid_type"),
    ("huge dimensions", {"model": "small", "input": "a", "dimensions": 2**40}, "dimensions", "integer_above_max_value"),
    ("astronomic dimensions", {"model": "small", "input": "a", "dimensions": 10**30}, "dimensions", ""),
    ("more dimensions than the model", {"model": "small", "input": "a", "dimensions": 1537}, "dimensions",
     "integer_above_max_value"),
    ("dimensions on a fixed-size model", {"model": "ada", "input": "a", "dimensions": 256}, "dimensions",
     "unsupported_parameter"),
    ("a stream", {"model": "small", "input": "a", "stream": True}, "stream", "unsupported_parameter"),
    ("a numeric user", {"model": "small", "input": "a", "user": 7}, "user", "invalid_type"),
    ("chat's n", {"model": "small", "input": "a", "n": "abc"}, "n", "unsupported_parameter"),
    ("chat's stream options", {"model": "small", "input": "a", "stream_options": "x"}, "stream_options",
     "unsupported_parameter"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "param", "code"), CASES, ids=[c[0] for c in CASES])
def test_bad_request_is_a_400_naming_the_parameter(
    emb: LiveGateway, case: str, body: dict[str, Any], param: str, code: str
) -> None:
    response = post(emb, "embeddings", body)
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    if code:
        assert error["code"] == code
    assert emb.sim.stats()["by_provider"] == {}


def test_a_body_that_is_not_an_object_is_a_400(emb: LiveGateway) -> None:
    response = post(emb, "embeddings", ["model", "small"])
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_a_huge_input_is_refused_in_linear_time(emb: LiveGateway) -> None:
    inputs = ["x" * 1000] * 2000  # 2 MB, ~500,000 tokens
    started = time.monotonic()
    response = post(emb, "embeddings", {"model": "small", "input": inputs})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "max_tokens_per_request"
    assert time.monotonic() - started < 2


def test_an_unknown_model_is_a_404(emb: LiveGateway) -> None:
    response = post(emb, "embeddings", {"model": "nope", "input": "a"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"


def test_a_missing_key_is_a_401(emb: LiveGateway) -> None:
    response = post(emb, "embeddings", {"model": "small", "input": "a"}, authorization="")
    assert response.status_code == 401

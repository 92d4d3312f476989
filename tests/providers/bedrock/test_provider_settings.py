"""Bedrock provider settings are checked at start-up, with one line naming the problem."""

from __future__ import annotations

import pytest

from gateway.upstream.adapters import bedrock
from gateway.conf.domain import ConfigFileError
from gateway.conf.loader import parse_config


def config(provider: str) -> str:
    return f"""providers:
  - {{name: br, kind: bedrock, base_url: 'https://bedrock-runtime.us-east-1.amazonaws.com', {provider}}}
models:
  - {{name: m, deployments: [{{provider: br, model: 'amazon.nova-lite-v1:0'}}]}}
"""


def problem(provider: str) -> str:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(config(provider), source="bedrock.yaml")
    return str(caught.value)


@pytest.fixture
def no_ambient_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> pytest.MonkeyPatch:
    """botocore's default chain, with nothing to find and no instance metadata service to ask."""
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE",
                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                 "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", f"{tmp_path}/credentials")
    monkeypatch.setenv("AWS_CONFIG_FILE", f"{tmp_path}/config")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    return monkeypatch


def test_region_is_required() -> None:
    assert "bedrock.yaml:2: providers[0]: region is required for bedrock" in problem("options: {profile: x}")


def test_unknown_option_is_named() -> None:
    message = problem("region: us-east-1, options: {acces_key_id_env: K}")
    assert "options.acces_key_id_env: unknown bedrock option" in message


def test_api_key_is_refused_in_favour_of_aws_credentials() -> None:
    assert "drop api_key" in problem("region: us-east-1, api_key: abc")


def test_access_key_without_secret_is_refused() -> None:
    message = problem("region: us-east-1, options: {access_key_id_env: K}")
    assert "access_key_id_env and options.secret_access_key_env must be given together" in message


def test_unset_credential_variable_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BR_KEY", "AKIDEXAMPLE")
    monkeypatch.delenv("BR_SECRET_UNSET", raising=False)
    message = problem("region: us-east-1, options: {access_key_id_env: BR_KEY, secret_access_key_env: BR_SECRET_UNSET}")
    assert "environment variable BR_SECRET_UNSET is not set" in message


def test_no_credentials_anywhere_is_a_startup_error(no_ambient_aws: pytest.MonkeyPatch) -> None:
    assert "no AWS credentials" in problem("region: us-east-1")


def test_default_chain_credentials_are_resolved_once_at_startup(no_ambient_aws: pytest.MonkeyPatch) -> None:
    no_ambient_aws.setenv("AWS_ACCESS_KEY_ID", "AKIDFROMCHAIN0000001")
    no_ambient_aws.setenv("AWS_SECRET_ACCESS_KEY", "chain/secret")
    deployment = parse_config(config("region: us-east-1"), source="bedrock.yaml").models["m"].deployments[0]
    no_ambient_aws.delenv("AWS_ACCESS_KEY_ID")
    request = bedrock.build_request(deployment, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert "Credential=AKIDFROMCHAIN0000001/" in request.headers["Authorization"]

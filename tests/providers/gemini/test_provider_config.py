"""Start-up checks of `kind: gemini` and `kind: vertex` providers: one line naming the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.conf.domain import ConfigFileError
from gateway.conf.loader import parse_config
from tests.providers.gemini.conftest import service_account_file

MODELS = "models:\n  - {name: m, deployments: [{provider: g, model: gemini-2.0-flash}]}\n"


def config(provider: str) -> str:
    return f"providers:\n  - {{name: g, {provider}}}\n{MODELS}"


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    return service_account_file(tmp_path, "http://127.0.0.1:9/token")


def test_ai_studio_provider_with_a_key_is_accepted() -> None:
    parsed = parse_config(
        config("kind: gemini, base_url: 'https://generativelanguage.googleapis.com/v1beta', api_key: k")
    )
    assert parsed.providers["g"].kind == "gemini"


def test_vertex_with_a_service_account_is_accepted_without_contacting_google(credentials: Path) -> None:
    options = f"{{project: p, location: us-central1, credentials_file: '{credentials}'}}"
    parsed = parse_config(
        config(f"kind: vertex, base_url: 'https://us-central1-aiplatform.googleapis.com/v1', options: {options}")
    )
    assert parsed.providers["g"].options["project"] == "p"


def test_vertex_location_may_come_from_region(credentials: Path) -> None:
    options = f"{{project: p, credentials_file: '{credentials}'}}"
    base = "https://aiplatform.googleapis.com/v1"
    assert parse_config(config(f"kind: vertex, base_url: '{base}', region: global, options: {options}"))


@pytest.mark.parametrize(
    ("provider", "problem"),
    [
        ("kind: gemini, base_url: 'https://x.test/v1beta'", "kind gemini needs api_key or api_key_env"),
        ("kind: gemini, base_url: 'https://x.test/v1beta', api_key: k, options: {project: p}", "unknown option"),
        ("kind: vertex, base_url: 'https://x.test/v1'", "kind vertex needs options.credentials_file"),
        (
            "kind: vertex, base_url: 'https://x.test/v1', options: {projct: p}",
            "options.projct: unknown Vertex AI option",
        ),
        (
            "kind: vertex, base_url: 'https://x.test/v1', options: {credentials_file: /nonexistent/sa.json}",
            "needs options.project and options.location",
        ),
        (
            "kind: vertex, base_url: 'https://x.test/v1', "
            "options: {project: p, location: us-central1, credentials_file: /nonexistent/sa.json}",
            "options.credentials_file: cannot load service-account credentials from /nonexistent/sa.json",
        ),
        (
            "kind: vertex, base_url: 'https://x.test/v1', api_key: k, options: {credentials_file: /a.json}",
            "not both",
        ),
    ],
)
def test_provider_problems_are_named_at_start_up(provider: str, problem: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(config(provider), source="gw.yaml")
    assert str(caught.value).startswith("gw.yaml:2: providers[0]: ")
    assert problem in str(caught.value)


def test_vertex_endpoint_and_location_must_agree(credentials: Path) -> None:
    options = f"{{project: p, location: europe-west4, credentials_file: '{credentials}'}}"
    base = "https://us-central1-aiplatform.googleapis.com/v1"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(config(f"kind: vertex, base_url: '{base}', options: {options}"))
    assert "base_url is the us-central1 endpoint but the location is europe-west4" in str(caught.value)


def test_a_file_that_is_not_a_service_account_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "user.json"
    path.write_text('{"type": "authorized_user", "client_id": "x"}')
    options = f"{{project: p, location: us-central1, credentials_file: '{path}'}}"
    with pytest.raises(ConfigFileError) as caught:
        parse_config(config(f"kind: vertex, base_url: 'https://x.test/v1', options: {options}"))
    assert "cannot load service-account credentials" in str(caught.value)

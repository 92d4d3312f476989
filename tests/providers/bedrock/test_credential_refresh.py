"""Refreshable AWS credentials (roles, SSO, containers) are refreshed off the request path."""

from __future__ import annotations

import datetime
import threading
import time
from typing import Any

import pytest
from botocore.credentials import Credentials, RefreshableCredentials

from gateway.upstream.adapters import bedrock

URL = "https://bedrock-runtime.us-east-1.amazonaws.com/model/m/converse-stream"


class FakeSts:
    """botocore's refresh callback: each call hands out the next key, from whichever thread calls."""

    def __init__(self, expires_in: float) -> None:
        self.expires_in = expires_in
        self.callers: list[str] = []
        self.issued = 0

    def __call__(self) -> dict[str, Any]:
        self.callers.append(threading.current_thread().name)
        self.issued += 1
        expiry = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=self.expires_in)
        return {
            "access_key": f"ASIAROLEKEY{self.issued:09d}",
            "secret_key": f"role/secret/{self.issued}",
            "token": f"session-token-{self.issued}",
            "expiry_time": expiry.isoformat(),
        }


def refreshable(sts: FakeSts) -> RefreshableCredentials:
    return RefreshableCredentials.create_from_metadata(metadata=sts(), refresh_using=sts, method="fake-sts")


def signed_key(source: bedrock.CredentialSource) -> str:
    target = bedrock.Target(URL, "bedrock-runtime.us-east-1.amazonaws.com", "us-east-1", source)
    headers = bedrock.sign(target, b"{}", {"host": target.host, "content-type": "application/json"})
    return headers["Authorization"].split("Credential=")[1].split("/")[0]


def test_signing_never_refreshes_on_the_calling_thread_even_inside_botocores_refresh_window() -> None:
    sts = FakeSts(expires_in=120)  # inside botocore's mandatory 10-minute window: it would refresh inline
    source = bedrock.CredentialSource(refreshable(sts))
    sts.callers.clear()
    for _ in range(50):
        signed_key(source)
    assert threading.current_thread().name not in sts.callers


def test_the_background_thread_brings_new_credentials_into_signatures(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bedrock.CredentialSource, "REFRESH_EVERY", 0.02)
    sts = FakeSts(expires_in=120)
    source = bedrock.CredentialSource(refreshable(sts))
    sts.callers.clear()  # start-up may refresh inline: only the request path must not
    first = signed_key(source)
    deadline = time.monotonic() + 5
    while signed_key(source) == first and time.monotonic() < deadline:
        time.sleep(0.01)
    assert signed_key(source) != first
    assert "bedrock-credentials" in sts.callers
    assert threading.current_thread().name not in sts.callers


def test_static_credentials_start_no_thread() -> None:
    before = [t.name for t in threading.enumerate()].count("bedrock-credentials")
    bedrock.CredentialSource(Credentials("AKIASTATIC0000000001", "static/secret"))
    assert [t.name for t in threading.enumerate()].count("bedrock-credentials") == before

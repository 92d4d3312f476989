from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from django.utils import timezone

from tests.statuspage.seed import NOW, write_config


@pytest.fixture(autouse=True)
def _gateway_config(settings: object, tmp_path: Path) -> None:
    settings.GATEWAY_CONFIG = str(write_config(tmp_path))  # type: ignore[attr-defined]


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """Every page sees NOW as the time (the services under them take ``now`` from timezone.now)."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW

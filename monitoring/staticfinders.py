"""plotly.js served as a static asset from the copy the python ``plotly`` package bundles, so that the
dashboard's charts need no CDN and its version always matches the figures' JSON."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.files.storage import FileSystemStorage

PREFIX = "vendor"
NAME = "plotly.min.js"
STATIC_PATH = f"{PREFIX}/{NAME}"


def bundled_file() -> Path:
    return Path(plotly.__file__).parent / "package_data" / NAME


class PlotlyFinder(BaseFinder):
    """Finds ``vendor/plotly.min.js`` and nothing else of the package's data."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=str(bundled_file().parent))
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[Any]:
        return []

    def find(self, path: str, find_all: bool = False, **kwargs: Any) -> Any:  # type: ignore[override]
        if path != STATIC_PATH or not bundled_file().exists():
            return []
        return [str(bundled_file())] if find_all or kwargs.get("all") else str(bundled_file())

    def list(self, ignore_patterns: Iterable[str] | None) -> Iterator[tuple[str, FileSystemStorage]]:
        if bundled_file().exists():
            yield NAME, self.storage

"""Shared by the push tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import structlog
from structlog.testing import capture_logs

from workers.push import expo, rate


@pytest.fixture
def logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """What the push modules log during the test. Their module loggers are
    replaced by fresh ones: an app started by an earlier test caches loggers
    (cache_logger_on_first_use), and a cached logger bypasses capture_logs."""
    with capture_logs() as captured:
        for module in (expo, rate):
            monkeypatch.setattr(module, "logger", structlog.get_logger(module.__name__))
        yield captured

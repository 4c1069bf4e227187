"""Shared fixtures: an archive built once from the bundled samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from archive.build import build_from_manifest
from archive.paths import SAMPLES_DIR


@pytest.fixture(scope="session")
def sample_archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """archive.db built from the five bundled sample bulletins."""
    db_path = tmp_path_factory.mktemp("archive") / "archive.db"
    report = build_from_manifest(db_path, SAMPLES_DIR)
    assert report.failures == []
    return db_path

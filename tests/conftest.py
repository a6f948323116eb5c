"""Shared fixtures: the bundled data, and one full build of it per test session."""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.data.loader import DataSet, load
from generator.output.pipeline import Result, Selection, build


@pytest.fixture(scope="session")
def bundled() -> DataSet:
    return load()


@pytest.fixture(scope="session")
def full_build(tmp_path_factory: pytest.TempPathFactory, bundled: DataSet) -> Result:
    """All documents of the bundled data, built once."""
    out = tmp_path_factory.mktemp("full") / "output"
    return build(bundled, out, Selection())


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "output"


@pytest.fixture(scope="session")
def reports_build(tmp_path_factory: pytest.TempPathFactory, bundled: DataSet) -> Result:
    """Every district and city document of the bundled data, built once."""
    from generator.output.pipeline import build_reports

    return build_reports(bundled, tmp_path_factory.mktemp("reports-all") / "output")

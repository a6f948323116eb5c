"""Shared fixtures: the bundled data, and one full build of it per test session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from generator.data.loader import DataSet, load
from generator.output.pipeline import Result, Selection, build


@pytest.fixture(autouse=True, scope="session")
def photo_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Photos re-encoded by the tests go to a folder of the test run, not the user's cache."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GAIZAO_CACHE", str(tmp_path_factory.mktemp("photo-cache")))
        yield


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


@pytest.fixture
def data_root(tmp_path: Path, bundled: DataSet) -> Path:
    """A copy of the bundled data folder a test may change (without any templates/ of its own)."""
    import shutil

    root = tmp_path / "data"
    shutil.copytree(bundled.root, root, ignore=shutil.ignore_patterns("templates"))
    return root

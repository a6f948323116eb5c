"""Limits: a megabyte in one field, a data set of 100,000 communities, files too large to read.

Chosen limits (generator/data/models.py and generator/data/yamlio.py say why):
- one text field ≤ 10,000 characters, a report narrative section ≤ 50,000;
- households of a community (building, survey) ≤ 1,000,000; other counts ≤ 100,000,000;
- amounts ≤ 1e12 元 (1e8 万元); quantities and percentages ≤ 1e12;
- a data file ≤ 64 MB and ≤ 3,000,000 keys and values (about 100,000 plan rows);
- YAML nesting ≤ 100 levels.
A value over a limit is refused with a message naming file, line, field and the limit; a data
set within them — 100,000 communities — validates in bounded time and memory.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from docx import Document

from generator.cli import main
from generator.data import yamlio
from generator.errors import DataError
from tests.helpers import DataDir, good_project

ROOT = Path(__file__).resolve().parent.parent
MEGABYTE_OF_TEXT = "老旧小区改造" * (1024 * 1024 // 18)  # 1 MB in UTF-8


@pytest.fixture
def dd(tmp_path: Path) -> DataDir:
    dd = DataDir(tmp_path / "data")
    dd.project()
    return dd


def run(dd: DataDir, *args: str) -> tuple[int, str, float]:
    start = time.monotonic()
    result = CliRunner().invoke(main, ["--data", str(dd.root), *args])
    return result.exit_code, result.output, time.monotonic() - start


@pytest.mark.parametrize("field", ["name", "problem", "narrative"])
def test_a_megabyte_in_one_field_is_refused_quickly_and_briefly(dd: DataDir, field: str) -> None:
    if field == "name":
        dd.community("dongqu-01", name=MEGABYTE_OF_TEXT)
        where, limit = "communities[0].name", 10000
    elif field == "problem":
        project = good_project()
        project["problems"] = [MEGABYTE_OF_TEXT]
        dd.project(project)
        where, limit = "problems[0]", 10000
    else:
        dd.write("reports/2018/东区.yaml", {"district": "东区", "year": 2018,
                                            "narrative": {"situation": MEGABYTE_OF_TEXT}})
        where, limit = "narrative.situation", 50000
    for command in (["validate"], ["build", "--out", str(dd.root.parent / "out"), "-q"]):
        code, output, seconds = run(dd, *command)
        assert code == 1
        assert where in output and f"文字过长：最多{limit}个字符，现有{len(MEGABYTE_OF_TEXT)}个字符" in output
        assert len(output) < 1000, "提示中不应整段重复这一兆字节"
        assert seconds < 10
    assert not (dd.root.parent / "out").exists()


def test_text_at_the_limit_gives_documents(dd: DataDir) -> None:
    location = ("临江路" * 3334)[:10000]
    dd.community("dongqu-01", location=location)
    out = dd.root.parent / "out"
    code, output, _ = run(dd, "build", "--out", str(out), "-q", "--kind", "survey", "--all-forms")
    assert code == 0, output
    (survey,) = out.rglob("*.docx")
    assert location in "".join(p.text for p in Document(str(survey)).paragraphs) or location in \
        "".join(c.text for t in Document(str(survey)).tables for r in t.rows for c in r.cells)


def plan_rows(count: int) -> str:
    """A plan of count communities written as plain text (fast: no YAML library involved)."""
    districts = ["东区", "西区", "仁和区", "米易县", "盐边县", "钒钛高新区"]
    rows = [
        f"  - id: c{i}\n    seq: {i + 1}\n    name: 第{i}号老旧小区\n    district: {districts[i % 6]}\n"
        f"    built: {1970 + i % 29}\n    location: 某某路{i}号\n    households: {100 + i % 900}\n"
        f"    investment_wan: {200 + i % 50}.5\n    year: {2018 + i % 3}\n"
        for i in range(count)
    ]
    return "communities:\n" + "".join(rows)


MEASURE = """
import json, resource, sys, time
start = time.monotonic()
from generator.cli import main
try:
    main(["--data", sys.argv[1], "validate"], prog_name="gaizao")
    code = 0
except SystemExit as exc:
    code = exc.code
usage = resource.getrusage(resource.RUSAGE_SELF)
print(json.dumps({"code": code, "seconds": time.monotonic() - start,
                  "peak_mb": usage.ru_maxrss / 1024}), file=sys.stderr)
"""


@pytest.mark.slow
def test_a_hundred_thousand_communities_validate_in_bounded_time_and_memory(tmp_path: Path) -> None:
    dd = DataDir(tmp_path / "data")
    dd.path("communities.yaml").write_text(plan_rows(100_000), encoding="utf-8")
    done = subprocess.run([sys.executable, "-c", MEASURE, str(dd.root)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    figures = json.loads(done.stderr.strip().splitlines()[-1])
    print(f"\n10万个小区 validate：{figures['seconds']:.1f} 秒，峰值内存 {figures['peak_mb']:.0f} MB")
    assert figures["code"] == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "检查 100000 个小区" in done.stdout
    assert figures["seconds"] < 60
    assert figures["peak_mb"] < 1536


def test_a_file_with_too_many_values_is_refused_before_it_is_built(
    dd: DataDir, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(yamlio, "MAX_VALUES", 200)  # the real limit takes 3 million to reach
    with pytest.raises(DataError) as info:
        dd.load()
    (problem,) = [p for p in info.value.problems if Path(p.file).name == "communities.yaml"]
    assert "文件过大：数据项超过" in problem.problem and problem.line is not None


def test_a_file_too_large_to_read_is_refused_unread(dd: DataDir) -> None:
    with open(dd.path("communities.yaml"), "r+b") as fh:
        fh.truncate(65 * 1024 * 1024)  # sparse: as large as it says, without using the disk
    start = time.monotonic()
    code, output, _ = run(dd, "validate")
    assert code == 1
    assert "communities.yaml：文件过大（65.0 MB），超过本工具能读取的上限（64 MB）" in output
    assert time.monotonic() - start < 2

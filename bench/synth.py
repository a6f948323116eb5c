"""Synthetic programmes of any size, cloned from the bundled data, for benchmarks and scale tests."""

from __future__ import annotations

import argparse
import re
import shutil
from pathlib import Path

from generator.data.loader import BUNDLED_DATA, load


def make_programme(n: int, dest: Path) -> Path:
    """A data folder with n communities: the 30 bundled rows and projects repeated with new ids."""
    bundled = load()
    rows = bundled.active_communities()
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("programme.yaml", "districts.yaml", "catalogue.yaml"):
        shutil.copy(BUNDLED_DATA / name, dest / name)
    projects = dest / "projects"
    projects.mkdir(exist_ok=True)
    texts = {c.id: (BUNDLED_DATA / "projects" / f"{c.id}.yaml").read_text(encoding="utf-8") for c in rows}
    lines = ["communities:"]
    for index in range(n):
        row = rows[index % len(rows)]
        new_id = f"s{index + 1:06d}"
        built = f'\n    built: "{row.built}"' if row.built else ""
        lines.append(
            f"  - id: {new_id}\n    seq: {index + 1}\n    name: {row.name}{index + 1:06d}\n"
            f"    district: {row.district}{built}\n    location: {row.location}\n"
            f"    households: {row.households}\n    investment_wan: {row.investment_wan}\n    year: {row.year}"
        )
        text = re.sub(r"^community: \S+", f"community: {new_id}", texts[row.id], flags=re.M)
        (projects / f"{new_id}.yaml").write_text(text, encoding="utf-8")
    (dest / "communities.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return dest


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="生成一个有 N 个小区的合成数据文件夹")
    parser.add_argument("n", type=int)
    parser.add_argument("dest", type=Path)
    args = parser.parse_args()
    print(make_programme(args.n, args.dest))

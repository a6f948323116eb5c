"""Benchmark: documents per second by kind, full-build wall time and peak memory, PDF pages per second.

Run from the project folder:  python -m bench.run [--sizes 30 1000 10000] [--out bench/RESULTS.md]
Side by side in the same run: (a) the plain docxtpl loop, DocxTemplate(path).render(ctx).save(out)
per document (for the workbook: openpyxl's load_workbook(path).save(out), which fills nothing, so
the plain way costs at least that), and (b) the floor, writing the same number of zip files of
the same size.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from docxtpl import DocxTemplate
from openpyxl import load_workbook

from bench.synth import make_programme
from generator.data.loader import load
from generator.documents.kinds import KINDS, kinds_of
from generator.output.pipeline import Renderers, Selection, plan_jobs
from generator.render.env import XML_ENV

SAMPLE = 200
"""Documents per kind for the per-kind rates and the baselines."""


def _tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants, in KiB: proportional set size, so pages that
    forked workers share with their parent are counted once, not once per process."""
    total = 0
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    stack = [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/smaps_rollup") as fh:
                for line in fh:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
        stack.extend(children.get(current, []))
    return total


def timed_command(args: list[str]) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB, the whole process tree) of a command."""
    start = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _tree_rss_kb(proc.pid))
        time.sleep(0.05)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed: {proc.stderr.read().decode() if proc.stderr else ''}")
    return seconds, peak / 1024


def full_build(data_dir: Path, workers: int) -> tuple[float, float, int]:
    """Wall time, peak memory and document count of `gaizao build` plus `gaizao report`."""
    out = Path(tempfile.mkdtemp(prefix="bench-out-"))
    try:
        base = [sys.executable, "-m", "generator", "--data", str(data_dir)]
        t1, m1 = timed_command([*base, "build", "--out", str(out), "-q", "-j", str(workers)])
        t2, m2 = timed_command([*base, "report", "--out", str(out)])
        docs = sum(1 for p in out.rglob("*") if p.suffix in (".docx", ".xlsx"))
        return t1 + t2, max(m1, m2), docs
    finally:
        shutil.rmtree(out)


def kind_rates(data_dir: Path) -> list[tuple[str, int, float, float | None, float]]:
    """Per kind: sample size, our docs/s, plain docxtpl (or openpyxl) docs/s, zip-floor docs/s."""
    data = load(data_dir)
    renderers = Renderers(data, None)
    jobs, _ = plan_jobs(data, Selection())
    rows = []
    for kind in kinds_of("community"):
        sample = [j for j in jobs if j.kind.key == kind.key][:SAMPLE]
        if not sample:
            continue
        contexts = [kind.context(data, j.target) for j in sample]
        template = renderers.locate(kind, sample[0].community.district)
        # compile outside the timing, as a batch would
        renderers.render(template, contexts[0], blocks=kind.blocks)
        start = time.perf_counter()
        payloads = [renderers.render(template, ctx, blocks=kind.blocks) for ctx in contexts]
        ours = len(sample) / (time.perf_counter() - start)
        plain = None
        if kind.suffix == ".docx":
            start = time.perf_counter()
            for ctx in contexts:
                doc = DocxTemplate(template)
                doc.render(ctx, jinja_env=XML_ENV)
                doc.save(io.BytesIO())
            plain = len(sample) / (time.perf_counter() - start)
        else:
            start = time.perf_counter()
            for _ in contexts:
                load_workbook(template).save(io.BytesIO())
            plain = len(sample) / (time.perf_counter() - start)
        start = time.perf_counter()
        for payload in payloads:  # the floor: the same zips written again, deflated
            source = zipfile.ZipFile(io.BytesIO(payload))
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
                for info in source.infolist():
                    target.writestr(info.filename, source.read(info.filename))
        floor = len(sample) / (time.perf_counter() - start)
        rows.append((kind.name, len(sample), ours, plain, floor))
    return rows


def pdf_rates(data_dir: Path, files: int = 24) -> tuple[float, float, float, int]:
    """PDF pages per second: one LibreOffice start per file, one batch process, two workers."""
    from generator.output.pdf import FONTS_CONF, soffice, to_pdf
    from generator.output.pipeline import build

    command = soffice()
    if command is None:
        return 0.0, 0.0, 0.0, 0
    out = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    try:
        result = build(load(data_dir), out, Selection(kinds=("notice", "application")))
        paths = result.paths[:files]

        def pages() -> int:
            total = 0
            for p in paths:
                info = subprocess.run(["pdfinfo", str(p.with_suffix(".pdf"))], capture_output=True, text=True)
                total += int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages")))
            return total

        def clear() -> None:
            for p in paths:
                p.with_suffix(".pdf").unlink(missing_ok=True)

        start = time.perf_counter()
        env = {**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}
        for p in paths:
            with tempfile.TemporaryDirectory() as profile:
                subprocess.run([command, "--headless", f"-env:UserInstallation=file://{profile}",
                                "--convert-to", "pdf", "--outdir", str(p.parent), str(p)],
                               env=env, capture_output=True, check=True)
        per_file = time.perf_counter() - start
        n_pages = pages()
        rates = [n_pages / per_file]
        for workers in (1, 2):
            clear()
            start = time.perf_counter()
            done = to_pdf(paths, workers=workers)
            assert not done.failed, done.failed
            rates.append(n_pages / (time.perf_counter() - start))
        return rates[0], rates[1], rates[2], n_pages
    finally:
        shutil.rmtree(out)


def _rss_mib() -> float:
    with open("/proc/self/status") as fh:
        return next(int(line.split()[1]) for line in fh if line.startswith("VmRSS:")) / 1024


def memory_over_batch(data_dir: Path, total: int = 2000) -> list[tuple[int, float]]:
    """Resident memory of one process after 10 … `total` renders of one kind: does it stay flat?"""
    data = load(data_dir)
    renderers = Renderers(data, None)
    kind = KINDS["plan"]
    jobs = [j for j in plan_jobs(data, Selection(kinds=("plan",)))[0]]
    template = renderers.locate(kind, jobs[0].community.district)
    marks, out = {10, 100, 500, 1000, total}, []
    for n in range(1, total + 1):
        job = jobs[n % len(jobs)]
        renderers.render(template, kind.context(data, job.target))
        if n in marks:
            out.append((n, _rss_mib()))
    return out


def merge_time(data_dir: Path, district: str) -> tuple[int, float]:
    """Seconds to bind one district's notices into one print file."""
    from generator.output.printing import print_documents

    data = load(data_dir)
    out = Path(tempfile.mkdtemp(prefix="bench-print-"))
    try:
        start = time.perf_counter()
        result = print_documents(data, out, "notice", district=district)
        return sum(result.bound.values()), time.perf_counter() - start
    finally:
        shutil.rmtree(out)


def survey_forms(data_dir: Path, workers: int) -> tuple[int, int, float, float, int, float, float, float]:
    """One 入户意见征询表 per household of every community as Word documents, then one district's
    bound survey file through LibreOffice to PDF.

    Returns forms, documents, build seconds, build peak MiB, PDF pages, PDF seconds (conversion
    only), bound-file seconds and the print step's peak MiB.
    """
    from generator.output.pdf import to_pdf

    data = load(data_dir)
    forms = sum(c.households for c in data.active_communities() if c.id in data.projects)
    district = max(data.districts, key=lambda d: sum(
        c.households for c in data.active_communities() if c.district == d and c.id in data.projects))
    out = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    try:
        base = [sys.executable, "-m", "generator", "--data", str(data_dir)]
        seconds, peak = timed_command([*base, "build", "--kind", "survey", "--out", str(out), "-q",
                                       "-j", str(workers)])
        docs = sum(1 for _ in out.rglob("*.docx"))
        bound_seconds, bound_peak = timed_command([*base, "print", "--kind", "survey", "--district", district,
                                                   "--out", str(out), "-q"])
        bound = next((out / "打印").rglob("*.docx"))
        start = time.perf_counter()
        done = to_pdf([bound], timeout=1800, workers=1)
        pdf_seconds = time.perf_counter() - start
        assert not done.failed, done.failed
        info = subprocess.run(["pdfinfo", str(bound.with_suffix(".pdf"))], capture_output=True, text=True)
        pages = int(next(line.split()[-1] for line in info.stdout.splitlines() if line.startswith("Pages")))
        return forms, docs, seconds, peak, pages, pdf_seconds, bound_seconds, bound_peak
    finally:
        shutil.rmtree(out)


def survey_lines(workers: int) -> list[str]:
    """The household survey section of the results, on the bundled data."""
    data_dir = Path(__file__).resolve().parent.parent / "data"
    forms, docs, seconds, peak, pages, pdf_seconds, bound_seconds, bound_peak = survey_forms(data_dir, workers)
    return [
        f"## Household survey forms (bundled data, {workers} workers)", "",
        "| step | measured |", "|---|---:|",
        f"| 入户意见征询表, one per household, as Word documents | {forms:,} forms in {docs} documents, "
        f"{seconds:.2f} s ({forms / seconds:.0f} forms/s), peak {peak:.0f} MiB |",
        f"| one district's bound survey file (`gaizao print --kind survey`) | {bound_seconds:.2f} s, "
        f"peak {bound_peak:.0f} MiB |",
        f"| that file to PDF (one LibreOffice process) | {pages:,} pages in {pdf_seconds:.2f} s "
        f"({pages / pdf_seconds:.1f} pages/s) |",
    ]


def machine() -> str:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    lo = subprocess.run(["soffice", "--version"], capture_output=True, text=True).stdout.strip() \
        if shutil.which("soffice") else "not installed"
    return (f"{os.cpu_count()} cores ({cpu}), {mem:.0f} GiB memory, {platform.system()} {platform.release()}, "
            f"Python {platform.python_version()}, {lo}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[30, 1000, 10000])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "RESULTS.md")
    parser.add_argument("--only-survey", action="store_true",
                        help="run only the household survey section and print it")
    args = parser.parse_args()
    if args.only_survey:
        print("\n".join(survey_lines(args.workers)))
        return
    lines = ["# Benchmark results", "", f"Machine: {machine()}.", "",
             f"Reproduce: `python -m bench.run --sizes {' '.join(map(str, args.sizes))}` "
             f"(workers: {args.workers}).", ""]
    work = Path(tempfile.mkdtemp(prefix="bench-data-"))
    try:
        lines += ["## Full build (`gaizao build` + `gaizao report`)", "",
                  "| communities | documents | wall time (s) | documents/s | peak memory (MiB, PSS of all processes) |",
                  "|---:|---:|---:|---:|---:|"]
        for size in args.sizes:
            data_dir = Path(__file__).resolve().parent.parent / "data" if size == 30 else \
                make_programme(size, work / f"p{size}")
            seconds, peak, docs = full_build(data_dir, args.workers)
            lines.append(f"| {size:,} | {docs:,} | {seconds:.2f} | {docs / seconds:.0f} | {peak:.0f} |")
            print(lines[-1], flush=True)
        sample_dir = make_programme(1000, work / "sample")
        lines += ["", f"## Documents per second by kind (one process, {SAMPLE} documents each)", "",
                  "| kind | ours | plain loop (docxtpl; openpyxl for the workbook) | ours ÷ plain | zip floor "
                  "| floor ÷ ours |",
                  "|---|---:|---:|---:|---:|---:|"]
        for name, _n, ours, plain, floor in kind_rates(sample_dir):
            plain_text = f"{plain:.0f}" if plain else "—"
            ratio = f"{ours / plain:.1f}×" if plain else "—"
            lines.append(f"| {name} | {ours:.0f} | {plain_text} | {ratio} | {floor:.0f} | {floor / ours:.2f}× |")
            print(lines[-1], flush=True)
        lines += ["", "## Memory of one process over a long batch (改造方案, no gc.collect)", "",
                  "| documents rendered | resident memory (MiB) |", "|---:|---:|"]
        for n, mib in memory_over_batch(sample_dir):
            lines.append(f"| {n:,} | {mib:.0f} |")
        print(lines[-1], flush=True)
        per_file, batch, two, pages = pdf_rates(sample_dir)
        lines += ["", f"## PDF through LibreOffice ({pages} pages)", "",
                  "| approach | pages/s | vs one start per file |", "|---|---:|---:|",
                  f"| one LibreOffice start per file | {per_file:.2f} | 1.0× |",
                  f"| one batch process | {batch:.2f} | {batch / per_file:.1f}× |",
                  f"| two workers, own profiles | {two:.2f} | {two / per_file:.1f}× |"]
        print(lines[-3:], flush=True)
        merge_dir = make_programme(2250, work / "merge")
        lines += ["", "## Binding one district's notices into one print file", "",
                  "| notices | seconds |", "|---:|---:|"]
        for size, folder in ((1125, work / "merge-half"), (2250, merge_dir)):
            if size != 2250:
                make_programme(size, folder)
            count, seconds = merge_time(folder, "东区")
            lines.append(f"| {count} | {seconds:.2f} |")
            print(lines[-1], flush=True)
        lines += ["", *survey_lines(args.workers)]
    finally:
        shutil.rmtree(work)
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(args.out)


if __name__ == "__main__":
    main()

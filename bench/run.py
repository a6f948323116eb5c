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
import math
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docxtpl import DocxTemplate
from openpyxl import load_workbook

from bench.synth import make_programme
from generator.data.loader import load
from generator.documents.kinds import KINDS, kinds_of
from generator.output.pipeline import Renderers, Selection, plan_jobs
from generator.render.env import XML_ENV

BUNDLED = Path(__file__).resolve().parent.parent / "data"
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


def _rezip(payloads: list[bytes]) -> None:
    """The floor: the same zip files written again, every member deflated."""
    for payload in payloads:
        source = zipfile.ZipFile(io.BytesIO(payload))
        with zipfile.ZipFile(io.BytesIO(), "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(info.filename, source.read(info.filename))


def survey_floor(data_dir: Path, rounds: int = 2) -> dict[str, Any]:
    """The household forms of every community (--all-forms) rendered in one process, against the
    zip floor (the same bytes re-zipped) and against Jinja rendering every household's form; the
    three alternate, best of `rounds` each."""
    data = load(data_dir)
    renderers = Renderers(data, None)
    kind = KINDS["survey"]
    jobs, _ = plan_jobs(data, Selection(kinds=("survey",), all_forms=True))
    contexts = [(renderers.docx(renderers.locate(kind, j.community.district)), kind.context(data, j.target))
                for j in jobs]
    forms = sum(len(ctx["households"]) for _, ctx in contexts)
    for compiled, ctx in contexts[:1]:
        compiled.render(ctx)  # compiled outside the timing, as a batch would
    load_before = os.getloadavg()[0]
    best = {"ours": math.inf, "floor": math.inf, "jinja": math.inf}
    payloads: list[bytes] = []
    for _ in range(rounds):
        start = time.perf_counter()
        payloads = [compiled.render(ctx) for compiled, ctx in contexts]
        best["ours"] = min(best["ours"], time.perf_counter() - start)
        start = time.perf_counter()
        _rezip(payloads)
        best["floor"] = min(best["floor"], time.perf_counter() - start)
        start = time.perf_counter()
        for compiled, ctx in contexts:
            frames, compiled.frames = compiled.frames, {}
            try:
                compiled.render(ctx)
            finally:
                compiled.frames = frames
        best["jinja"] = min(best["jinja"], time.perf_counter() - start)
    return {"docs": len(contexts), "forms": forms, "mb": sum(map(len, payloads)) / 2**20, **best,
            "load": (load_before, os.getloadavg()[0])}


def _rezip_files(folder: Path, into: Path) -> float:
    """Seconds to write every .docx and .xlsx under folder again as zip files, read from memory."""
    blobs = [p.read_bytes() for p in sorted(folder.rglob("*")) if p.suffix in (".docx", ".xlsx")]
    into.mkdir()
    start = time.perf_counter()
    for i, payload in enumerate(blobs):
        source = zipfile.ZipFile(io.BytesIO(payload))
        with zipfile.ZipFile(into / f"{i}.zip", "w", zipfile.ZIP_DEFLATED) as target:
            for info in source.infolist():
                target.writestr(info.filename, source.read(info.filename))
    seconds = time.perf_counter() - start
    shutil.rmtree(into)
    return seconds


def build_floor(size: int = 1000, workers: int = 2, rounds: int = 2) -> dict[str, Any]:
    """`gaizao build` + `gaizao report` of a synthetic programme (default, then --all-forms) against
    the floor of rewriting the same zip files in one process; best of `rounds` each, alternated."""
    work = Path(tempfile.mkdtemp(prefix="bench-floor-"))
    try:
        data_dir = make_programme(size, work / "data")
        base = [sys.executable, "-m", "generator", "--data", str(data_dir)]
        load_before = os.getloadavg()[0]
        best = {k: math.inf for k in ("default", "default_floor", "all", "all_floor")}
        counts = {}
        for _ in range(rounds):
            for key, extra in (("default", []), ("all", ["--all-forms"])):
                out = work / f"out-{key}"
                shutil.rmtree(out, ignore_errors=True)
                t1, _ = timed_command([*base, "build", *extra, "--out", str(out), "-q", "-j", str(workers)])
                t2, _ = timed_command([*base, "report", "--out", str(out)])
                best[key] = min(best[key], t1 + t2)
                files = [p for p in out.rglob("*") if p.suffix in (".docx", ".xlsx")]
                counts[key] = (len(files), sum(p.stat().st_size for p in files) / 2**20)
                best[f"{key}_floor"] = min(best[f"{key}_floor"], _rezip_files(out, work / "floor"))
                shutil.rmtree(out)
        return {"size": size, "workers": workers, "rounds": rounds, **best, "counts": counts,
                "load": (load_before, os.getloadavg()[0])}
    finally:
        shutil.rmtree(work)


def _ratio(a: float, b: float) -> str:
    """a ÷ b, cut (never rounded up) to two decimals."""
    return f"{math.floor(a / b * 100) / 100:.2f}×"


@dataclass
class PdfRun:
    """Per-document PDFs of one build, made side by side: one plain LibreOffice batch call, and ours."""

    files: int
    pages: int
    batch: tuple[float, float]
    """Wall and CPU seconds of one `soffice --convert-to pdf` call over all the files."""
    ours: dict[int, tuple[float, float]]
    """Wall and CPU seconds of to_pdf (LibreOffice and the binding and splitting) by number of workers."""
    page_mismatches: int
    text_mismatches: int
    load: tuple[float, float]
    """The machine's load average (1 min) when the run started and ended."""


def _pages(pdf: Path) -> int:
    from pypdf import PdfReader

    return len(PdfReader(pdf).pages)


def _lines(pdf: Path) -> str:
    """The text line by line, without the spaces pdftotext guesses between glyphs."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(text.replace("\t", " ").split(" "))


@contextmanager
def _timed() -> Iterator[list[tuple[float, float]]]:
    """Wall seconds and CPU seconds (this process and the children it waited for) of the block."""
    took: list[tuple[float, float]] = []

    def cpu() -> float:
        me, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime

    wall, used = time.perf_counter(), cpu()
    yield took
    took.append((time.perf_counter() - wall, cpu() - used))


def _staged(paths: list[Path], alone: Path) -> tuple[Path, list[Path]]:
    """Copies of the documents, numbered, in a folder of their own for the plain batch call."""
    alone.mkdir()
    staged = []
    for i, p in enumerate(paths):
        staged.append(alone / f"{i:05d}{p.suffix}")
        shutil.copyfile(p, staged[-1])
    return alone, staged


def _plain_batch(command: str, profile: Path, alone: Path, staged: list[Path]) -> None:
    """One plain `soffice --convert-to pdf` call over the staged copies."""
    from generator.output.pdf import FONTS_CONF

    subprocess.run([command, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                    "--convert-to", "pdf", "--outdir", str(alone), *map(str, staged)],
                   env={**os.environ, "FONTCONFIG_FILE": str(FONTS_CONF)}, capture_output=True, check=True)


def _compared(paths: list[Path], staged: list[Path]) -> tuple[int, int, int]:
    """Pages of the plain batch call's PDFs, and how many of ours differ from them in pages and in text."""
    pages = page_mismatches = text_mismatches = 0
    for p, s in zip(paths, staged, strict=True):
        mine, theirs = p.with_suffix(".pdf"), s.with_suffix(".pdf")
        pages += _pages(theirs)
        page_mismatches += _pages(mine) != _pages(theirs)
        text_mismatches += _lines(mine) != _lines(theirs)
    return pages, page_mismatches, text_mismatches


def pdf_rates(data_dir: Path, workers: tuple[int, ...] = (1, 2), rounds: int = 2) -> PdfRun | None:
    """Per-document PDFs of a whole build: one plain batch call (each document loaded and exported
    on its own) against to_pdf, which binds and splits; every PDF checked against the batch's."""
    from generator.output.pdf import soffice, to_pdf
    from generator.output.pipeline import build

    command = soffice()
    if command is None:
        return None
    out = Path(tempfile.mkdtemp(prefix="bench-pdf-"))
    load_before = os.getloadavg()[0]
    try:
        paths = list(build(load(data_dir), out / "out", Selection()).paths)
        alone, staged = _staged(paths, out / "alone")
        batch, ours = (math.inf, 0.0), {n: (math.inf, 0.0) for n in workers}
        for _ in range(rounds):  # alternated, best of each: the machine's other load comes and goes
            with _timed() as took:
                _plain_batch(command, out / "profile", alone, staged)
            batch = min(batch, took[0])
            for n in workers:
                for p in paths:
                    p.with_suffix(".pdf").unlink(missing_ok=True)
                with _timed() as took:
                    done = to_pdf(paths, workers=n)
                assert not done.failed, done.failed
                ours[n] = min(ours[n], took[0])
        pages, page_mismatches, text_mismatches = _compared(paths, staged)
        return PdfRun(len(paths), pages, batch, ours, page_mismatches, text_mismatches,
                      (load_before, os.getloadavg()[0]))
    finally:
        shutil.rmtree(out)


def pdf_section(run: PdfRun) -> list[str]:
    """The PDF section of RESULTS.md."""
    wall, cpu = run.batch
    lines = [f"## PDF through LibreOffice (one build of the bundled data: {run.files} documents, {run.pages} pages)",
             "", "| approach | seconds | pages/s | vs one batch call | CPU seconds | vs batch CPU |",
             "|---|---:|---:|---:|---:|---:|",
             f"| one `soffice --convert-to pdf` batch call | {wall:.2f} | {run.pages / wall:.1f} | 1.0× "
             f"| {cpu:.2f} | 1.0× |"]
    for n, (seconds, used) in run.ours.items():
        label = "worker" if n == 1 else "workers"
        lines.append(f"| ours, bound by template and split, {n} {label} | {seconds:.2f} | "
                     f"{run.pages / seconds:.1f} | {wall / seconds:.1f}× | {used:.2f} | {cpu / used:.1f}× |")
    lines += ["", f"Every PDF checked against the batch call's: {run.page_mismatches} differ in page count, "
              f"{run.text_mismatches} in text (pdftotext, line by line, spaces between glyphs ignored).",
              f"Load average when the run started and ended: {run.load[0]:.1f}, {run.load[1]:.1f} "
              f"({os.cpu_count()} cores). The three are measured in turn, twice, in one run; the best of each "
              "is shown. CPU seconds count LibreOffice and this process.",
              "Reproduce this section alone: `python -m bench.run --only-pdf`."]
    return lines



def _median(values: list[float]) -> float:
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def warm_rates(data_dir: Path, workers: int = 2, rounds: int = 3, requests: int = 20,
               concurrent: int = 5) -> dict[str, Any] | None:
    """Per-document PDFs of the bundled papers (survey forms aside) made three ways in turn, each
    `rounds` times: one plain batch call, ours with the batch call per worker, ours fed to warm
    LibreOffice (the pool emptied before each round: a command starts its converters); then one
    paper's PDF on demand through to_pdf with the converters warm, `concurrent` calls at a time."""
    from concurrent.futures import ThreadPoolExecutor

    from generator.output import warm
    from generator.output.pdf import soffice, to_pdf
    from generator.output.pipeline import build

    command = soffice()
    if command is None or not warm.available(command):
        return None
    out = Path(tempfile.mkdtemp(prefix="bench-warm-"))
    load_before = os.getloadavg()[0]
    try:
        kinds = tuple(k.key for k in kinds_of("community") if k.key != "survey")
        paths = list(build(load(data_dir), out / "out", Selection(kinds=kinds)).paths)
        alone, staged = _staged(paths, out / "alone")
        times: dict[str, list[float]] = {"plain": [], "batch": [], "warm": []}
        for _ in range(rounds):
            start = time.perf_counter()
            _plain_batch(command, out / "profile", alone, staged)
            times["plain"].append(time.perf_counter() - start)
            for how in ("batch", "warm"):
                warm.stop_all()
                for p in paths:
                    p.with_suffix(".pdf").unlink(missing_ok=True)
                start = time.perf_counter()
                done = to_pdf(paths, workers=workers, warm=how == "warm")
                times[how].append(time.perf_counter() - start)
                assert not done.failed, done.failed
        warm.stop_all()
        pages, page_mismatches, text_mismatches = _compared(paths, staged)
        notice = next(p for p in paths if p.name.startswith(f"{KINDS['notice'].number:02d}"))
        asks = out / "asks"
        asks.mkdir()

        def ask(i: int) -> float:
            folder = asks / str(i)
            folder.mkdir()
            source = folder / notice.name
            shutil.copyfile(notice, source)
            start = time.perf_counter()
            done = to_pdf([source])
            assert done.done and not done.failed, done.failed
            return time.perf_counter() - start

        to_pdf([shutil.copy(notice, asks / notice.name)])  # the converters warm, as a server has them
        with ThreadPoolExecutor(concurrent) as pool:
            latencies = list(pool.map(ask, range(requests)))
        warm.stop_all()
        ordered = sorted(latencies)
        p95 = ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]
        return {"files": len(paths), "pages": pages, "times": times, "rounds": rounds,
                "page_mismatches": page_mismatches, "text_mismatches": text_mismatches,
                "latencies": latencies, "p95": p95, "median_latency": _median(latencies),
                "concurrent": concurrent, "requests": requests, "workers": workers,
                "load": (load_before, os.getloadavg()[0])}
    finally:
        shutil.rmtree(out)


def warm_section(r: dict[str, Any]) -> list[str]:
    """The warm-converter section of RESULTS.md."""
    med = {k: _median(v) for k, v in r["times"].items()}
    plain = med["plain"]
    rows = [("one plain `soffice --convert-to pdf` batch call", "plain"),
            (f"ours, batch call per worker (bound and split), {r['workers']} workers", "batch"),
            (f"ours, warm LibreOffice over UNO (bound and split), {r['workers']} workers", "warm")]
    lines = [f"## Warm LibreOffice over UNO (bundled papers, survey forms aside: {r['files']} documents, "
             f"{r['pages']} pages)", "",
             "| approach | median seconds | all rounds (s) | pages/s | plain batch ÷ this |",
             "|---|---:|---|---:|---:|"]
    for label, key in rows:
        every = ", ".join(f"{t:.2f}" for t in r["times"][key])
        lines.append(f"| {label} | {med[key]:.2f} | {every} | {r['pages'] / med[key]:.1f} "
                     f"| {math.floor(plain / med[key] * 100) / 100:.2f}× |")
    lines += ["", f"Warm against our batch path: {math.floor(med['batch'] / med['warm'] * 100) / 100:.2f}× "
              "(median against median). Every warm PDF checked against the plain batch call's: "
              f"{r['page_mismatches']} differ in page count, {r['text_mismatches']} in text.",
              "", f"One paper (改造方案公示) on demand through `to_pdf`, converters warm: {r['requests']} calls, "
              f"{r['concurrent']} at a time: median {r['median_latency']:.2f} s, p95 {r['p95']:.2f} s, "
              f"max {max(r['latencies']):.2f} s.",
              "", f"The three ways alternate, {r['rounds']} rounds in one run; the pool is emptied before each warm "
              "round, so its LibreOffice start is counted as a command's is. Ratios are not rounded up. "
              f"Load average (1 min) at the start and end: {r['load'][0]:.1f}, {r['load'][1]:.1f} "
              f"({os.cpu_count()} cores).",
              "Reproduce this section alone: `python -m bench.run --only-warm`."]
    return lines


SURVEY_WAYS = {
    "flat ODF, batch": {"GAIZAO_PDF_ODF": "1", "GAIZAO_WARM_PDF": "0"},
    "Word, batch": {"GAIZAO_PDF_ODF": "0", "GAIZAO_WARM_PDF": "0"},
    "flat ODF, warm": {"GAIZAO_PDF_ODF": "1", "GAIZAO_WARM_PDF": "always"},
}
"""How the bound survey file's pieces are handed to LibreOffice: as flat ODF filled per section (the
default) or as Word, to a LibreOffice started per batch or to warm ones fed over UNO."""


def _children_cpu() -> float:
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def survey_print(data_dir: Path, workers: int = 2, rounds: int = 2) -> dict[str, Any]:
    """The largest district's bound survey file with its PDF (`gaizao print --kind survey --all-forms
    --district D --pdf`: every community's forms, as the earlier figures counted them), each way of
    SURVEY_WAYS in turn, best of `rounds` each: wall and CPU seconds (the command and its LibreOffice;
    a warm LibreOffice is stopped, not waited for by its parent, so its CPU is not counted: None)."""
    data = load(data_dir)
    district = max(data.districts, key=lambda d: sum(
        c.households for c in data.active_communities() if c.district == d and c.id in data.projects))
    out = Path(tempfile.mkdtemp(prefix="bench-print-"))
    load_before = os.getloadavg()[0]
    best = {how: math.inf for how in SURVEY_WAYS}
    cpu = {how: math.inf for how in SURVEY_WAYS}
    pages = 0
    saved = {name: os.environ.get(name) for name in ("GAIZAO_PDF_ODF", "GAIZAO_WARM_PDF")}
    try:
        for _ in range(rounds):
            for how, setting in SURVEY_WAYS.items():
                shutil.rmtree(out / "out", ignore_errors=True)
                os.environ.update(setting)
                used = _children_cpu()
                try:
                    seconds, _ = timed_command([sys.executable, "-m", "generator", "--data", str(data_dir), "print",
                                                "--kind", "survey", "--all-forms", "--district", district,
                                                "--out", str(out / "out"), "-q", "--pdf", "-j", str(workers)])
                finally:
                    for name, value in saved.items():
                        if value is None:
                            os.environ.pop(name, None)
                        else:
                            os.environ[name] = value
                best[how] = min(best[how], seconds)
                cpu[how] = min(cpu[how], _children_cpu() - used)
                pages = _pages(next((out / "out" / "打印").rglob("*.pdf")))
        counted = {how: None if SURVEY_WAYS[how]["GAIZAO_WARM_PDF"] == "always" else used
                   for how, used in cpu.items()}
        return {"district": district, "pages": pages, "wall": best, "cpu": counted,
                "load": (load_before, os.getloadavg()[0])}
    finally:
        shutil.rmtree(out)


def speed_table(out: Path | None = None) -> list[str]:
    """Each row of the speed targets measured in one run, best of two, with the machine's load."""
    lines: list[str] = []

    def say(line: str) -> None:
        lines.append(line)
        print(line, flush=True)
        if out is not None:
            out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    started = os.getloadavg()
    say(f"Load average (1, 5, 15 min) at the start: {started[0]:.1f}, {started[1]:.1f}, {started[2]:.1f} "
        f"({os.cpu_count()} cores).")
    survey = survey_floor(BUNDLED)
    say(f"- survey forms (bundled, --all-forms: {survey['docs']} documents, {survey['forms']:,} forms, "
        f"{survey['mb']:.1f} MB): ours {survey['ours']:.2f} s, zip floor {survey['floor']:.2f} s "
        f"({_ratio(survey['ours'], survey['floor'])}), Jinja per household {survey['jinja']:.2f} s "
        f"({_ratio(survey['jinja'], survey['floor'])}); load {survey['load'][0]:.1f}–{survey['load'][1]:.1f}")
    pdfs = warm_rates(BUNDLED, rounds=2)
    if pdfs is not None:
        best = {k: min(v) for k, v in pdfs["times"].items()}
        say(f"- per-document PDFs ({pdfs['files']} documents, {pdfs['pages']} pages): plain batch "
            f"{best['plain']:.2f} s, ours batch {best['batch']:.2f} s ({_ratio(best['plain'], best['batch'])}), "
            f"ours warm {best['warm']:.2f} s ({_ratio(best['plain'], best['warm'])}); rounds "
            + "; ".join(f"{k} " + ", ".join(f"{t:.2f}" for t in v) for k, v in pdfs["times"].items())
            + f"; {pdfs['page_mismatches']} differ in pages, {pdfs['text_mismatches']} in text; "
            f"load {pdfs['load'][0]:.1f}–{pdfs['load'][1]:.1f}")
        say(f"- one paper on demand, {pdfs['requests']} calls {pdfs['concurrent']} at a time: median "
            f"{pdfs['median_latency']:.2f} s, p95 {pdfs['p95']:.2f} s, max {max(pdfs['latencies']):.2f} s")
    printed = survey_print(BUNDLED)
    say(f"- bound survey file ({printed['district']}, {printed['pages']:,} pages): " + "; ".join(
        f"{how} {printed['wall'][how]:.2f} s ({math.floor(printed['pages'] / printed['wall'][how] * 10) / 10:.1f} "
        "pages/s" + (f", {printed['cpu'][how]:.1f} CPU s)" if printed["cpu"][how] is not None else ")")
        for how in SURVEY_WAYS)
        + f"; load {printed['load'][0]:.1f}–{printed['load'][1]:.1f}")
    built = build_floor(1000)
    for key, label in (("default", "default"), ("all", "--all-forms")):
        files, mb = built["counts"][key]
        say(f"- build + report of 1,000 communities, {label} ({files:,} files, {mb:.0f} MB): "
            f"{built[key]:.2f} s, floor {built[key + '_floor']:.2f} s ({_ratio(built[key], built[key + '_floor'])})")
    ended = os.getloadavg()
    say(f"Load average at the end: {ended[0]:.1f}, {ended[1]:.1f}, {ended[2]:.1f}.")
    return lines


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


def survey_forms(data_dir: Path, workers: int) -> dict[str, Any]:
    """One 入户意见征询表 per household of every community as Word documents, then the largest
    district's bound survey file with its PDF (`gaizao print --kind survey --district D --pdf`:
    the layout pass and the PDF, which reuses the pieces the layout pass converted). --all-forms
    throughout: the forms of communities already surveyed too, as every earlier figure counted them."""
    data = load(data_dir)
    forms = sum(c.households for c in data.active_communities() if c.id in data.projects)
    district = max(data.districts, key=lambda d: sum(
        c.households for c in data.active_communities() if c.district == d and c.id in data.projects))
    out = Path(tempfile.mkdtemp(prefix="bench-survey-"))
    try:
        base = [sys.executable, "-m", "generator", "--data", str(data_dir)]
        load_before = os.getloadavg()[0]
        seconds, peak = timed_command([*base, "build", "--kind", "survey", "--all-forms", "--out", str(out), "-q",
                                       "-j", str(workers)])
        docs = sum(1 for _ in out.rglob("*.docx"))
        with _timed() as took:
            print_seconds, print_peak = timed_command([*base, "print", "--kind", "survey", "--all-forms",
                                                       "--district", district, "--out", str(out), "-q", "--pdf",
                                                       "-j", str(workers)])
        bound = next((out / "打印").rglob("*.pdf"))
        district_forms = sum(c.households for c in data.active_communities()
                             if c.district == district and c.id in data.projects)
        return {"forms": forms, "docs": docs, "seconds": seconds, "peak": peak, "pages": _pages(bound),
                "print_seconds": print_seconds, "print_cpu": took[0][1], "print_peak": print_peak,
                "district_forms": district_forms, "load_before": load_before, "load_after": os.getloadavg()[0],
                "district": district}
    finally:
        shutil.rmtree(out)


def survey_lines(workers: int) -> list[str]:
    """The household survey section of the results, on the bundled data."""
    r = survey_forms(BUNDLED, workers)
    return [
        f"## Household survey forms (bundled data, {workers} workers)", "",
        "| step | measured |", "|---|---|",
        f"| 入户意见征询表, one per household, as Word documents (`gaizao build --kind survey -j {workers}`) "
        f"| {r['forms']:,} forms in {r['docs']} documents, {r['seconds']:.2f} s wall "
        f"({r['forms'] / r['seconds']:.0f} forms/s), peak {r['peak']:.0f} MiB (PSS of all processes) |",
        f"| one district's bound survey file with its PDF (`gaizao print --kind survey --district "
        f"{r['district']} --pdf -j {workers}`: layout pass, then the PDF) | {r['district_forms']:,} forms, "
        f"{r['pages']:,} pages in {r['print_seconds']:.2f} s wall ({r['pages'] / r['print_seconds']:.1f} pages/s), "
        f"{r['print_cpu']:.2f} CPU seconds ({r['pages'] / r['print_cpu']:.1f} pages per CPU second), "
        f"peak {r['print_peak']:.0f} MiB |",
        "", f"Load average (1 min) when the section started and ended: {r['load_before']:.1f}, "
        f"{r['load_after']:.1f} ({os.cpu_count()} cores).",
        "Reproduce this section alone: `python -m bench.run --only-survey`.",
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
    parser.add_argument("--only-pdf", action="store_true",
                        help="measure only the PDF step and replace that section of --out")
    parser.add_argument("--only-warm", action="store_true",
                        help="measure only the warm converter against the batch calls and print its section")
    parser.add_argument("--only-speed", action="store_true",
                        help="measure each row of the speed targets in one run and print them")
    args = parser.parse_args()
    if args.only_speed:
        speed_table(Path(tempfile.gettempdir()) / "gaizao-speed.txt")
        return
    if args.only_warm:
        measured = warm_rates(BUNDLED)
        if measured is None:
            sys.exit("LibreOffice or its uno module (python3-uno) is not installed")
        print("\n".join(warm_section(measured)))
        return
    if args.only_survey:
        print("\n".join(survey_lines(args.workers)))
        return
    if args.only_pdf:
        replace_pdf_section(args.out)
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
            data_dir = BUNDLED if size == 30 else \
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
        pdf = pdf_rates(BUNDLED)
        if pdf is not None:
            lines += ["", *pdf_section(pdf)]
            print(lines[-6:], flush=True)
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


def replace_pdf_section(results: Path) -> None:
    """Measure the PDF step and put its section into an existing RESULTS.md, the rest kept."""
    run = pdf_rates(BUNDLED)
    if run is None:
        sys.exit("LibreOffice is not installed")
    section = "\n".join(pdf_section(run)) + "\n"
    text = results.read_text(encoding="utf-8")
    start = text.index("## PDF through LibreOffice")
    end = text.index("\n## ", start + 1) + 1
    results.write_text(text[:start] + section + "\n" + text[end:], encoding="utf-8")
    print(section)


if __name__ == "__main__":
    main()

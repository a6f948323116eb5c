"""PDF through LibreOffice headless: documents bound per worker, converted in one go, split back.

Each worker is one LibreOffice process with its own temporary profile and its own process group,
so that a LibreOffice that hangs is stopped whole (soffice.bin included). A run that makes no
progress for a while is stopped and named; after two such stalls in a row, or past the step's
total time, the rest is named as not converted instead of waited for. For a few files, where
LibreOffice's uno module is there, a worker feeds them to a LibreOffice kept running
(generator.output.warm) instead of starting one.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import shutil
import tempfile
import threading
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any

from lxml import etree

from generator.errors import GaizaoError, OutputError
from generator.output import binding, office
from generator.output.binding import w
from generator.output.fonts import FONTS_CONF  # noqa: F401 - read here by the tests and the bench
from generator.output.office import kill as _kill
from generator.output.office import profile as _profile
from generator.output.writer import Entry, Output, atomic_write, os_reason, sha256

SECONDS_PER_FILE = 60
"""No new PDF for this long (plus SECONDS_PER_DOCUMENT for each document bound into the file
being converted): LibreOffice is taken to hang."""
SECONDS_PER_DOCUMENT = 2
SECONDS_PER_MB = 20
"""A large file (a bound print file of a thousand notices) is given time by its size as well."""
TOTAL_SECONDS = 120
"""The whole step's cap: this plus TOTAL_PER_DOCUMENT for each document."""
TOTAL_PER_DOCUMENT = 5
PIECE_WEIGHT = 8
"""A piece of a long file counts as this many documents towards the total time."""
UNITS_PER_RUN = 12
"""Files one LibreOffice process converts before a fresh one takes over."""
BIND_AT_MOST = 48
"""Documents bound into one file: enough to pay LibreOffice's per-file cost once for many, few
enough to share the work out among the workers."""
INSTALL_HINT = (
    "未找到 LibreOffice，无法转换 PDF（Word/Excel 文件已照常生成）。"
    "请安装：sudo apt-get install libreoffice-writer-nogui libreoffice-calc-nogui fonts-noto-cjk"
)
PDF_A = "PDF/A-2b"
WARM_UNITS = 64
"""Files to convert (after binding) up to which a warm LibreOffice is used by default. On a quiet
hour (bench/RESULTS.md) the bundled papers' 130 documents, 53 files once bound, took 8.47 s warm
against 10.34 s with a LibreOffice started per batch; a district's bound survey file, 106 pieces,
took 47.43 s warm against 44.93 s per batch. A warm one also serves a process that asks again
and again (the web server's single-document PDFs)."""
WARM_SETTING = "GAIZAO_WARM_PDF"
"""The environment variable that turns warm conversion off (0, see warm.available) or, set to
"always", uses it for a run of any length (to measure one way against the other: bench/run.py)."""
ODF_SETTING = "GAIZAO_PDF_ODF"
"""The environment variable that, set to 0, hands every piece of a long file to LibreOffice as
Word (to measure one way against the other: bench/run.py)."""
CANNOT_JOIN = binding.CANNOT_SPLIT
"""What join() raises on a piece it cannot read."""


class NoLibreOffice(GaizaoError):
    """LibreOffice is not installed."""


@dataclass
class Conversion:
    """What a PDF step did: PDFs made, PDFs already up to date, sources that failed and why."""

    done: list[Path] = field(default_factory=list)
    failed: dict[Path, str] = field(default_factory=dict)
    unchanged: list[Path] = field(default_factory=list)
    stopped: str | None = None
    """A fault that stopped the step (the disk is full); what was not converted is in `failed`."""


def soffice() -> str | None:
    """The LibreOffice command, if installed (on Windows its installer does not put it on PATH)."""
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None and os.name == "nt":
        for base in (os.environ.get("ProgramFiles"), os.environ.get("ProgramFiles(x86)")):
            program = Path(base, "LibreOffice", "program", "soffice.exe") if base else None
            if program is not None and program.is_file():
                return str(program)
    return found


def problem(data: bytes) -> str | None:
    """Why these bytes are not a usable PDF, or None."""
    if not data:
        return "生成的 PDF 为空（0 字节）"
    if not data.startswith(b"%PDF-"):
        return "生成的文件不是 PDF"
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        if len(PdfReader(io.BytesIO(data)).pages) == 0:
            return "生成的 PDF 没有页面"
    except (PyPdfError, ValueError, KeyError, TypeError, OSError):
        return "生成的 PDF 已损坏，无法读取"
    return None


@dataclass
class _Unit:
    """One file handed to LibreOffice: a document, or several bound into one."""

    sources: list[Path]
    staged: Path
    bound: bool
    piece: tuple[int, str] | None = None
    """A piece of a long file (see pieces): its place and the hash of its bytes."""
    word: bytes | None = None
    """The piece as a Word file, when it is staged as .fodt (converted instead if that fails)."""

    def allowance(self, timeout: float) -> float:
        """Seconds without a new PDF after which LibreOffice is taken to hang on this unit."""
        try:
            size = self.staged.stat().st_size
        except OSError:
            size = 0
        return timeout + SECONDS_PER_DOCUMENT * (len(self.sources) - 1) + SECONDS_PER_MB * size / 2**20


class _Worker:
    """One LibreOffice process at a time converting a share of the units, in order."""

    def __init__(self, command: str, folder: Path, archival: bool, timeout: float, deadline: float,
                 stop: threading.Event, finish: Callable[[_Unit, bytes], list[_Unit]],
                 fail: Callable[[Path, str], None], warm: bool = False):
        self.command, self.folder, self.timeout, self.deadline = command, folder, timeout, deadline
        self.archival = archival
        self.profile = _profile(folder / "profile", archival)  # never the clerk's own profile
        self.outbox = folder / "out"
        self.outbox.mkdir()
        self.stop, self.finish, self.fail = stop, finish, fail
        self.warm = warm
        self.converter: Any = None
        """The warm LibreOffice (warm.Converter) this worker feeds, while it converts."""

    def _pdf(self, unit: _Unit) -> Path:
        return self.outbox / f"{unit.staged.stem}.pdf"

    def _run(self, units: list[_Unit]) -> tuple[str, int]:
        """Run LibreOffice over the units: how it ended (exited, hung, overran, stopped) and the
        index of the first unit without a PDF."""
        if self.converter is not None:
            return self._feed(units)
        proc = office.convert(self.command, self.profile, "pdf", self.outbox, [u.staged for u in units])
        current, since = 0, time.monotonic()
        try:
            while True:
                exited = proc.poll() is not None
                while current < len(units) and self._pdf(units[current]).exists():
                    current, since = current + 1, time.monotonic()
                if exited:
                    return "exited", current
                now = time.monotonic()
                if self.stop.is_set():
                    return "stopped", current
                if now > self.deadline:
                    return "overran", current
                if current < len(units) and now - since > units[current].allowance(self.timeout):
                    return "hung", current
                time.sleep(0.1)
        finally:
            _kill(proc)  # also after a normal exit: nothing it started may outlive it

    def _feed(self, units: list[_Unit]) -> tuple[str, int]:
        """The units handed one by one to the warm LibreOffice, ended as _run's batch call ends."""
        from generator.output.warm import Hung, StartFailed

        refused = None
        for index, unit in enumerate(units):
            if self.stop.is_set():
                return "stopped", index
            if time.monotonic() > self.deadline:
                return "overran", index
            try:
                why = self.converter.convert(unit.staged, self._pdf(unit), unit.allowance(self.timeout))
            except Hung:
                return "hung", index
            except StartFailed:  # the batch call for the rest of this worker's share
                self.converter = None
                how, current = self._run(units[index:])
                return how, index + current
            if why is not None:
                self._pdf(unit).unlink(missing_ok=True)
                refused = index if refused is None else refused
        return "exited", len(units) if refused is None else refused

    def convert(self, units: list[_Unit]) -> None:
        """Convert every unit, or name why not: fed to a warm LibreOffice when there is one."""
        if not self.warm:
            self._convert(units)
            return
        from generator.output import warm

        try:
            with warm.converter(self.command, self.archival) as converter:
                self.converter = converter
                self._convert(units)
        except warm.Busy as exc:  # refused before any unit was fed: a LibreOffice more would not help
            self._give_up(units, str(exc))
        finally:
            self.converter = None

    def _convert(self, units: list[_Unit]) -> None:
        pending, stalls = list(units), 0
        while pending and not self.stop.is_set():
            if time.monotonic() > self.deadline:
                self._give_up(pending, "超过 PDF 转换的总时限，未转换")
                return
            # A LibreOffice process slows down over a long run (a piece takes a fifth longer
            # after thirty): a fresh one every UNITS_PER_RUN files.
            batch, later = pending[:UNITS_PER_RUN], pending[UNITS_PER_RUN:]
            how, current = self._run(batch)
            # A PDF is complete once LibreOffice has gone on to the next file or has exited.
            complete = current if how != "exited" else len(batch)
            again: list[_Unit] = []
            finished: set[int] = set()
            for index, unit in enumerate(batch[:complete]):
                pdf = self._pdf(unit)
                if pdf.exists():
                    again += self.finish(unit, pdf.read_bytes())
                    pdf.unlink()
                    finished.add(index)
            if how == "stopped":
                return
            if how == "overran":
                self._give_up(batch[current:] + later, "超过 PDF 转换的总时限，未转换")
                return
            rest = [u for i, u in enumerate(batch) if i > current and i not in finished] + later
            if current:
                stalls = 0  # a stall counts as in a row only with nothing converted between
            if current < len(batch):
                culprit = batch[current]
                if how == "hung":
                    self._give_up([culprit], f"LibreOffice 无响应（{culprit.allowance(self.timeout):.0f} 秒无进展），"
                                             "已终止")
                    stalls += 1
                    if stalls >= 2:
                        self._give_up(again + rest, "LibreOffice 连续无响应，未转换")
                        return
                elif culprit.word is not None:  # the piece as LibreOffice's own format: as Word then
                    staged = culprit.staged.with_suffix(".docx")
                    staged.write_bytes(culprit.word)
                    again.append(replace(culprit, staged=staged, word=None))
                elif culprit.bound:
                    again += _singles(culprit)  # one of them may be what LibreOffice refused
                else:
                    self.fail(culprit.sources[0], "LibreOffice 未能转换此文件")
            pending = again + rest

    def _give_up(self, units: list[_Unit], reason: str) -> None:
        for unit in units:
            for source in unit.sources:
                self.fail(source, reason)


def _singles(unit: _Unit) -> list[_Unit]:
    """The documents of a bound unit, to convert one by one."""
    out = []
    for index, source in enumerate(unit.sources):
        staged = unit.staged.with_name(f"{unit.staged.stem}-{index:05d}{source.suffix}")
        shutil.copyfile(source, staged)
        out.append(_Unit([source], staged, bound=False))
    return out


_FILLERS: dict[str, Any] = {}
"""A filler (odf.Filler) per LibreOffice command: the print's layout pass and its PDF pass fill
the same shapes."""
_FILLERS_LOCK = threading.Lock()
SHAPES_KEPT = 16
"""Converted shapes kept between calls; more are forgotten (a long-running web server)."""


def _filler(command: str) -> Any:
    """The odf.Filler of this LibreOffice, its shapes forgotten when they are many."""
    from generator.output.odf import Filler

    with _FILLERS_LOCK:
        filler = _FILLERS.get(command)
        if filler is None or len(filler.templates) > SHAPES_KEPT:
            filler = _FILLERS[command] = Filler(command)
        return filler


def _plan(files: Sequence[Path], inbox: Path, workers: int, archival: bool,
          assembly: dict[Path, list[bytes | None]], kept: dict[str, bytes] | None,
          command: str | None = None) -> list[list[_Unit]]:
    """Units for each worker: documents that differ only in their text bound in even chunks, long
    files in pieces (their PDFs gathered in assembly, those in kept taken from there; each as
    .fodt where odf can fill it, given the LibreOffice command), the rest one by one; shared out
    so that each worker gets about as many documents."""
    groups: dict[str, list[Path]] = {}
    units: list[_Unit] = []
    filler = _filler(command) if command is not None and os.environ.get(ODF_SETTING, "1") != "0" else None

    def alone(source: Path) -> None:
        cut = None if archival else pieces(source, SECTIONS_PER_PIECE)  # joined PDFs are not PDF/A
        if cut is None:
            staged = inbox / f"s{len(units):05d}{source.suffix}"
            shutil.copyfile(source, staged)
            units.append(_Unit([source], staged, bound=False))
            return
        assembly[source] = [None] * len(cut)
        for index, data in enumerate(cut):
            digest = hashlib.sha256(data).hexdigest()
            if kept is not None and digest in kept:
                assembly[source][index] = kept[digest]
                continue
            cut_up = sections(data) if filler is not None else None
            flat = filler.piece(*cut_up) if filler is not None and cut_up is not None else None
            staged = inbox / f"p{len(units):05d}{'.docx' if flat is None else '.fodt'}"
            staged.write_bytes(data if flat is None else flat)
            units.append(_Unit([source], staged, bound=False, piece=(index, digest),
                               word=None if flat is None else data))

    for source in files:
        key = None if archival else binding.shell(source)
        if key is None:
            alone(source)
        else:
            groups.setdefault(key, []).append(source)
    for members in groups.values():
        if len(members) == 1:
            alone(members[0])
            continue
        chunks = min(len(members) // 2 or 1, workers * math.ceil(len(members) / BIND_AT_MOST / workers))
        size = math.ceil(len(members) / chunks)
        for start in range(0, len(members), size):
            chunk = members[start:start + size]
            staged = inbox / f"b{len(units):05d}.docx"
            try:
                staged.write_bytes(binding.bind(chunk))
            except binding.CANNOT_BIND:
                units += _singles(_Unit(chunk, staged, bound=True))  # converted one by one instead
                continue
            units.append(_Unit(chunk, staged, bound=len(chunk) > 1))
    shares: list[list[_Unit]] = [[] for _ in range(max(1, workers))]
    loads = [0] * len(shares)
    for unit in sorted(units, key=lambda u: -len(u.sources)):
        least = loads.index(min(loads))
        shares[least].append(unit)
        loads[least] += len(unit.sources)
    return [s for s in shares if s]


def convert(files: Sequence[Path], deliver: Callable[[Path, bytes], None], *,
            on_done: Callable[[Path], None] = lambda p: None, workers: int = 1,
            timeout: float | None = None, total: float | None = None,
            archival: bool = False,
            unjoined: Callable[[Path, list[bytes]], None] | None = None,
            warm: bool | None = None) -> Conversion:
    """Convert each file to PDF bytes handed to deliver(source, pdf); what fails is named.

    unjoined: a file converted in pieces is handed to it as the pieces' PDFs, in order, instead
    of joined (the print's layout pass only reads where each document starts).

    deliver may raise OutputError (the disk is full): the step then stops, what was not
    converted is named, and the error is in `stopped`. timeout and total default to
    SECONDS_PER_FILE and TOTAL_SECONDS + TOTAL_PER_DOCUMENT per file.

    warm: feed the documents to LibreOffice processes kept running (generator.output.warm);
    None does so for at most WARM_UNITS files to convert when LibreOffice's uno module is there
    (the web's PDF of one document), the batch call otherwise.
    """
    command = soffice()
    if command is None:
        raise NoLibreOffice(INSTALL_HINT)
    result = Conversion()
    if not files:
        return result
    lock = threading.Lock()
    stop = threading.Event()
    kept = _KEPT.get()  # read here: the worker threads do not share this context
    assembly: dict[Path, list[bytes | None]] = {}
    began = time.monotonic()

    def fail(source: Path, reason: str) -> None:
        with lock:
            result.failed.setdefault(source, reason)

    def hand(source: Path, handing: Callable[[], None]) -> None:
        """Hand a converted file on (unless the step stopped) and count it done."""
        with lock:
            if stop.is_set():
                return
            try:
                handing()
            except OutputError as exc:
                result.stopped = str(exc)
                stop.set()
                return
            result.done.append(source.with_suffix(".pdf"))
            on_done(source)

    def give(source: Path, data: bytes) -> None:
        reason = problem(data)
        if reason:
            fail(source, reason)
            return
        hand(source, lambda: deliver(source, data))

    def assemble(source: Path, parts: Sequence[bytes | None]) -> None:
        pdfs = [p for p in parts if p is not None]
        if unjoined is not None:  # each piece was checked as it came
            hand(source, lambda: unjoined(source, pdfs))
            return
        try:
            give(source, join(pdfs))
        except CANNOT_JOIN:
            fail(source, "PDF 各部分无法合并")

    def finish(unit: _Unit, pdf: bytes) -> list[_Unit]:
        """Hand on a unit's PDF (split by document when bound, joined when a piece); units to
        convert again."""
        if unit.piece is not None:
            source, (index, digest) = unit.sources[0], unit.piece
            reason = problem(pdf)
            if reason:
                fail(source, reason)
                return []
            with lock:
                if kept is not None:
                    kept[digest] = pdf
                assembly[source][index] = pdf
                whole = assembly[source]
                if any(part is None for part in whole):
                    return []
                del assembly[source]
            assemble(source, whole)
            return []
        if not unit.bound:
            give(unit.sources[0], pdf)
            return []
        try:
            parts = binding.split(pdf, len(unit.sources)) if problem(pdf) is None else None
        except binding.CANNOT_SPLIT:
            parts = None
        if parts is None:
            return _singles(unit)
        for source, part in zip(unit.sources, parts, strict=True):
            give(source, part)
        return []

    with tempfile.TemporaryDirectory(prefix="gaizao-lo-") as tmp:
        inbox = Path(tmp) / "in"
        inbox.mkdir()
        try:
            shares = _plan(files, inbox, workers, archival, assembly, kept, command)
            for source, parts in list(assembly.items()):
                if all(part is not None for part in parts):  # every piece converted before
                    del assembly[source]
                    assemble(source, parts)
        except OSError as exc:
            raise OutputError(f"无法准备 PDF 转换（临时文件夹 {tmp}）：{os_reason(exc)}") from None
        # A piece of a long file holds the pages of many short documents: it is given their time.
        if warm is None:  # a long run gains nothing from a warm LibreOffice (WARM_UNITS)
            from generator.output.warm import available

            always = os.environ.get(WARM_SETTING) == "always"
            warm = (always or sum(len(share) for share in shares) <= WARM_UNITS) and available(command)
        count = len(files) + PIECE_WEIGHT * sum(1 for share in shares for u in share if u.piece is not None)
        deadline = began + (total if total is not None else TOTAL_SECONDS + TOTAL_PER_DOCUMENT * count)
        crew = []
        for index, share in enumerate(shares):
            folder = Path(tmp) / f"w{index}"
            folder.mkdir()
            stall = SECONDS_PER_FILE if timeout is None else timeout
            crew.append((_Worker(command, folder, archival, stall, deadline, stop, finish, fail, warm), share))
        threads = [threading.Thread(target=_guarded, args=(w, share, fail)) for w, share in crew]
        for thread in threads:
            thread.start()
        try:
            for thread in threads:
                thread.join()
        except BaseException:
            stop.set()  # interrupted: the workers stop their LibreOffice before the folder goes
            for thread in threads:
                thread.join()
            raise
    if result.stopped:
        for source in files:
            if source.with_suffix(".pdf") not in result.done:
                result.failed.setdefault(source, "未转换")
    order = {f.with_suffix(".pdf"): i for i, f in enumerate(files)}
    result.done.sort(key=lambda pdf: order.get(pdf, 0))
    return result


def _guarded(worker: _Worker, share: list[_Unit], fail: Callable[[Path, str], None]) -> None:
    """A worker whose own failure (no space for LibreOffice's files) names its documents."""
    try:
        worker.convert(share)
    except OSError as exc:
        for unit in share:
            for source in unit.sources:
                fail(source, f"PDF 转换出错：{os_reason(exc)}")


def to_pdf(files: Sequence[Path], on_done: Callable[[Path], None] = lambda p: None,
           timeout: float | None = None, workers: int = 1, total: float | None = None,
           archival: bool = False, warm: bool | None = None) -> Conversion:
    """Convert each file to a PDF beside it (no manifest); files that fail are named, the rest go on."""

    def beside(source: Path, data: bytes) -> None:
        target = source.with_suffix(".pdf")
        try:
            atomic_write(target, data)
        except OSError as exc:
            raise OutputError(f"无法写入 {target}：{os_reason(exc, target)}") from None

    return convert(files, beside, on_done=on_done, workers=workers, timeout=timeout, total=total,
                   archival=archival, warm=warm)


def pdf_rel(rel: str) -> str:
    """Where a document's PDF goes, relative to the output folder."""
    return str(PurePosixPath(rel).with_suffix(".pdf"))


def made_from(source: bytes, archival: bool) -> str:
    """The manifest's data hash of a PDF: the exact bytes of its document, and the PDF flavour."""
    return hashlib.sha256(source).hexdigest() + (f"+{PDF_A}" if archival else "")


def convert_outputs(output: Output, rels: Sequence[str], *, on_done: Callable[[Path], None] = lambda p: None,
                    workers: int = 1, timeout: float | None = None, total: float | None = None,
                    archival: bool = False, warm: bool | None = None) -> Conversion:
    """The PDF of each document of an output session, recorded in its manifest.

    Call it while the session holds the lock. A PDF made from exactly the document's present
    bytes is left alone; one the tool did not make, or changed by hand, is not replaced
    without --force (named as failed instead).
    """
    root = output.root
    todo: list[Path] = []
    entries: dict[Path, Entry] = {}
    skipped = Conversion()
    for rel in rels:
        source = root / rel
        made = output.written.get(rel) or output.known.get(rel)
        target_rel = pdf_rel(rel)
        target = root / target_rel
        try:
            dhash = made_from(source.read_bytes(), archival)
        except OSError as exc:
            skipped.failed[source] = f"无法读取：{os_reason(exc, source)}"
            continue
        known = output.known.get(target_rel)
        if known is not None and known.data_hash == dhash and target.is_file() \
                and sha256(target.read_bytes()) == known.sha256:
            output.written[target_rel] = known
            skipped.unchanged.append(target)
            on_done(source)
            continue
        try:
            output.check_writable(target_rel)
        except OutputError as exc:
            skipped.failed[source] = str(exc)
            continue
        entries[source] = Entry(
            path=target_rel, kind=made.kind if made else "", kind_name=f"{made.kind_name} PDF" if made else "PDF",
            community=made.community if made else "", district=made.district if made else "",
            year=made.year if made else None, template=rel, sha256="", data_hash=dhash,
        )
        todo.append(source)

    def record(source: Path, data: bytes) -> None:
        output.write(replace(entries[source], sha256=sha256(data)), data)

    result = convert(todo, record, on_done=on_done, workers=workers, timeout=timeout, total=total,
                     archival=archival, warm=warm) if todo else Conversion()
    result.unchanged = skipped.unchanged
    result.failed = {**skipped.failed, **result.failed}
    return result




# ---------------------------------------------------------------- long files in pieces

SECTIONS_PER_PIECE = 32
"""LibreOffice's time per page grows with the file (a survey file of 200 two-page forms takes
about four times as long per page as one of 25): a long file of many sections is converted in
pieces of at most this many sections, in one LibreOffice process, and the PDFs joined."""
_NUMBERED = re.compile(rb'<w:style\b[^>]*w:styleId="([^"]+)"(?:(?!</w:style>).)*?<w:numPr>', re.S)
_CROSSING = re.compile(rb"<w:numPr>|<w:footnoteReference|<w:endnoteReference|<w:sectPrChange|<w:sectPr/>")
"""What pieces() does not cut: lists and notes numbered across sections, and section properties
it cannot read as text (a recorded change of them, an empty one)."""
_KEPT: ContextVar[dict[str, bytes] | None] = ContextVar("gaizao_pdf_pieces", default=None)


@contextmanager
def reusing_pieces() -> Iterator[None]:
    """Within the block, a piece converted once is not converted again: the print command lays a
    file out, then converts it again with only its contents page changed."""
    token = _KEPT.set({})
    try:
        yield
    finally:
        _KEPT.reset(token)


def _restarts(sect: etree._Element, refs: set[tuple[str, str]]) -> bool:
    """Whether a section begins a new page numbered from an odd number with every header and
    footer of its own: what comes before it cannot change its layout."""
    kind = sect.find(w("type"))
    kind_val = kind.get(w("val")) if kind is not None else "nextPage"
    number = sect.find(w("pgNumType"))
    start = number.get(w("start")) if number is not None else None
    own = {(r.tag, r.get(w("type"), "default")) for r in sect if r.tag in (w("headerReference"),
                                                                         w("footerReference"))}
    return (kind_val in ("nextPage", "oddPage") and start is not None and start.isdigit()
            and int(start) % 2 == 1 and refs <= own)


_SECT = re.compile(rb"<w:sectPr\b.*?</w:sectPr>", re.S)
_PARAGRAPH_TAG = re.compile(binding.PARAGRAPH_TAG.encode())


def _paragraph_end(document: bytes, at: int) -> int:
    """Where the paragraph that holds position `at` (inside its properties) ends: past its
    </w:p>, counting the paragraphs of a text box inside it."""
    depth = 1
    for tag in _PARAGRAPH_TAG.finditer(document, at):
        if tag[0].startswith(b"</"):
            depth -= 1
            if depth == 0:
                return tag.end()
        elif not tag[1]:
            depth += 1
    raise ValueError("unclosed paragraph")


def _element(xml: bytes, head: bytes) -> etree._Element:
    """A fragment of the document parsed with the namespaces its root element declares."""
    root = head[head.index(b"<w:document"):]
    return etree.fromstring(root + xml + b"</w:document>")[-1]


def pieces(path: Path, at_most: int = SECTIONS_PER_PIECE) -> list[bytes] | None:
    """A Word file of more than at_most sections, cut where a section restarts its page numbers,
    as .docx files converted one after the other give the pages of the whole; None when it is
    short or cannot be cut (numbered lists, notes or page-count fields run across sections).

    The document's XML is cut as text at the section breaks, never parsed whole: a district's
    household forms are some 150 MB of it.
    """
    if path.suffix.lower() != ".docx":
        return None
    try:
        with zipfile.ZipFile(path) as zf:
            parts = {i.filename: zf.read(i) for i in zf.infolist()}
    except (OSError, zipfile.BadZipFile):
        return None
    document = parts.get(binding.DOCUMENT, b"")
    if document.count(b"<w:sectPr") <= at_most or _CROSSING.search(document) or any(
            binding.PAGE_COUNT.search(data) for name, data in parts.items() if name.startswith("word/")):
        return None
    for style in _NUMBERED.findall(parts.get("word/styles.xml", b"")):
        if b'<w:pStyle w:val="' + style + b'"/>' in document:
            return None
    try:
        return _cut(document, parts, at_most)
    except (ValueError, etree.XMLSyntaxError):
        return None


def _cut(document: bytes, parts: dict[str, bytes], at_most: int) -> list[bytes] | None:
    documents = _cut_documents(document, at_most)
    return None if documents is None else [binding.word_file(parts, xml) for xml in documents]


def sections(piece: bytes) -> tuple[list[bytes], dict[str, bytes]] | None:
    """A piece (see pieces) as the document.xml of each of its sections alone, and its package;
    None where it cannot be cut so."""
    try:
        with zipfile.ZipFile(io.BytesIO(piece)) as zf:
            parts = {i.filename: zf.read(i) for i in zf.infolist()}
        documents = _cut_documents(parts[binding.DOCUMENT], 1)
    except (KeyError, ValueError, zipfile.BadZipFile, etree.XMLSyntaxError):
        return None
    return (documents, parts) if documents else None


def _cut_documents(document: bytes, at_most: int) -> list[bytes] | None:
    body_at = document.index(b"<w:body>") + len(b"<w:body>")
    head = document[:body_at - len(b"<w:body>")]
    end_of_body = document.rindex(b"</w:body>")
    breaks = list(_SECT.finditer(document, body_at, end_of_body))
    if len(breaks) < 2:
        return None
    *inner, final = breaks
    if document[final.end():end_of_body].strip():
        return None  # the last section's properties must close the body
    sects = [_element(m[0], head) for m in breaks]
    refs = {(r.tag, r.get(w("type"), "default")) for sect in sects for r in sect
            if r.tag in (w("headerReference"), w("footerReference"))}
    # The paragraph ending section j; cut after it when section j + 1 starts afresh.
    ends = [_paragraph_end(document, m.end()) for m in inner]
    section = {end: number for number, end in enumerate(ends)}
    cuts = [end for end, following in zip(ends, sects[1:], strict=True) if _restarts(following, refs)]
    if not cuts:
        return None
    chosen: list[int] = [cuts[0]] if cuts[0] == ends[0] else []  # a contents page alone: it changes
    since = section[chosen[-1]] if chosen else -1
    for cut in cuts:
        if section[cut] - since >= at_most:
            chosen.append(cut)
            since = section[cut]
    if not chosen:
        return None
    where = {end: m for end, m in zip(ends, inner, strict=True)}
    out = []
    start = body_at
    for stop in [*chosen, final.start()]:
        if stop == final.start():
            text, sect = document[start:stop], final[0]
        else:
            brk = where[stop]
            para_start = document.rindex(b"<w:p", start, brk.start())
            while not re.match(rb"<w:p[\s>]", document[para_start:para_start + 5]):
                para_start = document.rindex(b"<w:p", start, para_start)
            last = document[para_start:brk.start()] + document[brk.end():stop]
            # An empty paragraph holding a section break is the break alone (Word and LibreOffice
            # show no line for it); at the end of a piece it would be a line of its own.
            shown = len(_element(last, head)) > 1
            text = document[start:para_start] + (last if shown else b"")
            sect = brk[0]
        if not text.strip():
            start = stop
            continue
        out.append(head + b"<w:body>" + text + sect + b"</w:body></w:document>")
        start = stop
    return out if len(out) > 1 else None


def join(pdfs: Sequence[bytes]) -> bytes:
    """One PDF of the pages of the pieces in order, with the first piece's document information."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    first = None
    for data in pdfs:
        reader = PdfReader(io.BytesIO(data))
        first = first or reader
        writer.append(reader, import_outline=False)
    if first is not None and first.metadata:
        writer.add_metadata(dict(first.metadata))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()

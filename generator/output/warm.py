"""Warm LibreOffice: processes kept running and fed documents over UNO, as unoserver does.

Each converter is one soffice listening on a free loopback port (its own profile folder, its own
process group) and one bridge (uno_bridge.py) run by the Python that has LibreOffice's `uno`
module, spoken to in JSON lines over its stdin and stdout: the project's own Python cannot import
uno. A converter is started again after MAX_BUSY_SECONDS of converting (or MAX_CONVERSIONS
documents) and whenever one hangs.
Without the uno module every caller falls back to the batch call (pdf.convert).

Idle converters are kept in a pool for the next call (the web's on-demand PDF); stop_all() stops
them, and is called at exit.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

from generator.errors import GaizaoError
from generator.output import office

BRIDGE = Path(__file__).resolve().parent / "resources" / "uno_bridge.py"
"""Not a module of the package: it imports uno, which only LibreOffice's Python has."""
MAX_CONVERSIONS = 200
"""Documents one LibreOffice converts before a fresh one takes over."""
MAX_BUSY_SECONDS = 20.0
"""Seconds of converting after which a fresh LibreOffice takes over: one slows down over a long run
(twelve 64-page pieces took 14 CPU seconds in one process, 36 took 51), while a start costs 1–2 s,
too much to pay every 12 one-page notices a web server is asked for."""
START_SECONDS = 60
"""Time for a new LibreOffice to listen and the bridge to connect."""
POOL_SIZE = 2
"""Idle converters kept for the next call."""
QUEUE_BOUND = 8
"""Calls that may wait for a converter; one more is refused (the web answers 503)."""
RUNNING_AT_MOST = max(2, os.cpu_count() or 1)
"""Converters alive at once: each takes a core and some 200 MB."""

log = logging.getLogger(__name__)


class Hung(GaizaoError):
    """LibreOffice gave no answer within the document's time; the converter was stopped."""


BUSY = "PDF 转换排队已满，请稍后再试"
"""Said for a document when more calls wait than QUEUE_BOUND (the web answers it with 503)."""


class Busy(GaizaoError):
    """Too many PDF conversions wait already."""


class StartFailed(GaizaoError):
    """A warm LibreOffice could not be started."""


def _can_import_uno(python: str) -> bool:
    try:
        done = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return done.returncode == 0


@cache
def uno_python(command: str) -> str | None:
    """The Python that can import the uno module of this LibreOffice, or None (then the batch
    call is used): on Windows the one LibreOffice brings, on Linux the system's (python3-uno)."""
    candidates = [str(Path(command).resolve().parent / ("python.exe" if os.name == "nt" else "python"))]
    if os.name != "nt":
        candidates += ["/usr/bin/python3", shutil.which("python3") or ""]
    for python in candidates:
        if python and Path(python).is_file() and _can_import_uno(python):
            return python
    return None


def bridge_command(command: str) -> list[str] | None:
    """The command that runs the bridge to this LibreOffice (its port and start time appended), or
    None without uno."""
    if os.environ.get("GAIZAO_WARM_PDF", "1") == "0":
        return None
    python = uno_python(command)
    return [python, str(BRIDGE)] if python else None


def available(command: str | None) -> bool:
    """Whether warm conversion can be used with this LibreOffice (GAIZAO_WARM_PDF=0 turns it off)."""
    return command is not None and bridge_command(command) is not None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_checked_fonts = False


def _check_fonts() -> None:
    """Before the first job: warn once when a CJK font the PDFs need is missing."""
    global _checked_fonts
    if _checked_fonts:
        return
    _checked_fonts = True
    from generator.output.fonts import missing_fonts

    for warning in missing_fonts():
        log.warning(warning)


class Converter:
    """One warm LibreOffice and its bridge."""

    def __init__(self, command: str, archival: bool) -> None:
        self.command, self.archival = command, archival
        self.soffice: subprocess.Popen[bytes] | None = None
        self.bridge: subprocess.Popen[str] | None = None
        self.answers: queue.Queue[str | None] = queue.Queue()
        self.done = 0
        self.busy = 0.0
        self.folder: tempfile.TemporaryDirectory[str] | None = None

    @property
    def running(self) -> bool:
        return self.soffice is not None and self.soffice.poll() is None and \
            self.bridge is not None and self.bridge.poll() is None

    def start(self) -> None:
        """Start LibreOffice listening on a free loopback port and connect the bridge to it."""
        command, bridge = self.command, bridge_command(self.command)
        if bridge is None:
            raise StartFailed("未找到 LibreOffice 或其 Python（uno）")
        _check_fonts()
        self.folder = tempfile.TemporaryDirectory(prefix="gaizao-warm-")
        profile = office.profile(Path(self.folder.name) / "profile", self.archival)
        port = _free_port()
        self.soffice = subprocess.Popen(
            [command, "--headless", "--invisible", "--norestore", "--nolockcheck", "--nodefault",
             f"-env:UserInstallation={profile.as_uri()}", f"--accept=socket,host=127.0.0.1,port={port};urp;"],
            env=office.environment(), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True)
        self.bridge = subprocess.Popen([*bridge, str(port), str(START_SECONDS)], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                       encoding="utf-8", start_new_session=True)
        self.answers = queue.Queue()
        threading.Thread(target=self._read, args=(self.bridge, self.answers), daemon=True).start()
        self.done, self.busy = 0, 0.0
        if self._answer(START_SECONDS + 5) is None:
            self.stop()
            raise StartFailed("LibreOffice 未能启动（无法连接）")

    @staticmethod
    def _read(bridge: subprocess.Popen[str], answers: queue.Queue[str | None]) -> None:
        assert bridge.stdout is not None
        for line in bridge.stdout:
            answers.put(line)
        answers.put(None)

    def _answer(self, seconds: float) -> dict[str, object] | None:
        try:
            line = self.answers.get(timeout=seconds)
        except queue.Empty:
            return None
        if line is None:
            return None
        try:
            answer = json.loads(line)
        except ValueError:
            return None
        return answer if isinstance(answer, dict) else None

    def convert(self, source: Path, target: Path, seconds: float) -> str | None:
        """Export source to the PDF target: None, or why LibreOffice refused it.

        Raises Hung (the converter stopped) when no answer comes within seconds.
        """
        if not self.running or self.done >= MAX_CONVERSIONS or self.busy >= MAX_BUSY_SECONDS:
            self.stop()
            self.start()
        assert self.bridge is not None and self.bridge.stdin is not None
        try:
            self.bridge.stdin.write(json.dumps({"source": str(source.resolve()),
                                                "target": str(target.resolve())}) + "\n")
            self.bridge.stdin.flush()
        except OSError:
            self.stop()
            raise Hung("LibreOffice 已退出") from None
        began = time.monotonic()
        answer = self._answer(seconds)
        self.done += 1
        self.busy += time.monotonic() - began
        if answer is None:
            self.stop()
            raise Hung(f"LibreOffice 无响应（{seconds:.0f} 秒无进展），已终止")
        if answer.get("ok"):
            return None
        return "LibreOffice 未能转换此文件"

    def stop(self) -> None:
        """Stop the bridge and LibreOffice with everything it started; remove the profile."""
        for proc in (self.bridge, self.soffice):
            if proc is not None:
                if proc.stdin is not None:
                    try:
                        proc.stdin.close()
                    except OSError:
                        pass
                office.kill(proc)
        self.bridge = self.soffice = None
        if self.folder is not None:
            self.folder.cleanup()
            self.folder = None


_lock = threading.Condition()
_idle: list[Converter] = []
_alive = 0
_waiting = 0


@contextmanager
def converter(command: str, archival: bool = False) -> Iterator[Converter]:
    """A converter for the block, from the pool or started (lazily, on its first document)."""
    global _alive, _waiting
    with _lock:
        if _waiting >= QUEUE_BOUND:
            raise Busy(BUSY)
        _waiting += 1
        try:
            while True:
                mine = next((c for c in _idle if (c.command, c.archival) == (command, archival)), None)
                if mine is not None:
                    _idle.remove(mine)
                    break
                if _alive < RUNNING_AT_MOST:
                    mine = Converter(command, archival)
                    _alive += 1
                    break
                if _idle:  # an idle one of the other flavour makes room
                    _idle.pop(0).stop()
                    _alive -= 1
                    continue
                _lock.wait()
        finally:
            _waiting -= 1
    kept = False
    try:
        yield mine
        kept = True
    finally:
        with _lock:
            if kept and mine.running and len(_idle) < POOL_SIZE:
                _idle.append(mine)
            else:
                mine.stop()
                _alive -= 1
            _lock.notify()


def stop_all() -> None:
    """Stop every idle converter (the web server calls it when it stops; also run at exit)."""
    global _alive
    with _lock:
        while _idle:
            _idle.pop().stop()
            _alive -= 1


atexit.register(stop_all)

"""A stand-in for LibreOffice's soffice in tests: converts, hangs, crashes or writes bad PDFs on demand.

Called as soffice is (… --convert-to pdf --outdir DIR FILE…), it handles the files in order like
LibreOffice does. FAKE_SOFFICE sets the output: ok (a one-page PDF whose Subject is the source's
sha256), empty, garbage or truncated. A source whose bytes contain HANG makes it start a child
(its pid appended to FAKE_SOFFICE_PIDS, as soffice starts soffice.bin) and wait forever; SLOW
makes it take a second; CRASH makes it exit 1 at once.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path


def pdf(subject: str) -> bytes:
    """A one-page PDF with a correct cross-reference table (written by hand: starts fast)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Subject (" + subject.encode() + b") >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 4 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def output(mode: str, source: bytes) -> bytes:
    """What the fake writes for a source in a mode."""
    if mode == "empty":
        return b""
    if mode == "garbage":
        return b"<html>not a pdf</html>"
    if mode == "truncated":
        return pdf("x")[:200]
    return pdf(hashlib.sha256(source).hexdigest())


def hang() -> None:
    """Start a child (as soffice starts soffice.bin), note its pid, and wait forever."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    with open(os.environ["FAKE_SOFFICE_PIDS"], "a") as fh:
        fh.write(f"{child.pid}\n")
    time.sleep(600)


def main(args: list[str]) -> int:
    outdir = Path(args[args.index("--outdir") + 1])
    files = [Path(a) for a in args[args.index("--outdir") + 2:]]
    mode = os.environ.get("FAKE_SOFFICE", "ok")
    for source in files:
        data = source.read_bytes()
        if b"HANG" in data:
            hang()
        if b"CRASH" in data:
            return 1
        if b"SLOW" in data:
            time.sleep(1)
        (outdir / f"{source.stem}.pdf").write_bytes(output(mode, data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""A stand-in for generator/output/uno_bridge.py in tests: answers as the bridge does, hangs on demand.

It writes the PDF tests/fake_soffice.py writes (its Subject the source's sha256). A source whose
bytes contain HANG makes it start a child (its pid appended to FAKE_SOFFICE_PIDS) and wait
forever; SLOW makes it take a second; CRASH makes it answer that LibreOffice refused the file.
Each start appends a line to FAKE_BRIDGE_STARTS.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.fake_soffice import hang, output  # noqa: E402


def main() -> int:
    with open(os.environ["FAKE_BRIDGE_STARTS"], "a") as fh:
        fh.write(f"{os.getpid()}\n")
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        data = Path(request["source"]).read_bytes()
        if b"HANG" in data:
            hang()
        if b"SLOW" in data:
            time.sleep(1)
        if b"CRASH" in data:
            print(json.dumps({"ok": False, "error": "refused"}), flush=True)
            continue
        Path(request["target"]).write_bytes(output("ok", data))
        print(json.dumps({"ok": True, "error": None}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Bridge to a running LibreOffice: run by the Python that has LibreOffice's `uno` module.

Usage: python uno_bridge.py PORT SECONDS. It connects to the soffice listening on 127.0.0.1:PORT
(retrying for SECONDS while it starts), prints {"ready": true}, then reads one JSON request a line
on stdin, {"source": PATH, "target": PATH}, loads the document hidden, exports it to PDF with the
filter `soffice --convert-to pdf` uses for its type (the export options come from the profile, as
for the batch call), closes it and prints {"ok": true} or {"ok": false, "error": TEXT}.

It imports nothing but the standard library and uno: it runs outside the project's environment.
"""

import json
import sys
import time

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]


def _props(**values):
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name, prop.Value = name, value
        out.append(prop)
    return tuple(out)


def _connect(port, seconds):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    url = f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext"
    until = time.monotonic() + seconds
    while True:
        try:
            context = resolver.resolve(url)
            return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
        except Exception:  # noqa: BLE001 - NoConnectException until soffice listens
            if time.monotonic() > until:
                raise
            time.sleep(0.1)


def _convert(desktop, source, target):
    document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(source), "_blank", 0,
                                            _props(Hidden=True, ReadOnly=True))
    if document is None:
        return "LibreOffice 未能打开此文件"
    try:
        sheet = document.supportsService("com.sun.star.sheet.SpreadsheetDocument")
        document.storeToURL(uno.systemPathToFileUrl(target),
                            _props(FilterName="calc_pdf_Export" if sheet else "writer_pdf_Export"))
    finally:
        document.close(True)
    return None


def main():
    port, seconds = int(sys.argv[1]), float(sys.argv[2])
    desktop = _connect(port, seconds)
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        request = json.loads(line)
        try:
            error = _convert(desktop, request["source"], request["target"])
        except Exception as exc:  # noqa: BLE001 - any UNO fault is this document's failure
            error = f"{type(exc).__name__}: {getattr(exc, 'Message', '') or exc}"
        print(json.dumps({"ok": error is None, "error": error}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

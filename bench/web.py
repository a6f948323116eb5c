"""Benchmark of the web front end on loopback: 20 simulated users, the packet zip, concurrent saves.

Run from the project folder:  python -m bench.web [--users 20] [--rounds 10]
Every loop is bounded (users × rounds requests; one save per saver) and the server, on
127.0.0.1 and a free port, stops when the run ends. Nothing leaves this machine.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import random
import re
import statistics
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tests.webapp import ACCOUNTS, OWN, PASSWORD, Running, make_app, make_instance


class Browser:
    """A user's cookie jar over urllib: what a browser sends, without a browser."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect())

    def get(self, path: str) -> tuple[int, bytes]:
        try:
            with self.opener.open(self.base + path, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def post(self, path: str, form: dict[str, str]) -> int:
        body = urllib.parse.urlencode(form).encode()
        try:
            with self.opener.open(urllib.request.Request(self.base + path, body), timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def token(self, path: str) -> tuple[str, str]:
        page = self.get(path)[1].decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        version = re.search(r'name="version" value="([^"]+)"', page)
        assert token
        return token.group(1), version.group(1) if version else ""

    def login(self, name: str) -> None:
        token, _ = self.token("/login")
        assert self.post("/login", {"username": name, "password": PASSWORD, "csrf_token": token}) == 302


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any) -> None:
        return None


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) > 1 else values[0]


def run(users: int, rounds: int, think: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        data, instance = make_instance(Path(tmp))
        app = make_app(data, instance)
        app.extensions["gaizao"]["store"].warm()  # as `gaizao serve` does before it listens
        running = Running(app, threads=8)
        base = running.base
        try:
            names = [list(ACCOUNTS)[i % len(ACCOUNTS)] for i in range(users)]
            browsers = [Browser(base) for _ in names]
            for b, name in zip(browsers, names, strict=True):
                b.login(name)
            times: list[float] = []
            statuses: list[int] = []
            lock = threading.Lock()

            def user(b: Browser, name: str) -> None:
                # The city only reviews: its third page is the API's list rather than an edit form.
                third = "/api/projects" if ACCOUNTS[name][0] == "city" else f"/projects/{OWN[name]}/edit/budget"
                pages = ["/", f"/projects/{OWN[name]}", third]
                for path in pages:  # warm: the first request after a change loads and checks the data folder
                    b.get(path)
                warm.wait()
                rng = random.Random(name)
                for i in range(rounds):
                    start = time.perf_counter()
                    status, _ = b.get(pages[i % len(pages)])
                    with lock:
                        times.append(time.perf_counter() - start)
                        statuses.append(status)
                    time.sleep(think * rng.uniform(0.5, 1.5))  # users do not click in step

            warm = threading.Barrier(len(browsers))
            threads = [threading.Thread(target=user, args=(b, n)) for b, n in zip(browsers, names, strict=True)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start

            packet_times = []
            for _ in range(5):
                t0 = time.perf_counter()
                status, body = browsers[0].get("/projects/dongqu-01/packet.zip")
                packet_times.append(time.perf_counter() - t0)
                assert status == 200 and body[:2] == b"PK"

            savers = [Browser(base) for _ in range(10)]
            forms = []
            for b in savers:
                b.login("admin")
                token, version = b.token("/projects/renhe-16/edit/units")
                forms.append({"csrf_token": token, "version": version})
            results: list[int] = []
            barrier = threading.Barrier(len(savers))

            def save(i: int) -> None:
                form = {**forms[i], "units.construction": f"并发施工单位{i}"}
                barrier.wait()
                code = savers[i].post("/projects/renhe-16/edit/units", form)
                with lock:
                    results.append(code)

            save_threads = [threading.Thread(target=save, args=(i,)) for i in range(len(savers))]
            for t in save_threads:
                t.start()
            for t in save_threads:
                t.join()
            text = (data / "projects" / "renhe-16.yaml").read_text(encoding="utf-8")
            applied = [i for i in range(len(savers)) if f"并发施工单位{i}" in text]
            audit = (instance / "audit.log").read_text(encoding="utf-8").count('"action": "save"')
        finally:
            running.stop()
    return {
        "users": users, "requests": len(times), "wall": wall, "errors": sum(1 for s in statuses if s != 200),
        "median_ms": statistics.median(times) * 1000, "p95_ms": _p95(times) * 1000, "max_ms": max(times) * 1000,
        "packet_s": min(packet_times), "packet_max_s": max(packet_times),
        "saves_applied": results.count(302), "saves_refused": results.count(409),
        "saves_other": len(results) - results.count(302) - results.count(409),
        "in_file": len(applied), "audited": audit,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user reads a page before the next")
    args = parser.parse_args()
    r = run(args.users, args.rounds, args.think)
    print(f"think time {args.think} s; {r['users']} users, {r['requests']} page loads in {r['wall']:.2f} s, "
          f"{r['errors']} not 200; median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
    print(f"packet zip (dongqu-01, 6 documents): best {r['packet_s']:.3f} s, worst {r['packet_max_s']:.3f} s of 5")
    print(f"10 concurrent saves to one project: {r['saves_applied']} applied, {r['saves_refused']} refused, "
          f"{r['saves_other']} other; applied values in the file: {r['in_file']}; save events audited: {r['audited']}")


if __name__ == "__main__":
    main()

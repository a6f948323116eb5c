"""Benchmark of the web front end on loopback.

Run from the project folder:

    python -m bench.web --communities 30 10000 [--seconds 60]

For each size (one run, back to back, so the ratio holds on a noisy machine) a `gaizao serve`
process is started on 127.0.0.1 over a synthetic data folder (`python -m bench.synth N DIR`,
made once under --synth-dir and reused; the bundled data for 30): its start to the first page
without and with the state kept in the instance folder, then 20 users (12 street offices,
5 district, 3 city; 0.5–1.5 s between pages) read pages, first alone (--reads-seconds), then
while one clerk saves every 5 s (--seconds): each page's p95, each save until its value shows,
the first dashboard after each save, the server's resident memory. Every loop ends at the
deadline; the servers stop when the run ends.

    python -m bench.web --classic [--users 20] [--rounds 10]

is the earlier in-process run on the bundled data: page loads, the packet zip, concurrent saves.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import os
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


def _figures(values: list[float]) -> tuple[float, float, float]:
    """Median, p95 and max in ms."""
    return statistics.median(values) * 1000, _p95(values) * 1000, max(values) * 1000


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[94] if len(values) > 1 else values[0]


def _run_all(threads: list[threading.Thread]) -> float:
    """Start the threads, wait for them all; the seconds it took."""
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


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
            wall = _run_all([threading.Thread(target=user, args=(b, n)) for b, n in zip(browsers, names, strict=True)])

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


# ---------------------------------------------------------------- the scale run: a served folder of N communities

CLERKS, DISTRICTS, CITIES = 12, 5, 3
SAVE_EVERY = 5.0


class Server:
    """`gaizao serve` in a process of its own, on a free loopback port."""

    def __init__(self, data: Path, instance: Path) -> None:
        import socket
        import subprocess
        import sys

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        start = time.perf_counter()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "generator", "--data", str(data), "serve", "--instance", str(instance),
             "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = start + 600
        while True:
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if self.proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        self.ready_s = time.perf_counter() - start
        # Pages that need data answer 503 ("正在读取数据文件夹") until the first read is done
        b = Browser(self.base)
        b.login("city")
        while (status := b.get("/api/stats")[0]) != 200:
            if status != 503 or self.proc.poll() is not None or time.perf_counter() > deadline:
                raise RuntimeError(f"data not served: {status}")
            time.sleep(POLL_SECONDS)
        self.data_s = time.perf_counter() - start

    def memory_mib(self) -> tuple[float, float]:
        """Resident memory now and at its highest (Linux /proc; zeros elsewhere), MiB."""
        status = Path(f"/proc/{self.proc.pid}/status")
        if not status.exists():
            return 0.0, 0.0
        fields = {}
        for line in status.read_text().splitlines():
            key, _, value = line.partition(":")
            fields[key] = value
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


POLL_SECONDS = 0.25
"""How often the bench asks for the data while the first read goes on: a browser asks every
LOADING_REFRESH (3) seconds; every 50 ms (as the bench asked before) took a fifth of the interpreter
from the read. The figure is late by at most this much."""


def _folder(n: int, synth_dir: Path, work: Path) -> Path:
    """The data folder of n communities: the bundled data for 30, else a synthetic one made once."""
    import shutil

    from bench.synth import make_programme
    from generator.data.loader import BUNDLED_DATA

    if n == 30:
        shutil.copytree(BUNDLED_DATA, work / "data")
        return work / "data"
    folder = synth_dir / f"gaizao-synth-{n}"
    if not (folder / "communities.yaml").exists():
        make_programme(n, folder)
    return folder


def _own(b: Browser, query: str = "") -> list[str]:
    import json

    status, body = b.get(f"/api/projects?per_page=20{query}")
    assert status == 200, body[:200]
    return [p["id"] for p in json.loads(body)["projects"] if p["stage_name"] != "尚无项目资料"]


def scale(n: int, seconds: float, reads_seconds: float, synth_dir: Path) -> dict[str, Any]:
    """One size: the server's start (without and with its kept state), then the 20 users and the saver."""
    import json

    from generator.web import policy
    from generator.web.accounts import Accounts
    from generator.web.statedb import StateDB
    from generator.web.store import CACHE_FILE
    from tests.webapp import CHEAP

    with tempfile.TemporaryDirectory(prefix="gaizao-bench-") as tmp:
        work = Path(tmp)
        data = _folder(n, synth_dir, work)
        instance = work / "instance"
        accounts = Accounts(instance, CHEAP)
        for name, (role, unit) in ACCOUNTS.items():
            accounts.add(name, role, unit, PASSWORD)
        # six clerks share one account here: the default limit of 2 sessions an account would log them out
        policy.save(StateDB.of(instance), {"max_sessions": "20"}, "bench")
        cold = Server(data, instance)
        deadline = time.monotonic() + 300
        while not (instance / CACHE_FILE).exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        cold.stop()
        server = Server(data, instance)
        try:
            return _load(server, n, seconds, reads_seconds, cold.ready_s, cold.data_s, json)
        finally:
            server.stop()


def starts(n: int, rounds: int, synth_dir: Path) -> list[tuple[float, float]]:
    """First starts only (no kept state, a new instance each time): (login page answers, data served) in s."""
    from generator.web.accounts import Accounts
    from tests.webapp import CHEAP

    out = []
    for _ in range(rounds):
        with tempfile.TemporaryDirectory(prefix="gaizao-bench-") as tmp:
            work = Path(tmp)
            data = _folder(n, synth_dir, work)
            instance = work / "instance"
            Accounts(instance, CHEAP).add("city", *ACCOUNTS["city"], PASSWORD)
            server = Server(data, instance)
            out.append((server.ready_s, server.data_s))
            server.stop()
    return out


def _load(server: Server, n: int, seconds: float, reads_seconds: float, cold_s: float, cold_data_s: float,
          json: Any) -> dict[str, Any]:
    base = server.base
    roles = ["bcg", "renhe"] * (CLERKS // 2) + ["dongqu"] * DISTRICTS + ["city"] * CITIES
    browsers = [Browser(base) for _ in roles]
    for b, name in zip(browsers, roles, strict=True):
        b.login(name)
    own = {name: _own(b) for b, name in zip(browsers, roles, strict=True)}
    pages: dict[str, list[tuple[str, str]]] = {}
    for name in set(roles):
        ids = own[name]
        role = ACCOUNTS[name][0]
        mine = [("list", "/"), ("list, page 2", "/?page=2"), ("project", f"/projects/{ids[0]}"),
                ("project", f"/projects/{ids[-1]}"), ("search", "/?q=" + urllib.parse.quote(ids[-1]))]
        if role == "street":
            mine += [("edit form", f"/projects/{ids[0]}/edit/budget"), ("api list", "/api/projects")]
        else:
            mine += [("dashboard", "/dashboard"), ("review list", "/review"), ("api stats", "/api/stats"),
                     ("list, has errors", "/?problems=any&sort=problems&desc=1")]
        pages[name] = mine
    times: dict[str, list[float]] = {}
    quiet: dict[str, list[float]] = {}
    statuses: list[int] = []
    lock = threading.Lock()

    def user(b: Browser, name: str, seed: int, until: float, sink: dict[str, list[float]]) -> None:
        rng = random.Random(seed)
        while time.monotonic() < until:
            label, path = rng.choice(pages[name])
            t0 = time.perf_counter()
            status, _ = b.get(path)
            spent = time.perf_counter() - t0
            with lock:
                sink.setdefault(label, []).append(spent)
                statuses.append(status)
            time.sleep(rng.uniform(0.5, 1.5))

    users = list(enumerate(zip(browsers, roles, strict=True)))
    # first the users alone, then with the clerk saving: what a save does to everybody else's pages
    reads_until = time.monotonic() + reads_seconds
    _run_all([threading.Thread(target=user, args=(b, name, 100 + i, reads_until, quiet)) for i, (b, name) in users])
    stop_at = time.monotonic() + seconds

    saver, watcher = Browser(base), Browser(base)
    saver.login("bcg")
    watcher.login("city")
    targets = own["bcg"][:5]
    saves: list[float] = []
    applied: list[float] = []
    dashboards: list[float] = []
    save_codes: list[int] = []

    def save_loop() -> None:
        i = 0
        next_at = time.monotonic() + 1
        while next_at < stop_at:
            time.sleep(max(0.0, next_at - time.monotonic()))
            cid = targets[i % len(targets)]
            token, version = saver.token(f"/projects/{cid}/edit/units")
            value = f"施工单位{n}-{i}-{random.randrange(10**6)}"
            t0 = time.perf_counter()
            code = saver.post(f"/projects/{cid}/edit/units",
                              {"csrf_token": token, "version": version, "units.construction": value})
            saves.append(time.perf_counter() - t0)
            save_codes.append(code)
            _, body = saver.get(f"/api/projects/{cid}")
            if json.loads(body)["project"]["units"]["construction"] == value:
                applied.append(time.perf_counter() - t0)
            t1 = time.perf_counter()
            status, _ = watcher.get("/dashboard")
            dashboards.append(time.perf_counter() - t1)
            assert status == 200
            i += 1
            next_at += SAVE_EVERY

    threads = [threading.Thread(target=user, args=(b, name, i, stop_at, times)) for i, (b, name) in users]
    threads.append(threading.Thread(target=save_loop))
    wall = _run_all(threads)
    rss, peak = server.memory_mib()
    everything = [t for v in times.values() for t in v]
    return {
        "n": n, "cold_s": cold_s, "cold_data_s": cold_data_s, "warm_s": server.ready_s,
        "warm_data_s": server.data_s, "wall": wall, "requests": len(everything),
        "not_ok": sum(1 for s in statuses if s != 200),
        "pages": {k: (len(v), statistics.median(v) * 1000, _p95(v) * 1000, max(v) * 1000)
                  for k, v in sorted(times.items())},
        "all": (statistics.median(everything) * 1000, _p95(everything) * 1000, max(everything) * 1000),
        "reads_only": (sum(len(v) for v in quiet.values()),) + _figures([t for v in quiet.values() for t in v]),
        "saves": len(saves), "saves_302": save_codes.count(302), "saves_seen": len(applied),
        "save_ms": (statistics.median(saves) * 1000, max(saves) * 1000),
        "applied_ms": (statistics.median(applied) * 1000, max(applied) * 1000) if applied else (0, 0),
        "dashboard_ms": (statistics.median(dashboards) * 1000, max(dashboards) * 1000),
        "rss_mib": rss, "peak_mib": peak,
    }


def report(r: dict[str, Any]) -> None:
    """One size's figures, as bench/RESULTS.md tabulates them."""
    print(f"\n== {r['n']} communities ==")
    print(f"server answers (login page): {r['cold_s']:.2f} s without kept state, {r['warm_s']:.2f} s with it")
    print(f"data served (first 200 of /api/stats): {r['cold_data_s']:.2f} s without kept state, "
          f"{r['warm_data_s']:.2f} s with it")
    print(f"reads only, before the saves: {r['reads_only'][0]} page loads; median {r['reads_only'][1]:.1f} ms, "
          f"p95 {r['reads_only'][2]:.1f} ms, max {r['reads_only'][3]:.1f} ms")
    print(f"with the saves: {r['requests']} page loads in {r['wall']:.1f} s, {r['not_ok']} not 200; all pages: median "
          f"{r['all'][0]:.1f} ms, p95 {r['all'][1]:.1f} ms, max {r['all'][2]:.1f} ms")
    print("| page | loads | median ms | p95 ms | max ms |")
    for label, (count, med, p95, top) in r["pages"].items():
        print(f"| {label} | {count} | {med:.1f} | {p95:.1f} | {top:.1f} |")
    print(f"saves: {r['saves']} tried, {r['saves_302']} applied (302), {r['saves_seen']} seen at once in the API; "
          f"save request median {r['save_ms'][0]:.1f} ms, max {r['save_ms'][1]:.1f} ms; save to value shown "
          f"median {r['applied_ms'][0]:.1f} ms, max {r['applied_ms'][1]:.1f} ms")
    print(f"first city dashboard after each save: median {r['dashboard_ms'][0]:.1f} ms, "
          f"max {r['dashboard_ms'][1]:.1f} ms")
    print(f"server resident memory at the end: {r['rss_mib']:.0f} MiB (highest {r['peak_mib']:.0f} MiB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--communities", type=int, nargs="+", default=[30, 10000])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the users read and the clerk saves")
    parser.add_argument("--reads-seconds", type=float, default=30.0,
                        help="how long the users read alone first, without the clerk's saves")
    parser.add_argument("--synth-dir", type=Path, default=Path(tempfile.gettempdir()),
                        help="where the synthetic folders are made once and reused")
    parser.add_argument("--classic", action="store_true", help="the earlier in-process run on the bundled data")
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--think", type=float, default=1.0, help="seconds a user reads a page before the next")
    parser.add_argument("--starts", type=int, default=0, metavar="K",
                        help="only time K first starts of each size (no kept state), one after the other")
    args = parser.parse_args()
    if args.starts:
        for n in args.communities:
            load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            times = starts(n, args.starts, args.synth_dir)
            after = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
            shown = ", ".join(f"{ready:.2f} / {data:.2f}" for ready, data in times)
            print(f"{n} communities, first starts (login page / data served, s): {shown}; "
                  f"best data served {min(d for _, d in times):.2f} s; load average {load:.1f} → {after:.1f}")
        return
    if not args.classic:
        for n in args.communities:
            report(scale(n, args.seconds, args.reads_seconds, args.synth_dir))
        return
    r = run(args.users, args.rounds, args.think)
    print(f"think time {args.think} s; {r['users']} users, {r['requests']} page loads in {r['wall']:.2f} s, "
          f"{r['errors']} not 200; median {r['median_ms']:.1f} ms, p95 {r['p95_ms']:.1f} ms, max {r['max_ms']:.1f} ms")
    print(f"packet zip (dongqu-01, 6 documents): best {r['packet_s']:.3f} s, worst {r['packet_max_s']:.3f} s of 5")
    print(f"10 concurrent saves to one project: {r['saves_applied']} applied, {r['saves_refused']} refused, "
          f"{r['saves_other']} other; applied values in the file: {r['in_file']}; save events audited: {r['audited']}")


if __name__ == "__main__":
    main()

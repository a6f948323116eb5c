"""What the web tests share: a copy of the bundled data, an instance folder with one account per role."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.low_level import Type
from flask import Flask
from flask.testing import FlaskClient

from generator.data.loader import BUNDLED_DATA
from generator.web import create_app
from generator.web.accounts import Accounts
from generator.web.policy import save as save_policy

CHEAP = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1, type=Type.ID)
"""argon2id at a test's cost: the suite logs in hundreds of times."""

PASSWORD = "Correct-horse-battery-9"
ACCOUNTS = {
    # name: (role, unit)
    "bcg": ("street", "炳草岗街道办事处"),
    "renhe": ("street", "仁和街道办事处"),
    "dongqu": ("district", "东区"),
    "city": ("city", "攀枝花市"),
    "admin": ("admin", "市住房城乡建设局"),
}
OWN = {"bcg": "dongqu-01", "renhe": "renhe-24", "dongqu": "dongqu-02", "city": "xiqu-03", "admin": "miyi-08"}
"""A community each account may see."""
OTHER = {"bcg": "renhe-05", "renhe": "dongqu-01", "dongqu": "renhe-05"}
"""A community each scoped account may not see (city and admin see everything)."""


def make_instance(root: Path) -> tuple[Path, Path]:
    """A copy of the bundled data and an instance folder with the accounts above."""
    data = root / "data"
    shutil.copytree(BUNDLED_DATA, data)
    instance = root / "instance"
    accounts = Accounts(instance, CHEAP)
    for name, (role, unit) in ACCOUNTS.items():
        # the business role `admin` held with the 系统管理员's duty, as an instance from before the three has it
        accounts.add(name, role, unit, PASSWORD, duty="sysadmin" if role == "admin" else "")
    # The suite logs one account in from many clients at once (concurrent saves): more sessions than the default.
    save_policy(accounts.db, {"max_sessions": "20"}, "tests")
    return data, instance


def make_app(data: Path, instance: Path, **config: object) -> Flask:
    # Files changed by hand are looked for on every request: tests change them and look at once.
    app = create_app(data, instance, {"TESTING": True, "PASSWORD_HASHER": CHEAP, "DATA_CHECK_SECONDS": 0, **config})
    return app


def csrf(client: FlaskClient, path: str = "/login") -> str:
    """The CSRF token of the page at path."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1)


def login(client: FlaskClient, name: str, password: str = PASSWORD) -> None:
    token = csrf(client)
    response = client.post("/login", data={"username": name, "password": password, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]


def change_password(client: FlaskClient, old: str, new: str) -> None:
    """Change the logged-in account's own password (as the first login after an administrator set it must)."""
    token = csrf(client, "/account/password")
    r = client.post("/account/password", data={"old": old, "password": new, "password2": new, "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)[:800]


SCRIPT = "<script>alert(1)</script>"


def name_a_community_script(data: Path) -> None:
    """炳草岗园林苗圃小区 (dongqu-01) renamed to a script, to see that every page shows it as text."""
    plan = data / "communities.yaml"
    text = plan.read_text(encoding="utf-8")
    plan.write_text(text.replace("name: 炳草岗园林苗圃小区", f'name: "{SCRIPT}"'), encoding="utf-8")


def inline_scripts(page: str) -> list[str]:
    """The script elements of a page that carry their code inline (a CSP without unsafe-inline stops them)."""
    return re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", page)


def one_more_in_favour(form: bytes) -> tuple[bytes, int]:
    """A downloaded 填报表 with one household moved to 同意, and the count of 同意 before."""
    import io

    import openpyxl

    wb = openpyxl.load_workbook(io.BytesIO(form))
    counts = wb["意见征询"]
    before = counts["B6"].value
    counts["B6"] = before + 1
    row = 8 if counts["B8"].value else 7
    counts[f"B{row}"] = counts[f"B{row}"].value - 1
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), before


class Running:
    """The app on waitress on a free loopback port, in a thread, until stop()."""

    def __init__(self, app: Flask, threads: int = 4, **options: Any) -> None:
        import threading

        from waitress import create_server

        self.server: Any = create_server(app, host="127.0.0.1", port=0, threads=threads, **options)
        self.base = f"http://127.0.0.1:{self.server.effective_port}"
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.server.run()
        except OSError:  # the listening socket closed under select() by stop()
            pass

    def stop(self) -> None:
        self.server.close()
        self.thread.join(timeout=5)

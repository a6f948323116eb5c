"""Work on many communities at once: a bound print file made in the background, many 填报表 uploaded together.

A print job runs `gaizao print`'s own code (output/printing.py print_documents) in a thread, one job
at a time (each lays its file out with LibreOffice); its state lives on the server, keyed to the
account that asked for it, so the page can be left and reloaded while it runs.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe
from typing import Any, cast

from flask import Blueprint, abort, current_app, g, jsonify, redirect, render_template, request, url_for

from generator.data.loader import DataSet
from generator.documents.kinds import KINDS, printable
from generator.errors import GaizaoError
from generator.web.accounts import User
from generator.web.permissions import may
from generator.web.security import loaded, login_required, print_room
from generator.web.statedb import StateDB

bp = Blueprint("batch", __name__)

KEEP_JOBS = 10
"""Print jobs kept per account; older ones and their files are removed."""
INTERRUPTED = "服务器在生成过程中停止（重启或断电），此任务未完成；请重新提交"
MAX_FORMS_UPLOAD = 64 * 1024 * 1024
"""Bytes of one request of many 填报表 at most (each file is held to the single upload's limit)."""


@dataclass
class PrintJob:
    id: str
    owner: str
    kind: str
    district: str | None
    year: int | None
    street_office: str | None
    pdf: bool
    layout: bool = True
    """Lay the file out with LibreOffice as `gaizao print` does (off only in tests that need speed)."""
    created: float = field(default_factory=time.time)
    state: str = "queued"
    """queued, running, done, failed, or interrupted (the server stopped while it ran)."""
    phase: str = "排队等候"
    done: int = 0
    total: int = 0
    files: list[tuple[str, Path]] = field(default_factory=list)
    """Each file made: its name and where it is kept."""
    skipped: list[tuple[str, int, list[str]]] = field(default_factory=list)
    """Why communities were left out, how many each, and their names."""
    error: str = ""

    @property
    def title(self) -> str:
        parts = [self.district or "全市各县（区）", self.street_office or "",
                 f"{self.year}年度" if self.year else "各年度", KINDS[self.kind].name]
        return "".join(parts) + ("（PDF）" if self.pdf else "")

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "state": self.state, "phase": self.phase,
            "done": self.done, "total": self.total, "error": self.error,
            "files": [{"name": name, "url": url_for("batch.print_file", job_id=self.id, index=i)}
                      for i, (name, _) in enumerate(self.files)],
            "skipped": [{"reason": r, "count": n, "names": names} for r, n, names in self.skipped],
        }


class PrintJobs:
    """The print jobs of this server: one runs at a time, the rest wait. Each is a row of the instance
    database (written when its state changes), its files under the instance folder, so a restart keeps
    finished jobs and their files and shows a job that was running as interrupted."""

    def __init__(self, folder: Path, db: StateDB) -> None:
        self.folder = folder
        self.db = db
        self._live: dict[str, PrintJob] = {}
        """The jobs this process is running or about to: their progress is here, not in the database."""
        self._lock = threading.Lock()
        self._run = threading.Lock()

    def of(self, user: User) -> list[PrintJob]:
        """The account's jobs, newest first."""
        with self._lock:
            live = dict(self._live)  # before the read: a job that ends meanwhile is read as it ended
        return [self._job(r, live) for r in
                self.db.rows("SELECT * FROM print_jobs WHERE owner = ? ORDER BY created DESC", user.name)]

    def get(self, user: User, job_id: str) -> PrintJob | None:
        """The job when it is the account's own; None for another's or none at all."""
        with self._lock:
            live = dict(self._live)
        found = self.db.rows("SELECT * FROM print_jobs WHERE id = ? AND owner = ?", job_id, user.name)
        return self._job(found[0], live) if found else None

    def _job(self, row: Any, live: dict[str, PrintJob]) -> PrintJob:
        if row["id"] in live:
            return live[row["id"]]
        job = PrintJob(row["id"], row["owner"], row["kind"], row["district"], row["year"], row["street_office"],
                       bool(row["pdf"]), bool(row["layout"]), row["created"], row["state"], row["phase"],
                       row["done"], row["total"], [(name, self.folder / rel) for name, rel in json.loads(row["files"])],
                       [(s[0], s[1], s[2] if len(s) > 2 else []) for s in json.loads(row["skipped"])], row["error"])
        if job.state in ("queued", "running"):
            # No thread of this server runs it: the server stopped while it waited or ran.
            job.state, job.phase, job.error = "interrupted", "已中断", INTERRUPTED
        return job

    def _save(self, job: PrintJob) -> None:
        files = [(name, path.relative_to(self.folder).as_posix()) for name, path in job.files]
        with self.db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO print_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (job.id, job.owner, job.kind, job.district, job.year, job.street_office, int(job.pdf),
                          int(job.layout), job.created, job.state, job.phase, job.done, job.total,
                          json.dumps(files, ensure_ascii=False), json.dumps(job.skipped, ensure_ascii=False),
                          job.error))

    def start(self, job: PrintJob, data: DataSet, withheld: dict[str, str]) -> None:
        with self._lock:
            self._live[job.id] = job
            self._save(job)
            old = [r["id"] for r in self.db.rows("SELECT id FROM print_jobs WHERE owner = ? ORDER BY created DESC",
                                                 job.owner)[KEEP_JOBS:] if r["id"] not in self._live]
            with self.db.write() as conn:
                conn.executemany("DELETE FROM print_jobs WHERE id = ?", [(i,) for i in old])
        for job_id in old:
            shutil.rmtree(self.folder / job_id, ignore_errors=True)
        threading.Thread(target=self._work, args=(job, data, withheld), daemon=True,
                         name=f"print-{job.id}").start()

    def _work(self, job: PrintJob, data: DataSet, withheld: dict[str, str]) -> None:
        try:
            self._make(job, data, withheld)
        finally:
            self._save(job)  # before it leaves the live jobs: a reader finds it in one or the other as it ended
            with self._lock:
                del self._live[job.id]

    def _make(self, job: PrintJob, data: DataSet, withheld: dict[str, str]) -> None:
        from generator.output.pdf import NoLibreOffice, convert_outputs
        from generator.output.printing import print_documents

        out = self.folder / job.id
        with self._run:
            job.state, job.phase = "running", "合并文书"
            self._save(job)

            def progress(jobs: list[Any]) -> Iterator[Any]:
                job.total = len(jobs)
                for one in jobs:
                    yield one
                    job.done += 1
                job.phase = "排版（核对页数，使每份从单页起印）"

            def then(output: Any, result: Any) -> None:
                if job.pdf:
                    job.phase = "转换 PDF"
                    done = convert_outputs(output, result.paths.rels)
                    if done.failed or done.stopped:
                        raise GaizaoError("PDF 转换失败：" + "；".join([*done.failed.values(), done.stopped or ""]))

            try:
                result = print_documents(data, out, job.kind, district=job.district, year=job.year,
                                         street_office=job.street_office, withheld=withheld,
                                         progress=cast(Any, progress), then=then, layout=job.layout,
                                         masked=True)  # only a district, the city, the admin print here
                names: dict[str, list[str]] = {}
                for s in result.skipped:
                    names.setdefault(s.reason, []).append(s.target.community.name if s.target.community else "")
                job.skipped = [(reason, len(n), n) for reason, n in sorted(names.items())]
                for rel in result.paths.rels:
                    path = out / rel
                    if job.pdf:
                        path = path.with_suffix(".pdf")
                    job.files.append((path.name, path))
                job.state, job.phase = "done", "已完成" if job.files else f"没有可打印的{KINDS[job.kind].name}"
            except NoLibreOffice:
                job.state, job.error = "failed", "服务器未安装 LibreOffice，不能生成 PDF；请改选 Word 文件"
            except GaizaoError as exc:
                job.state, job.error = "failed", str(exc)
            except Exception as exc:  # the thread must not die silently: the page says what happened
                current = f"{type(exc).__name__}: {exc}"
                job.state, job.error = "failed", f"生成失败：{current}"


def jobs() -> PrintJobs:
    return cast(PrintJobs, current_app.extensions["gaizao"]["prints"])


def _printer() -> User:
    user: User = g.user
    if not may(user, "print"):
        abort(404)
    return user


def _choices(user: User, data: DataSet) -> dict[str, Any]:
    """What the account may choose: districts (its own only for a district), years, street offices."""
    districts = [user.unit] if user.role == "district" else list(data.districts)
    offices: dict[str, list[str]] = {d: [] for d in districts}
    for c in data.active_communities():
        project = data.projects.get(c.id)
        if project is not None and c.district in offices and project.street_office not in offices[c.district]:
            offices[c.district].append(project.street_office)
    return {"kinds": printable(), "districts": districts, "years": data.programme.years, "offices": offices}


@bp.route("/batch/prints", methods=["GET"])
@login_required
def prints() -> Any:
    user = _printer()
    now = loaded()
    return render_template("batch_prints.html", jobs=jobs().of(user), **_choices(user, now.data))


@bp.route("/batch/prints", methods=["POST"])
@login_required
def start_print() -> Any:
    """Start a print job from the form; the choices are checked against what the account may print."""
    from generator.web.reviews import log, withheld

    user = _printer()
    print_room(user)  # bounded per account and overall: 429 with the reason
    now = loaded()
    choices = _choices(user, now.data)
    kind = request.form.get("kind", "")
    if kind not in {k.key for k in choices["kinds"]}:
        abort(400, description="请选择要打印的文书种类")
    district = request.form.get("district") or None
    if user.role == "district":
        district = user.unit  # a district prints its own, whatever the form says
    if district is not None and district not in choices["districts"]:
        abort(400, description=f"未知的县（区）“{district}”")
    year_text = request.form.get("year", "")
    year = None
    if year_text:
        if not year_text.isdigit() or int(year_text) not in choices["years"]:
            abort(400, description=f"年度“{year_text}”不在方案计划年度内")
        year = int(year_text)
    office = request.form.get("street_office") or None
    if office is not None and (district is None or office not in choices["offices"][district]):
        abort(400, description=f"街道办事处“{office}”不在所选县（区）内")
    held: dict[str, str] = {}
    if kind == "notice" and now.data.programme.notice.needs_review:
        latest = log().latest()
        for c in now.data.active_communities():
            why = withheld(now, latest, c.id).get("notice")
            if why:
                held[c.id] = why
    job = PrintJob(token_urlsafe(12), user.name, kind, district, year, office, request.form.get("format") == "pdf",
                   current_app.config.get("PRINT_LAYOUT", True))
    jobs().start(job, now.data, held)
    from generator.web.security import audit

    audit().append(user.name, "print", detail=job.title)
    return redirect(url_for("batch.prints", job=job.id))


@bp.route("/batch/prints/<job_id>")
@login_required
def print_status(job_id: str) -> Any:
    """Where the job stands, as JSON for the page's progress bar."""
    job = jobs().get(_printer(), job_id)
    if job is None:
        abort(404)
    return jsonify(job.as_dict())


@bp.route("/batch/prints/<job_id>/files/<int:index>")
@login_required
def print_file(job_id: str, index: int) -> Any:
    from generator.web.pages import download

    job = jobs().get(_printer(), job_id)
    if job is None or job.state != "done" or not 0 <= index < len(job.files):
        abort(404)
    name, path = job.files[index]
    return download(name, path.read_bytes())


# ---------------------------------------------------------------- many 填报表 at once


@dataclass
class Outcome:
    """What became of one uploaded file."""

    name: str
    community: str = ""
    problems: list[str] = field(default_factory=list)
    changes: list[Any] = field(default_factory=list)


@bp.route("/batch/forms", methods=["GET"])
@login_required
def forms() -> Any:
    _editor()
    return render_template("batch_forms.html", outcomes=None)


def _editor() -> User:
    user: User = g.user
    if not may(user, "upload-forms"):
        abort(404)
    return user


@bp.route("/batch/forms", methods=["POST"])
@login_required
def upload_forms() -> Any:
    """Each file imported as the single upload imports it, for the communities the account may change."""
    from generator.web.edit import import_upload

    _editor()
    uploads = [f for f in request.files.getlist("forms") if f.filename]
    if not uploads:
        abort(400, description="请选择要上传的填报表（.xlsx，可多选）")
    outcomes = []
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    for upload in uploads:
        raw = upload.read()
        name = upload.filename or ""
        if len(raw) > limit:
            outcomes.append(Outcome(name, problems=[f"文件超过{limit // (1024 * 1024)}MB，未导入"]))
            continue
        community, problems, changes = import_upload(raw, name, None)
        outcomes.append(Outcome(name, community, problems, changes))
    now = loaded()
    names = {c: now.data.communities[c].name for c in {o.community for o in outcomes} if c in now.data.communities}
    status = 200 if all(not o.problems for o in outcomes) else 422
    return render_template("batch_forms.html", outcomes=outcomes, names=names), status


upload_forms.max_content_length = MAX_FORMS_UPLOAD  # type: ignore[attr-defined]

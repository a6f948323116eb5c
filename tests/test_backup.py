"""`gaizao backup` and `gaizao restore`: a consistent archive taken while saves go on, and an archive
put back only after it has been checked."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import pytest
from click.testing import CliRunner
from flask import Flask

from generator.cli import main
from generator.intake import writelock
from generator.web.accounts import Accounts
from generator.web.audit import AuditLog
from generator.web.backup import MANIFEST, BackupError, restore, take
from generator.web.statedb import DB_FILE
from generator.web.store import file_version
from tests.test_web import _form
from tests.webapp import PASSWORD, login, make_app, make_instance

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "renhe-24"


@pytest.fixture
def fresh(tmp_path: Path) -> tuple[Flask, Path, Path]:
    data, instance = make_instance(tmp_path)
    return make_app(data, instance), data, instance


def _state(data: Path, instance: Path) -> tuple[str, str, str]:
    """The project file's version, its 同意户数, and the version the last audited save left it at."""
    path = data / "projects" / f"{PROJECT}.yaml"
    support = next((line.split(":")[1].strip() for line in path.read_text(encoding="utf-8").splitlines()
                    if line.strip().startswith("support:")), "")
    saves = [e for e in AuditLog(instance).events(PROJECT) if e.action == "save"]
    return file_version(path), support, saves[-1].version_after if saves else ""


def _save(app: Flask, values: list[int], after: Callable[[int], None] | None = None) -> None:
    client = app.test_client()
    login(client, "renhe")
    for i, support in enumerate(values):
        form = _form(client, f"/projects/{PROJECT}/edit/survey")
        form.update({"survey.date": "2018-03-10", "survey.households_asked": "100", "survey.support": str(support),
                     "survey.oppose": str(95 - support), "survey.no_answer": "5"})
        r = client.post(f"/projects/{PROJECT}/edit/survey", data=form)
        assert r.status_code == 302, r.get_data(as_text=True)[:1000]
        if after is not None:
            after(i)


def _restored(archive: Path, where: Path) -> tuple[Path, Path]:
    data, instance = where / "data", where / "instance"
    restore(archive, data, instance)
    return data, instance


def test_a_backup_taken_during_a_save_holds_the_save_and_its_audit_record_together(
        fresh: tuple[Flask, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, data, instance = fresh
    original = file_version(data / "projects" / f"{PROJECT}.yaml")
    append = AuditLog.append

    def slow_append(self: AuditLog, *args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)  # the project file is written; its audit record is not yet: the worst moment
        return append(self, *args, **kwargs)

    monkeypatch.setattr(AuditLog, "append", slow_append)
    saver = threading.Thread(target=_save, args=(app, [81]))
    saver.start()
    path = data / "projects" / f"{PROJECT}.yaml"
    deadline = time.monotonic() + 60
    while file_version(path) == original and time.monotonic() < deadline:
        time.sleep(0.01)
    assert file_version(path) != original  # the save is under way: file written, audit record pending
    started = time.monotonic()
    taken = take(data, instance, tmp_path / "during.zip")
    waited = time.monotonic() - started
    saver.join()
    assert waited > 0.2  # the backup waited for the save to finish
    version, support, audited = _state(*_restored(taken.path, tmp_path / "back"))
    assert support == "81" and version == audited == _state(data, instance)[0]


def test_backups_taken_while_saves_go_on_each_restore_to_a_consistent_state(
        fresh: tuple[Flask, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    app, data, instance = fresh
    original = file_version(data / "projects" / f"{PROJECT}.yaml")
    values = list(range(70, 82))
    caught_at = (1, 6, 11)  # saves that a backup is made to wait for, whatever the machine's load
    backup_waiting, backup_done = threading.Event(), threading.Event()
    held_for: list[int] = []  # the values of the saves a backup waited for, in order
    real_lock, real_append = writelock.lock_exclusive, AuditLog.append
    saves = 0

    def watched_lock(file: IO[Any], blocking: bool = False) -> None:
        """The writer lock, telling the saver while a backup (on the main thread) waits for it."""
        if threading.current_thread() is not threading.main_thread():
            real_lock(file, blocking=blocking)
            return
        backup_waiting.set()
        try:
            real_lock(file, blocking=blocking)
        finally:
            backup_waiting.clear()

    def held_append(self: AuditLog, user: str, action: str, *args: Any, **kwargs: Any) -> Any:
        """The audit record of a chosen save, written only once a backup waits on the save's lock."""
        nonlocal saves
        if action == "save":
            if saves in caught_at:
                backup_done.clear()
                # The project file is written, its audit record not yet: the backup must wait here.
                assert backup_waiting.wait(timeout=120), "no backup came to wait for the save"
                held_for.append(values[saves])
            saves += 1
        return real_append(self, user, action, *args, **kwargs)

    def after(i: int) -> None:
        if i in caught_at:  # the next save only once that backup is taken, so it holds this save alone
            assert backup_done.wait(timeout=120), "the backup did not finish"

    monkeypatch.setattr(writelock, "lock_exclusive", watched_lock)
    monkeypatch.setattr(AuditLog, "append", held_append)
    saver = threading.Thread(target=_save, args=(app, values, after))
    saver.start()
    archives: list[tuple[Path, int | None]] = []  # each with the save it waited for, if any
    while saver.is_alive():
        waited_before = len(held_for)
        archive = take(data, instance, tmp_path / f"b{len(archives)}.zip").path
        held = held_for[-1] if len(held_for) > waited_before else None
        backup_done.set()
        archives.append((archive, held))
        time.sleep(0.2)  # a few dozen backups across the run, not hundreds
    saver.join()
    assert _state(data, instance)[1] == str(values[-1])  # every save went through
    assert held_for == [values[i] for i in caught_at]
    seen = set()
    for i, (archive, held) in enumerate(archives):
        version, support, audited = _state(*_restored(archive, tmp_path / f"r{i}"))
        # Either before the first save, or exactly at a save its audit record names.
        assert version == (audited or original), (archive, support)
        assert support in {str(v) for v in values} if audited else support == ""
        if held is not None:  # taken while that save was half done: it holds the whole save
            assert support == str(held), (archive, held, support)
        seen.add(support)
    assert {str(values[i]) for i in caught_at} <= seen  # backups fell between different saves


def test_a_backup_waits_for_a_save_in_another_process(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    _, data, instance = fresh
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time\nfrom pathlib import Path\nfrom generator.intake.writelock import WriteLock\n"
         "with WriteLock(Path(sys.argv[1])):\n    print('held', flush=True)\n    time.sleep(1.5)\n", str(data)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    started = time.monotonic()
    take(data, instance, tmp_path / "waited.zip")
    assert time.monotonic() - started > 1.0
    assert holder.wait(timeout=30) == 0


def test_backup_and_restore_from_the_command_line(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    _, data, instance = fresh
    runner = CliRunner()
    out = tmp_path / "backups"
    out.mkdir()
    r = runner.invoke(main, ["--data", str(data), "backup", "--instance", str(instance), "--out", str(out)])
    assert r.exit_code == 0, r.output
    archive = next(out.glob("gaizao-backup-*.zip"))
    assert not list(data.parent.glob(".data.backup-*"))  # the files set aside for it are gone
    assert "已备份到" in r.output and str(archive) in r.output
    with zipfile.ZipFile(archive) as z:
        manifest = json.loads(z.read(MANIFEST))
        assert set(manifest["files"]) == set(z.namelist()) - {MANIFEST}
        assert f"instance/{DB_FILE}" in manifest["files"] and f"data/projects/{PROJECT}.yaml" in manifest["files"]
        assert not [n for n in z.namelist() if n.endswith((".lock", "-wal", "-shm"))]
    # Into an empty place: everything back, and the accounts log in.
    new_data, new_instance = tmp_path / "new" / "data", tmp_path / "new" / "instance"
    r = runner.invoke(main, ["--data", str(new_data), "restore", str(archive), "--instance", str(new_instance)])
    assert r.exit_code == 0 and "已从备份" in r.output and "校验和一致" in r.output, r.output
    project = Path("projects") / f"{PROJECT}.yaml"
    assert (new_data / project).read_bytes() == (data / project).read_bytes()
    assert Accounts(new_instance).verify("renhe", PASSWORD) is not None
    assert [e.action for e in AuditLog(new_instance).events()][-1:] == ["restore"]
    assert [e.detail for e in AuditLog(instance).events() if e.action == "backup"] == [str(archive)]
    client = make_app(new_data, new_instance).test_client()
    login(client, "renhe")
    assert client.get(f"/projects/{PROJECT}").status_code == 200
    # Over folders in use: refused without --force; with it the old folders are kept renamed.
    (new_data / "projects" / "hand-made.txt").write_text("a note", encoding="utf-8")
    r = runner.invoke(main, ["--data", str(new_data), "restore", str(archive), "--instance", str(new_instance)])
    assert r.exit_code == 1 and "不是空的" in r.output and "--force" in r.output
    assert (new_data / "projects" / "hand-made.txt").exists()
    r = runner.invoke(main, ["--data", str(new_data), "restore", str(archive), "--instance", str(new_instance),
                             "--force"])
    assert r.exit_code == 0 and "原有内容已改名保留为" in r.output, r.output
    kept = next((tmp_path / "new").glob("data.before-restore-*"))
    assert (kept / "projects" / "hand-made.txt").read_text(encoding="utf-8") == "a note"
    assert not (new_data / "projects" / "hand-made.txt").exists()
    r = runner.invoke(main, ["restore", str(archive), "--instance", str(new_instance)])
    assert r.exit_code == 1 and "--data" in r.output


def _rewrite(source: Path, target: Path, change: dict[str, bytes | None], add: dict[str, bytes] | None = None) -> Path:
    """A copy of an archive with entries changed (None: left out) and added, its manifest as it was."""
    with zipfile.ZipFile(source) as z, zipfile.ZipFile(target, "w") as out:
        for info in z.infolist():
            if info.filename in change:
                replaced = change[info.filename]
                if replaced is not None:
                    out.writestr(info.filename, replaced)
            else:
                out.writestr(info, z.read(info))
        for name, raw in (add or {}).items():
            out.writestr(name, raw)
    return target


def test_restore_checks_the_archive_before_touching_anything(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    _, data, instance = fresh
    good = take(data, instance, tmp_path / "good.zip").path
    yaml = f"data/projects/{PROJECT}.yaml"
    with zipfile.ZipFile(good) as z:
        manifest = json.loads(z.read(MANIFEST))
    escaping = dict(manifest, files={**manifest["files"], "data/../../evil.txt": {"size": 1, "sha256": "0" * 64}})
    cases = {
        "tampered": (_rewrite(good, tmp_path / "t.zip", {yaml: b"survey: {}\n"}), "校验和"),
        "missing": (_rewrite(good, tmp_path / "m.zip", {yaml: None}), "缺少"),
        "extra": (_rewrite(good, tmp_path / "e.zip", {}, {"data/extra.yaml": b"x: 1\n"}), "多出"),
        "escaping": (_rewrite(good, tmp_path / "p.zip", {MANIFEST: json.dumps(escaping).encode()},
                              {"data/../../evil.txt": b"x"}), "目标文件夹以外"),
        "absolute": (_rewrite(good, tmp_path / "a.zip", {}, {"/tmp/evil.txt": b"x"}), "目标文件夹以外"),
        "not ours": (_rewrite(good, tmp_path / "n.zip", {MANIFEST: None}), "不是本工具的备份"),
        "not a zip": (tmp_path / "plain.txt", "不是 zip"),
    }
    (tmp_path / "plain.txt").write_text("hello", encoding="utf-8")
    target = tmp_path / "target"
    for name, (archive, message) in cases.items():
        with pytest.raises(BackupError, match=message):
            restore(archive, target / "data", target / "instance")
        assert not target.exists() or not list(target.iterdir()), name  # nothing written, nothing left behind
    assert not (tmp_path.parent / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()
    restore(good, target / "data", target / "instance")
    assert (target / "data" / "projects" / f"{PROJECT}.yaml").exists()


def test_a_backup_is_refused_inside_the_folders_it_copies_and_never_overwrites(
        fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    _, data, instance = fresh
    with pytest.raises(BackupError, match="不能放在"):
        take(data, instance, data / "backup.zip")
    (tmp_path / "there.zip").write_bytes(b"a file already there")
    with pytest.raises(BackupError, match="已存在"):
        take(data, instance, tmp_path / "there.zip")
    assert (tmp_path / "there.zip").read_bytes() == b"a file already there"
    with pytest.raises(BackupError, match="没有实例数据库"):
        take(data, tmp_path / "nowhere", tmp_path / "b.zip")


def test_the_command_lines_imports_wait_for_a_web_save(fresh: tuple[Flask, Path, Path], tmp_path: Path) -> None:
    from generator.intake.writelock import WriteLock

    app, data, _ = fresh
    runner = CliRunner()
    out = tmp_path / "forms"
    assert runner.invoke(main, ["--data", str(data), "form", "export", "--project", PROJECT,
                                "--out", str(out)]).exit_code == 0
    form = next(out.rglob("*.xlsx"))
    held = threading.Event()

    def save() -> None:
        with app.extensions["gaizao"]["store"].save_lock:  # as a web save holds it
            held.set()
            time.sleep(1.0)

    saver = threading.Thread(target=save)
    saver.start()
    held.wait()
    started = time.monotonic()
    r = runner.invoke(main, ["--data", str(data), "form", "import", str(form)])
    waited = time.monotonic() - started
    saver.join()
    assert r.exit_code == 0, r.output
    assert waited > 0.7
    with WriteLock(data):  # given back: taken again at once
        pass


def test_a_restore_that_cannot_replace_a_folder_puts_everything_back(
        fresh: tuple[Flask, Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _, data, instance = fresh
    archive = take(data, instance, tmp_path / "b.zip").path
    note = data / "projects" / "hand-made.txt"
    note.write_text("a note", encoding="utf-8")
    replace = Path.replace

    def held_open(self: Path, target: Any) -> Path:
        if self.name.startswith(".instance.restoring"):  # as Windows refuses while the server has files open
            raise PermissionError(13, "另一个程序正在使用此文件", str(target))
        return replace(self, target)

    monkeypatch.setattr(Path, "replace", held_open)
    with pytest.raises(BackupError, match="原文件夹已还原"):
        restore(archive, data, instance, force=True)
    assert note.read_text(encoding="utf-8") == "a note" and (instance / DB_FILE).exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b.zip", "data", "instance"]


def test_a_killed_backups_staging_folder_is_removed_by_the_next_backup(
    fresh: tuple[Flask, Path, Path], tmp_path: Path
) -> None:
    import os

    from generator.web.backup import OWNER_FILE, STALE_SECONDS, _hold

    _, data, instance = fresh
    left = data.parent / ".data.backup-killed"  # a backup killed mid-way: its lock is free
    (left / "data" / "projects").mkdir(parents=True)
    (left / "data" / "projects" / "x.yaml").write_text("community: x\n", encoding="utf-8")
    (left / OWNER_FILE).write_text("", encoding="utf-8")
    running = data.parent / ".data.backup-running"  # one running now in another process: kept
    running.mkdir()
    held = _hold(running / OWNER_FILE)
    assert held is not None
    fresh_made = data.parent / ".data.backup-justmade"  # made this moment, its lock not yet taken: kept
    fresh_made.mkdir()
    old = data.parent / ".data.backup-old"  # an older one without a lock file: removed
    old.mkdir()
    stamp = time.time() - STALE_SECONDS - 60
    os.utime(old, (stamp, stamp))
    try:
        take(data, instance, tmp_path / "one.zip")
        assert not left.exists() and not old.exists()
        assert running.is_dir() and fresh_made.is_dir()
    finally:
        held.close()


def test_restore_is_refused_while_a_server_uses_the_instance_folder(
    fresh: tuple[Flask, Path, Path], tmp_path: Path
) -> None:
    from generator.web.backup import hold_serving, served

    _, data, instance = fresh
    archive = tmp_path / "b.zip"
    take(data, instance, archive)
    serving = hold_serving(instance)  # as `gaizao serve` holds it while it runs
    assert serving is not None and served(instance)
    try:
        before = (data / "projects" / f"{PROJECT}.yaml").read_bytes()
        r = CliRunner().invoke(main, ["--data", str(data), "restore", str(archive), "--instance", str(instance),
                                      "--force"])
        assert r.exit_code == 1 and "正在运行" in r.output and "--while-serving" in r.output, r.output
        assert "Traceback" not in r.output
        assert not list(data.parent.glob("data.before-restore-*"))  # nothing touched
        assert (data / "projects" / f"{PROJECT}.yaml").read_bytes() == before
        # the backup of a served instance leaves the marker out
        with zipfile.ZipFile(archive) as z:
            assert not [n for n in z.namelist() if "serving" in n]
        with pytest.raises(BackupError, match="正在运行"):
            restore(archive, data, instance, force=True)
        done = restore(archive, data, instance, force=True, while_serving=True)
        assert done.files["data"] > 0
    finally:
        serving.close()
    assert not served(instance)  # the server gone: the marker is free

"""The README's first command on a machine without the system packages, and the tool without POSIX-only modules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

from generator.output.oslock import lock_exclusive, unlock

ROOT = Path(__file__).resolve().parent.parent

HIDDEN = {"apt", "apt-get", "aptitude", "dpkg", "sudo", "soffice", "libreoffice", "chromium", "pdftoppm"}
"""What a fresh machine (or one whose clerk may not install) lacks: no LibreOffice, no way to install it."""

POSIX_ONLY = ("fcntl", "resource", "grp", "pwd", "syslog")
"""Modules Windows does not have (termios and tty too, but click picks those by platform itself)."""

# Windows locks byte ranges with msvcrt.locking; POSIX record locks (lockf) behave the same way
# between processes, so this stand-in lets the Windows path run here.
FAKE_MSVCRT = '''
import errno, os
LK_UNLCK, LK_LOCK, LK_NBLCK, LK_RLCK, LK_NBRLCK = 0, 1, 2, 3, 4
def locking(fd, mode, nbytes):
    if mode == LK_UNLCK:
        os.lockf(fd, os.F_ULOCK, nbytes)
        return
    try:
        os.lockf(fd, os.F_TLOCK, nbytes)
    except OSError:
        raise OSError(errno.EACCES, "Permission denied") from None
'''


def _stripped_path(folder: Path) -> str:
    """A PATH of links to every program on this one except the hidden ones."""
    folder.mkdir()
    for directory in os.environ.get("PATH", "").split(os.pathsep):
        if not os.path.isdir(directory):
            continue
        for name in os.listdir(directory):
            program = os.path.join(directory, name)
            if name in HIDDEN or (folder / name).exists() or not os.access(program, os.X_OK):
                continue
            (folder / name).symlink_to(program)
    return str(folder)


def test_make_run_without_system_packages_builds_what_it_can_and_says_what_is_missing(tmp_path: Path) -> None:
    """No LibreOffice, no fonts, no apt: every document that needs none of them, and a clear message."""
    make = shutil.which("make")
    assert make is not None, "make 未安装"
    fonts = tmp_path / "fonts.conf"
    fonts.write_text('<?xml version="1.0"?>\n<fontconfig></fontconfig>\n', encoding="utf-8")
    home = tmp_path / "home"
    home.mkdir()
    out = tmp_path / "输出 文件夹"
    env = {"PATH": _stripped_path(tmp_path / "bin"), "HOME": str(home), "FONTCONFIG_FILE": str(fonts),
           "LANG": "C.UTF-8"}
    venv = Path(sys.prefix)
    # -o: the venv running these tests is installed already; make must not rebuild it.
    done = subprocess.run([make, "-C", str(ROOT), "-o", f"{venv}/.installed", "run", f"VENV={venv}", f"OUT={out}"],
                          env=env, capture_output=True, text=True, timeout=600, check=False)
    said = done.stdout + done.stderr
    assert done.returncode == 0, said
    assert "Traceback" not in said
    assert "未能安装系统软件包" in said and "sudo apt-get install -y" in said and "LibreOffice" in said
    assert "跳过 试点工作报告（年度工作总结）：绘制报告中的图表需要中文字体 Noto Sans CJK SC，本机未安装" in said
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    kinds = {entry["kind"] for entry in manifest["documents"]}
    assert {"survey", "application", "plan", "budget", "notice", "acceptance", "plan-table",
            "assessment", "statistics"} <= kinds
    assert "pilot-report" not in kinds
    for entry in manifest["documents"]:
        assert (out / entry["path"]).is_file()


def _script(body: str, fakes: Path) -> str:
    """Python that runs body with every POSIX-only module unimportable, as on Windows."""
    return textwrap.dedent(f"""
        import sys
        for name in {POSIX_ONLY!r}:
            sys.modules[name] = None
        # The standard library takes msvcrt's presence to mean Windows; give it to the tool only.
        import asyncio, getpass, multiprocessing, subprocess
        sys.path.insert(0, {str(fakes)!r})
        import msvcrt
    """) + textwrap.dedent(body)


def test_every_module_imports_and_a_build_runs_without_posix_only_modules(tmp_path: Path) -> None:
    fakes = tmp_path / "fakes"
    fakes.mkdir()
    (fakes / "msvcrt.py").write_text(FAKE_MSVCRT, encoding="utf-8")
    out = tmp_path / "输出 文件夹"
    child = _script(f"""
        from generator.output.writer import Output
        try:
            with Output(__import__("pathlib").Path({str(out)!r})).session():
                pass
        except Exception as exc:
            print(exc)
            sys.exit(3)
    """, fakes)
    parent = _script(f"""
        import importlib, pkgutil, subprocess
        import generator
        for module in pkgutil.walk_packages(generator.__path__, "generator."):
            if not module.name.endswith("__main__"):  # that one runs the command line
                importlib.import_module(module.name)
        from generator.cli.main import main
        try:
            main(["build", "--project", "dongqu-01", "--out", {str(out)!r}], standalone_mode=False)
        except SystemExit as exc:
            assert not exc.code, exc.code
        from pathlib import Path
        from generator.output.writer import Output
        with Output(Path({str(out)!r})).session():
            held = subprocess.run([sys.executable, "-c", {child!r}], capture_output=True, text=True)
        print("HELD", held.returncode, held.stdout.strip())
        free = subprocess.run([sys.executable, "-c", {child!r}], capture_output=True, text=True)
        print("FREE", free.returncode, free.stdout.strip())
    """, fakes)
    done = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True, timeout=300,
                          check=False, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"HELD 3 另一个生成任务正在写入 {out}，请等它结束后再运行" in done.stdout
    assert "FREE 0 " in done.stdout + " "
    documents = json.loads((out / "manifest.json").read_text(encoding="utf-8"))["documents"]
    assert {"application", "plan", "notice"} <= {entry["kind"] for entry in documents}


def test_the_lock_refuses_a_second_process_and_is_free_after_unlock(tmp_path: Path) -> None:
    path = tmp_path / "锁 文件"
    path.touch()
    probe = ("import sys\nfrom generator.output.oslock import lock_exclusive\n"
             f"f = open({str(path)!r}, 'a+')\ntry:\n    lock_exclusive(f)\nexcept BlockingIOError:\n    sys.exit(3)\n")
    with open(path, "a+") as file:
        lock_exclusive(file)
        assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 3
        unlock(file)
        assert subprocess.run([sys.executable, "-c", probe], check=False).returncode == 0

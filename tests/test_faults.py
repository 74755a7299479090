"""Faults: builds killed at random moments, full or read-only disks, concurrent builds.

The output folder must always hold a complete site, the previous one or the new one,
byte for byte; a following build must succeed and clear what a killed one left.
Tests run as root in CI, where chmod does not stop writes, so full and read-only
disks are simulated by making the writer's system calls fail.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import multiprocessing
import os
import random
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

import digest.writer as writer
from digest import lock
from digest.build import build
from digest.cli import main
from digest.errors import DigestError, OutputError
from digest.lock import BuildLocked, build_lock
from digest.parallel import worker_pool
from digest.writer import OutputFile, write_site

from .conftest import MINIMAL_SITE, write_files

ARTICLES = 100
KILLS = 10
CLI = [sys.executable, "-m", "digest"]  # what the `digest` console script runs


def tree(folder: Path) -> dict[str, str]:
    """Every file under `folder` and the hash of its bytes."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".digest-")
                  and p.name != ".digest-cache")


def big_site(root: Path, count: int = ARTICLES) -> Path:
    """MINIMAL_SITE with its article copied under `count` slugs and dates."""
    files = dict(MINIMAL_SITE)
    article = files.pop("content/articles/talks.md")
    sidecar = files.pop("content/articles/talks.yaml")
    for i in range(count):
        day = f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}"
        files[f"content/articles/story-{i:03d}.md"] = article.replace("2025-09-05", day)
        files[f"content/articles/story-{i:03d}.yaml"] = sidecar.replace("istanbul-2022",
                                                                        f"event-{i}")
    return write_files(root, files)


def run_cli(root: Path, *args: str) -> float:
    started = time.monotonic()
    done = subprocess.run([*CLI, *args], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return time.monotonic() - started


def set_title(root: Path, title: str) -> None:
    toml = root / "site.toml"
    toml.write_text(MINIMAL_SITE["site.toml"].replace('"Test Brief"', f'"{title}"'))


# --------------------------------------------------------------------------- killed builds


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_killed_builds_leave_the_old_or_the_new_site(tmp_path: Path) -> None:
    root = big_site(tmp_path / "site")
    out = tmp_path / "out"
    set_title(root, "Version A")
    run_cli(root, "build", "--output", str(out))
    old = tree(out)
    pristine = tmp_path / "pristine"
    shutil.copytree(out, pristine, symlinks=True)
    set_title(root, "Version B")
    # Timed to spread the kills over a whole build (the article cache is warm by now,
    # as it is for the builds killed below).
    seconds = run_cli(root, "build", "--output", str(tmp_path / "reference"))
    new = tree(tmp_path / "reference")
    assert old != new

    rng = random.Random(8)  # seeded: the same moments on every run
    outcomes = []
    for attempt in range(KILLS):
        if tree(out) != old:
            shutil.rmtree(out)
            shutil.copytree(pristine, out, symlinks=True)
        sig = (signal.SIGINT, signal.SIGTERM, signal.SIGKILL)[attempt % 3]
        delay = rng.uniform(0.05, seconds * 1.1)
        # A session of its own, so the signal reaches the whole build (worker
        # processes, the search indexer) as Ctrl-C in a terminal would; and SIGINT's
        # default disposition, which a test run started as a background job would
        # otherwise pass on as ignored.
        proc = subprocess.Popen([*CLI, "build", "--output", str(out)], cwd=root,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True, preexec_fn=_default_sigint)
        time.sleep(delay)
        with contextlib.suppress(ProcessLookupError):  # it may have finished first
            os.killpg(proc.pid, sig)
        proc.wait(timeout=60)
        with contextlib.suppress(ProcessLookupError):  # stragglers of that session
            os.killpg(proc.pid, signal.SIGKILL)
        assert out.is_dir(), f"no site after {sig.name} at {delay:.2f} s"
        now = tree(out)
        assert now in (old, new), f"partial site after {sig.name} at {delay:.2f} s"
        outcomes.append("new" if now == new else "old")
    run_cli(root, "build", "--output", str(out))
    assert tree(out) == new
    assert leftovers(tmp_path) == []
    # Worth something only if some kills landed before the swap.
    assert "old" in outcomes, outcomes


def _children(pid: int) -> list[int]:
    with contextlib.suppress(OSError):
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return []


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="finds the workers in /proc/PID/task/PID/children (Linux)")
@pytest.mark.parametrize(("phase", "presses"), [("articles", 1), ("pages", 1),
                                                ("articles", 2), ("pages", 2)])
def test_ctrl_c_while_workers_run_stops_the_build_quietly(tmp_path: Path, phase: str,
                                                          presses: int) -> None:
    """Ctrl-C reaches the whole process group; the workers leave it to the main process,
    which stops them, so the build ends at once with click's one word and nothing
    else: no traceback from each worker. Pressed twice, the build still ends, and
    leaves no process behind (a second Ctrl-C used to make it wait forever)."""
    root = big_site(tmp_path / "site", 600)
    out = tmp_path / "out"
    if phase == "pages":  # articles cached: workers are forked only to render pages
        run_cli(root, "build", "--output", str(tmp_path / "first"))
        set_title(root, "Another title")
    # Three jobs: two workers in either phase (pages are rendered by the build's own
    # process beside one worker fewer than the jobs).
    proc = subprocess.Popen([*CLI, "build", "--jobs", "3", "--output", str(out)], cwd=root,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            start_new_session=True, preexec_fn=_default_sigint)
    deadline = time.monotonic() + 60
    while len(_children(proc.pid)) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "the build never started its workers"
        time.sleep(0.005)
    assert proc.poll() is None, "the build ended before its workers could be interrupted"
    time.sleep(0.05)  # into the workers' first chunks
    for press in range(presses):
        if press:
            time.sleep(0.05)
        os.killpg(proc.pid, signal.SIGINT)
    try:
        _, stderr = proc.communicate(timeout=30)
    finally:
        gone = _group_ends(proc.pid)
    assert (proc.returncode, stderr) == (1, "\nAborted!\n")
    assert gone, "worker processes outlived the build"
    assert not out.exists()
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
                    reason="finds the workers in /proc/PID/task/PID/children (Linux)")
def test_workers_end_with_a_killed_build(tmp_path: Path) -> None:
    """Killed alone (kill -9, the out-of-memory killer), the main process took nothing
    with it: its workers waited for work forever, holding the site's build lock."""
    root = big_site(tmp_path / "site", 600)
    proc = subprocess.Popen([*CLI, "build", "--jobs", "2", "--output", str(tmp_path / "out")],
                            cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 60
    while len(workers := _children(proc.pid)) < 2 and proc.poll() is None:
        assert time.monotonic() < deadline, "the build never started its workers"
        time.sleep(0.005)
    assert proc.poll() is None, "the build ended before it could be killed"
    proc.kill()  # the main process only
    proc.wait(timeout=30)
    assert _group_ends(proc.pid), f"workers {workers} outlived the killed build"
    run_cli(root, "build", "--output", str(tmp_path / "out"))  # the lock is free


def _group_ends(group: int, seconds: float = 10.0) -> bool:
    """Whether every process of `group` has ended within `seconds`; kills any left."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(group, signal.SIGKILL)
    return False


def test_idle_workers_leave_ctrl_c_to_the_main_process(capfd: pytest.CaptureFixture[str]
                                                      ) -> None:
    # Workers waiting for work when Ctrl-C came printed a KeyboardInterrupt traceback
    # each and died (exit code 1).
    others = set(multiprocessing.active_children())
    with worker_pool(2) as pool:
        assert list(pool.map(abs, [-1, -2, -3, -4])) == [1, 2, 3, 4]
        workers = [c for c in multiprocessing.active_children() if c not in others]
        assert len(workers) == 2
        for worker in workers:
            os.kill(worker.pid, signal.SIGINT)  # type: ignore[arg-type]
        time.sleep(0.3)
        assert [w.is_alive() for w in workers] == [True, True]
    assert [w.exitcode for w in workers] == [0, 0]
    assert capfd.readouterr().err == ""


def test_ctrl_c_while_the_workers_start_stops_them(monkeypatch: pytest.MonkeyPatch,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    # Ctrl-C is held while the pool forks its workers, then delivered: the pool must be
    # shut down then too, not left to the interpreter's exit.
    others = set(multiprocessing.active_children())
    submit = ProcessPoolExecutor.submit

    def pressed(self: ProcessPoolExecutor, *args: object, **kwargs: object) -> object:
        os.kill(os.getpid(), signal.SIGINT)
        return submit(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(ProcessPoolExecutor, "submit", pressed)
    with pytest.raises(KeyboardInterrupt), worker_pool(2):
        pytest.fail("the block ran after Ctrl-C")
    assert [c for c in multiprocessing.active_children() if c not in others] == []
    assert capfd.readouterr().err == ""


def test_an_interrupted_pool_cancels_the_chunks_not_started() -> None:
    with pytest.raises(KeyboardInterrupt), worker_pool(2) as pool:
        futures = [pool.submit(time.sleep, 0.2) for _ in range(50)]
        futures[0].result()
        raise KeyboardInterrupt  # Ctrl-C in the main process
    # Done (one or two), running (two) and queued for the workers (jobs + 1): the rest
    # never ran.
    assert sum(f.cancelled() for f in futures) >= 40


def test_sigint_during_the_write_removes_the_staging_folder(make_site, tmp_path: Path,
                                                            monkeypatch) -> None:
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    calls = []

    def interrupted(folder: Path, dest: str, content: bytes) -> None:
        calls.append(dest)
        if len(calls) == 5:
            raise KeyboardInterrupt
        real_write(folder, dest, content)

    real_write = writer._write_file
    monkeypatch.setattr(writer, "_write_file", interrupted)
    # Unchanged files are linked, not written: make every file count as changed.
    monkeypatch.setattr(writer, "_link_unchanged", lambda *args: False)
    with pytest.raises(KeyboardInterrupt):
        build(root, output=out, use_cache=False)
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_a_site_caught_between_two_renames_is_restored(make_site, tmp_path: Path,
                                                       monkeypatch) -> None:
    """Without an atomic exchange the swap is two renames; a kill between them leaves
    the old site aside, and the next build puts it back before anything else."""
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    monkeypatch.setattr(writer, "_exchange", lambda first, second: False)
    real_rename = os.rename

    def killed_after_first(src: str | Path, dst: str | Path) -> None:
        real_rename(src, dst)
        if Path(dst).name.startswith(writer.OLD_PREFIX):
            raise SystemExit("killed")

    monkeypatch.setattr(writer.os, "rename", killed_after_first)
    with pytest.raises(SystemExit):
        build(root, output=out, use_cache=False)
    monkeypatch.setattr(writer.os, "rename", real_rename)
    assert not out.exists() and len(leftovers(tmp_path)) == 1
    # Killed for real, the staging folder would still be there too; the next build
    # restores the old site first and then replaces it.
    build(root, output=out, use_cache=False)
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_leftovers_of_a_running_build_are_left_alone(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / ".nojekyll").write_bytes(b"")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        running = tmp_path / f"{writer.STAGING_PREFIX}out-{sleeper.pid}-abcdefgh"
        dead = tmp_path / f"{writer.STAGING_PREFIX}out-999999999-abcdefgh"
        other_output = tmp_path / f"{writer.STAGING_PREFIX}out-2-1-abcdefgh"
        for folder in (running, dead, other_output):
            folder.mkdir()
        write_site({"index.html": OutputFile("index.html", b"hi", "test")}, out)
        assert running.exists() and other_output.exists() and not dead.exists()
    finally:
        sleeper.kill()
        sleeper.wait()


# --------------------------------------------------------------------------- failing disks


def _fail(code: int, after: int = 0):
    calls = []

    def failing(*args: object, **kwargs: object) -> object:
        calls.append(args)
        if len(calls) > after:
            raise OSError(code, os.strerror(code), str(args[0]) if args else None)
        return None

    return failing


@pytest.mark.parametrize(("code", "reason"), [(errno.ENOSPC, "the disk is full"),
                                              (errno.EROFS, "the disk is read-only"),
                                              (errno.EDQUOT, "the disk quota is exhausted"),
                                              (errno.EIO, "Input/output error")])
def test_a_failing_disk_mid_write_keeps_the_previous_site(make_site, tmp_path: Path,
                                                          monkeypatch, code: int,
                                                          reason: str) -> None:
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    real_write = writer._write_file
    count = []

    def filling(folder: Path, dest: str, content: bytes) -> None:
        count.append(dest)
        if len(count) > 7:
            raise OSError(code, os.strerror(code), str(folder / dest))
        real_write(folder, dest, content)

    monkeypatch.setattr(writer, "_write_file", filling)
    monkeypatch.setattr(writer, "_link_unchanged", lambda *args: False)
    with pytest.raises(OutputError) as caught:
        build(root, output=out, use_cache=False)
    message = caught.value.format_message()
    assert message.startswith(f"cannot write the site to {out}: {reason} (writing ")
    assert message.endswith("; the previous site was left as it was")
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_read_only_parent_cannot_even_stage(make_site, tmp_path: Path, monkeypatch) -> None:
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    monkeypatch.setattr(writer.tempfile, "mkdtemp", _fail(errno.EROFS))
    with pytest.raises(OutputError, match="the disk is read-only; the previous site was left"):
        build(root, output=out, use_cache=False)
    assert tree(out) == before


def test_failing_swap_keeps_the_previous_site(make_site, tmp_path: Path, monkeypatch) -> None:
    root = make_site()
    out = tmp_path / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    monkeypatch.setattr(writer, "_exchange", _fail(errno.EROFS))
    with pytest.raises(OutputError, match="the disk is read-only"):
        build(root, output=out, use_cache=False)
    assert tree(out) == before
    assert leftovers(tmp_path) == []
    # The two-rename fallback puts the old site back when the second rename fails.
    monkeypatch.setattr(writer, "_exchange", lambda first, second: False)
    real_rename = os.rename

    def second_fails(src: str | Path, dst: str | Path) -> None:
        if Path(src).name.startswith(writer.STAGING_PREFIX):
            raise OSError(errno.ENOSPC, "No space left on device", str(dst))
        real_rename(src, dst)

    monkeypatch.setattr(writer.os, "rename", second_fails)
    with pytest.raises(OutputError, match="the disk is full"):
        build(root, output=out, use_cache=False)
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_first_build_on_a_full_disk_writes_nothing(make_site, tmp_path: Path,
                                                   monkeypatch) -> None:
    root = make_site()
    out = tmp_path / "out"
    monkeypatch.setattr(writer, "_write_file", _fail(errno.ENOSPC, after=3))
    with pytest.raises(OutputError, match="the disk is full.*; no site was written$"):
        build(root, output=out, use_cache=False)
    assert not out.exists()
    assert leftovers(tmp_path) == []


def test_a_failing_indexer_keeps_the_previous_site(tmp_path: Path) -> None:
    out = tmp_path / "out"
    write_site({"index.html": OutputFile("index.html", b"old", "test")}, out)
    before = tree(out)

    def indexer(staging: Path) -> None:
        raise DigestError("search: Pagefind failed")

    with pytest.raises(DigestError, match="Pagefind failed"):
        write_site({"index.html": OutputFile("index.html", b"new", "test")}, out,
                   before_swap=indexer)
    assert tree(out) == before
    assert leftovers(tmp_path) == []


def test_full_disk_through_the_cli_is_one_clear_line(make_site, tmp_path: Path,
                                                     monkeypatch) -> None:
    root = make_site()
    monkeypatch.chdir(root)
    monkeypatch.setattr(writer, "_write_file", _fail(errno.ENOSPC, after=2))
    result = CliRunner().invoke(main, ["build", "--output", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "cannot write the site to" in result.output and "the disk is full" in result.output
    assert "Traceback" not in result.output


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root writes through chmod; simulated by the tests above")
def test_read_only_output_parent_for_real(make_site, tmp_path: Path) -> None:
    root = make_site()
    parent = tmp_path / "parent"
    out = parent / "out"
    build(root, output=out, use_cache=False)
    before = tree(out)
    parent.chmod(0o555)
    try:
        with pytest.raises(OutputError, match="permission denied"):
            build(root, output=out, use_cache=False)
    finally:
        parent.chmod(0o755)
    assert tree(out) == before


# --------------------------------------------------------------------------- the build lock

HOLDER = textwrap.dedent("""\
    import sys, time
    from pathlib import Path
    from digest.lock import build_lock
    with build_lock(Path(sys.argv[1])):
        print("locked", flush=True)
        time.sleep(float(sys.argv[2]))
""")


def _hold(root: Path, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(root), str(seconds)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout is not None
    with holder.stdout:
        assert holder.stdout.readline() == "locked\n"
    return holder


def test_a_second_build_fails_clearly_while_one_runs(make_site) -> None:
    root = make_site()
    holder = _hold(root, 30)
    try:
        started = time.monotonic()
        with pytest.raises(BuildLocked) as caught, build_lock(root, timeout=0.3):
            pass
        assert 0.3 <= time.monotonic() - started < 5
        assert caught.value.format_message().startswith(
            f"another digest build is running for this site (pid {holder.pid}); wait for it "
            "to finish, or stop it.")
    finally:
        holder.kill()
        holder.wait()
    # flock dies with its holder: a killed build leaves no stale lock.
    with build_lock(root, timeout=0) as path:
        assert path == root / ".digest-cache" / "build.lock"
        assert path.read_text() == f"{os.getpid()}\n"


def test_a_second_build_waits_for_the_first(make_site) -> None:
    root = make_site()
    holder = _hold(root, 0.3)
    try:
        with build_lock(root, timeout=20):
            assert holder.wait(timeout=20) == 0  # it finished before we got the lock
    finally:
        holder.kill()
        holder.wait()


def test_a_planted_lock_link_is_not_followed(make_site, tmp_path: Path) -> None:
    root = make_site()
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    (root / ".digest-cache").mkdir()
    (root / ".digest-cache" / "build.lock").symlink_to(victim)
    with pytest.raises(DigestError, match="build lock"), build_lock(root, timeout=0):
        pass
    assert victim.read_text() == "keep me"


def test_a_read_only_project_builds_without_a_lock(make_site, monkeypatch) -> None:
    root = make_site()
    monkeypatch.setattr(lock.os, "open", _fail(errno.EROFS))
    with build_lock(root, timeout=0) as path:
        assert path is None


def test_build_holds_the_lock(make_site, tmp_path: Path, monkeypatch) -> None:
    root = make_site()
    monkeypatch.setattr(lock, "DEFAULT_TIMEOUT", 0.1)
    with build_lock(root), pytest.raises(BuildLocked):
        build(root, output=tmp_path / "out", use_cache=False)

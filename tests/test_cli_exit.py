"""How the `digest` command ends (digest.cli.run): its status and output are kept, and
Python's teardown is skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from digest import __version__
from digest.cli import _exit_status

DIGEST = [sys.executable, "-m", "digest"]


def test_an_error_keeps_its_message_and_status(tmp_path: Path) -> None:
    done = subprocess.run([*DIGEST, "build"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr == (
        f"site.toml:1:1: error: no site.toml in {tmp_path} or above\n"
        "    hint: run digest in a site folder, or create one with 'digest init DIR'\n"
        "1 error(s); nothing was written\n")


def test_a_usage_error_keeps_click_s_status(tmp_path: Path) -> None:
    done = subprocess.run([*DIGEST, "build", "--bogus"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2
    assert done.stderr.endswith("Error: No such option '--bogus'. Did you mean '--jobs'?\n")


def test_output_into_a_pipe_is_flushed_whole(tmp_path: Path) -> None:
    done = subprocess.run([*DIGEST, "schema", "sidecar"], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0
    assert json.loads(done.stdout)["$schema"] == "https://json-schema.org/draft/2020-12/schema"


_TEARDOWN_SCRIPT = """
import atexit, sys
atexit.register(lambda: print("torn down"))
sys.argv = ["digest", "--version"]
from digest.cli import run
run()
"""


def test_the_command_skips_python_s_teardown() -> None:
    done = subprocess.run([sys.executable, "-c", _TEARDOWN_SCRIPT], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout) == (0, f"digest, version {__version__}\n")


_LATE_CTRL_C_SCRIPT = """
import logging, os, signal, sys
import digest.cli
shutdown = logging.shutdown

def pressed_meanwhile():
    os.kill(os.getpid(), signal.SIGINT)  # delivered at once, to this thread
    shutdown()

logging.shutdown = pressed_meanwhile
sys.argv = ["digest", "--version"]
digest.cli.run()
"""

_CTRL_C_IN_CLICK_SCRIPT = """
import sys
import digest.cli

def cut_short(*args, **kwargs):
    raise KeyboardInterrupt

digest.cli.main = cut_short
digest.cli.run()
"""


def test_a_ctrl_c_after_the_command_is_over_changes_nothing() -> None:
    done = subprocess.run([sys.executable, "-c", _LATE_CTRL_C_SCRIPT], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (
        0, f"digest, version {__version__}\n", "")


def test_a_ctrl_c_that_cuts_click_s_report_short_ends_with_130() -> None:
    done = subprocess.run([sys.executable, "-c", _CTRL_C_IN_CLICK_SCRIPT], capture_output=True,
                          text=True, timeout=120)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "")


@pytest.mark.parametrize(("code", "status", "printed"), [
    (None, 0, ""), (0, 0, ""), (3, 3, ""), ("stopped here", 1, "stopped here\n")])
def test_exit_codes_mean_what_they_mean_to_python(
        code: object, status: int, printed: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert _exit_status(code) == status
    assert capsys.readouterr().err == printed


def test_a_closed_standard_output_is_no_error(tmp_path: Path) -> None:
    done = subprocess.run(["bash", "-c", f"{sys.executable} -m digest --version >&-"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")

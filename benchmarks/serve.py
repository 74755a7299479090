"""Time `digest serve` from saving a sidecar to the reload event the open pages get.

    python benchmarks/serve.py SITE [--edits 7] [--edit summary|quote] [--digest-cmd "digest"]

Starts `digest serve` on a free port as its own process, listens to the event stream
every open page listens to, then edits the middle article's sidecar (a word appended
to its summary, as `run.py` does; with `--edit quote`, a context given to its first
quote, which the quotes page, the speaker's page and the article's topic pages show
too) and waits for the next `build` event; the file is
restored after each edit (and that rebuild awaited, not counted). Prints the median
and every run: save-to-event time (watching, debouncing, rebuilding, announcing) and
the rebuild time the server reports.
"""

from __future__ import annotations

import argparse
import http.client
import json
import queue
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import generate  # noqa: E402
import yaml  # noqa: E402
from run import EDIT_MARKER, edit_one_sidecar  # noqa: E402

EVENTS = "/__digest__/events"


def edit_quote_context(sidecar: Path) -> bytes:
    """Give the sidecar's first quote a context; return the original bytes to restore."""
    original = sidecar.read_bytes()
    data = yaml.safe_load(original)
    quote = data["quotes"][0]
    quote["context"] = f"{quote.get('context', '')} {EDIT_MARKER}".strip()
    sidecar.write_text(generate.dump_yaml(data), encoding="utf-8")
    return original


EDITS = {"summary": edit_one_sidecar, "quote": edit_quote_context}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def listen(port: int, events: queue.Queue[tuple[float, str, dict]], deadline: float) -> None:
    """Put every server-sent event into `events` with the time it arrived."""
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", EVENTS)
            response = conn.getresponse()
            break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
    name, data = "", ""
    while line := response.readline():
        text = line.decode().rstrip("\n")
        if text.startswith("event: "):
            name = text[7:]
        elif text.startswith("data: "):
            data = text[6:]
        elif not text and name:
            events.put((time.perf_counter(), name, json.loads(data)))
            name, data = "", ""


def next_build(events: queue.Queue[tuple[float, str, dict]], timeout: float
               ) -> tuple[float, dict]:
    end = time.perf_counter() + timeout
    while True:
        at, name, data = events.get(timeout=max(0.1, end - time.perf_counter()))
        if name == "build":
            return at, data
        if name == "errors" and data["problems"]:
            raise SystemExit(f"the edit broke the site: {data['problems'][0]['text']}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--edits", type=int, default=7)
    parser.add_argument("--edit", choices=sorted(EDITS), default="summary")
    parser.add_argument("--digest-cmd", default=f"{sys.executable} -m digest")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args(argv)
    site = args.site.resolve()
    sidecars = sorted((site / "content" / "articles").glob("*.yaml"))
    edited = sidecars[len(sidecars) // 2]
    port = free_port()
    server = subprocess.Popen([*shlex.split(args.digest_cmd), "-q", "serve", "--port",
                               str(port)], cwd=site)
    events: queue.Queue[tuple[float, str, dict]] = queue.Queue()
    try:
        started = time.perf_counter()
        threading.Thread(target=listen, args=(port, events, time.monotonic() + args.timeout),
                         daemon=True).start()
        next_build(events, args.timeout)  # the first build, announced on connecting
        print(f"{site.name}: {len(sidecars)} sidecars; first build ready after "
              f"{time.perf_counter() - started:.2f} s; editing the {args.edit} in {edited.name}",
              flush=True)
        saves, builds = [], []
        for _ in range(args.edits):
            time.sleep(0.3)  # let the watcher settle, as between an editor's saves
            saved = time.perf_counter()
            original = EDITS[args.edit](edited)
            try:
                at, data = next_build(events, args.timeout)
            finally:
                edited.write_bytes(original)
            saves.append(at - saved)
            builds.append(float(data["seconds"]))
            print(f"  save -> reload event {saves[-1]:.3f} s (rebuild {builds[-1]:.3f} s)",
                  flush=True)
            next_build(events, args.timeout)  # the restore's rebuild
        print(f"median of {args.edits}: save -> reload event {statistics.median(saves):.3f} s, "
              f"rebuild {statistics.median(builds):.3f} s")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`digest serve`: the site built in memory, served under its base path, rebuilt on every
save and reloaded in the open pages.

Threads: one accepts HTTP requests (ThreadingHTTPServer answers each on its own thread),
the watchers rebuild on changes, and every open page holds an event stream waiting for
the next build. They share one immutable BuildState, swapped under a condition, so a
request never sees half a build and a failed build never replaces a good one.
"""

from __future__ import annotations

import errno
import functools
import html
import itertools
import json
import logging
import secrets
import socket
import socketserver
import sys
import threading
import time
import traceback
import webbrowser
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import MappingProxyType
from typing import Any
from urllib.parse import unquote, urlsplit

import jinja2
import watchfiles

from digest.cache import BuildCache
from digest.changes import KeyInputs
from digest.collector import DeferredCollector
from digest.config import CONFIG_NAME, load_config
from digest.errors import ContentError, DigestError, Problem
from digest.pagekeys import PageMemo, ViewCache
from digest.pipeline import analyse_sources, render_files
from digest.sources import discover

log = logging.getLogger(__name__)

EVENTS_PATH = "/__digest__/events"
# Saves closer together than this are one rebuild (watchfiles' quiet period).
STEP_MS = 50
# How long a watcher waits before it yields an empty batch; the first yield proves the
# watch is in place, so start() can return knowing no save will be missed.
TICK_MS = 100
READY_SECONDS = 10.0
JOIN_SECONDS = 5.0
# An idle event stream gets a comment this often, so a closed page frees its thread.
KEEPALIVE_SECONDS = 5.0
TRACEBACK_FRAMES = 30

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".json": "application/json",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".avif": "image/avif",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".pdf": "application/pdf",
    ".webmanifest": "application/manifest+json",
}


@dataclass(frozen=True, slots=True)
class BuildState:
    """What the server shows: the last good site, and why the latest build failed."""

    build_id: str  # of the last good build; "" until one succeeds
    files: Mapping[str, bytes]  # dest_rel -> bytes, exactly as `digest build` writes them
    base_path: str  # the URL path the site lives under: '/digest/'
    problems: tuple[Problem, ...] = ()  # of the latest build; () when it succeeded
    seconds: float = 0.0  # how long the latest build took
    warnings: tuple[Problem, ...] = ()  # of the last good build
    page_keys: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    # What those keys were made from: the next rebuild keys again only what an edit
    # can have changed (changes.py). Kept with the pages it describes, never apart.
    key_inputs: KeyInputs | None = None


@dataclass(frozen=True, slots=True)
class Response:
    """What the preview server answers a request with."""

    status: int
    content_type: str
    body: bytes
    location: str = ""


@dataclass(frozen=True, slots=True)
class WatchTarget:
    """Paths one watcher follows, whether it descends into folders, which changes count."""

    paths: tuple[Path, ...]
    recursive: bool
    accept: Callable[[watchfiles.Change, str], bool]


NOT_BUILT = BuildState("", MappingProxyType({}), "/")


# --- building -------------------------------------------------------------------------


def build_in_memory(root: Path, drafts: bool, previous: BuildState | None = None,
                    cache: BuildCache | None = None,
                    sources_memo: dict[str, Any] | None = None,
                    views: ViewCache | None = None) -> BuildState:
    """The site built from disk, with no build id yet; raise on any content error.

    Incremental: articles whose files did not change come from `cache` (kept in
    memory between rebuilds), and pages whose template input did not change are taken
    from `previous` instead of being rendered again."""
    config = load_config(root)
    sources, problems = discover(config, sources_memo)
    analysis = analyse_sources(config, sources, problems, drafts=drafts, jobs=1,
                               use_cache=False, cache=cache,
                               merge_memo=views.merges if views is not None else None)
    if analysis.errors:
        raise ContentError(analysis.problems)
    old = previous or NOT_BUILT
    memos: list[PageMemo] = []

    def reuse(fingerprint: str) -> PageMemo:
        memos.append(PageMemo(fingerprint, {d: (k, "") for d, k in old.page_keys.items()},
                              old.files.get, inputs=old.key_inputs, keep_inputs=True))
        return memos[-1]

    files = render_files(analysis, jobs=1, reuse=reuse, views=views).files
    contents = {dest: output.content for dest, output in files.items()}
    keys = {dest: output.key for dest, output in files.items() if output.key}
    return BuildState(
        "", MappingProxyType(contents), analysis.config.base_path,
        warnings=tuple(analysis.warnings), page_keys=MappingProxyType(keys),
        key_inputs=memos[-1].made_inputs if memos else None,
    )


def problems_of(exc: Exception, root: Path) -> tuple[Problem, ...]:
    """Whatever a build raised, as problems located as precisely as it allows."""
    if isinstance(exc, ContentError):
        return tuple(exc.problems)
    if isinstance(exc, DigestError):
        return (Problem("", 0, 0, exc.format_message(), code="build"),)
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.filename:
        where = _display_path(exc.filename, root)
        message = f"template syntax error: {exc.message}"
        return (Problem(where, exc.lineno, 1, message, code="template"),)
    message = f"{type(exc).__name__}: {exc}"
    if frame := _template_frame(exc):
        return (Problem(_display_path(frame[0], root), frame[1], 1, message, code="template"),)
    hint = "the traceback is in the terminal running digest serve"
    return (Problem("", 0, 0, message, hint, code="exception"),)


def _template_frame(exc: BaseException) -> tuple[str, int] | None:
    """The innermost template line in the traceback: Jinja rewrites frames so that
    their file and line are the template's."""
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        if not frame.filename.endswith(".py") and Path(frame.filename).is_file():
            return frame.filename, frame.lineno or 1
    return None


def _display_path(filename: str, root: Path) -> str:
    path = Path(filename)
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def problem_text(problem: Problem) -> str:
    """`digest check`'s text for a problem; one without a file reads `error: message`."""
    if problem.path:
        return problem.format_text()
    head = f"{problem.severity}: {problem.message}"
    return f"{head}\n    hint: {problem.hint}" if problem.hint else head


# --- answering requests ---------------------------------------------------------------


def content_type(dest_rel: str) -> str:
    """The Content-Type for an output file, from a fixed table so it never depends on the
    machine's mime.types (which maps .xml to text/xml on some systems)."""
    name = dest_rel.rsplit("/", 1)[-1]
    suffix = name[name.rfind(".") :].lower() if "." in name else ""
    return CONTENT_TYPES.get(suffix, "application/octet-stream")


def respond(state: BuildState, raw_path: str) -> Response:
    """Answer a GET the way GitHub Pages would, from the files of `state`."""
    if not state.build_id:
        return Response(500, CONTENT_TYPES[".html"], error_page(state.problems))
    parts = urlsplit(raw_path)
    path = unquote(parts.path)
    base = state.base_path
    if path in ("/", base.rstrip("/")) and path != base:
        return Response(302, CONTENT_TYPES[".txt"], b"", location=base)
    rel = path[len(base) :] if path.startswith(base) else None
    if rel is None:
        return _not_found(state)
    dest = rel + "index.html" if rel == "" or rel.endswith("/") else rel
    if dest in state.files:
        return Response(200, content_type(dest), state.files[dest])
    if rel + "/index.html" in state.files:
        query = f"?{parts.query}" if parts.query else ""
        return Response(301, CONTENT_TYPES[".txt"], b"", location=parts.path + "/" + query)
    return _not_found(state)


def _not_found(state: BuildState) -> Response:
    page = state.files.get(
        "404.html", b"<!DOCTYPE html><title>Not found</title><body><h1>Not found</h1></body>"
    )
    return Response(404, CONTENT_TYPES[".html"], page)


def error_page(problems: tuple[Problem, ...]) -> bytes:
    """What every URL shows while no build has succeeded yet."""
    items = "\n".join(f"<pre>{html.escape(problem_text(p))}</pre>" for p in problems)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        "<title>Build failed · digest serve</title>\n<style>body{font:16px/1.5 system-ui,"
        "sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1a1a1a}"
        "h1{color:#a61b1b}pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#fdf3f2;"
        "padding:.75rem 1rem;border-left:4px solid #c0392b}</style>\n</head>\n<body>\n"
        "<h1>The site could not be built</h1>\n<p>Fix these problems and save; this page "
        f"reloads by itself when the build succeeds.</p>\n{items}\n</body>\n</html>\n"
    ).encode()


def inject_script(page: bytes, build_id: str) -> bytes:
    """The page with the live-reload script before its last </body> (or at its end)."""
    script = RELOAD_SCRIPT.replace("__BUILD_ID__", json.dumps(build_id).replace("</", "<\\/"))
    at = page.lower().rfind(b"</body>")
    at = len(page) if at < 0 else at
    return page[:at] + script.encode() + page[at:]


def sse_events(seen: BuildState | None, state: BuildState) -> bytes:
    """Server-sent events telling a page what changed since it saw `seen`."""
    events = b""
    if seen is None or state.build_id != seen.build_id:
        events += _sse("build", {"id": state.build_id, "seconds": round(state.seconds, 3)})
    if seen is None or state.problems != seen.problems:
        events += _sse(
            "errors",
            {"problems": [{**p.as_json(), "text": problem_text(p)} for p in state.problems]},
        )
    return events


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


class _Handler(BaseHTTPRequestHandler):
    server_version = "digest-serve"
    # A browser's speculative connection may never send a request; don't keep its thread.
    timeout = 30

    def __init__(self, *args: Any, dev: DevServer, **kwargs: Any) -> None:
        self.dev = dev  # set before super().__init__, which handles the request
        super().__init__(*args, **kwargs)

    def do_GET(self) -> None:
        if urlsplit(self.path).path == EVENTS_PATH:
            self._stream_events()
        else:
            self._answer(send_body=True)

    def do_HEAD(self) -> None:
        self._answer(send_body=False)

    def _answer(self, send_body: bool) -> None:
        state = self.dev.state
        response = respond(state, self.path)
        body = response.body
        if response.content_type.startswith("text/html"):
            body = inject_script(body, state.build_id)
        self.send_response(response.status)
        self.send_header("Content-Type", response.content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        if response.location:
            self.send_header("Location", response.location)
        self.end_headers()
        if send_body:
            self.wfile.write(body)

    def _stream_events(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.close_connection = True
        seen: BuildState | None = None
        try:
            self.wfile.write(b"retry: 1000\n\n")
            while (state := self.dev.wait_for_change(seen, KEEPALIVE_SECONDS)) is not None:
                self.wfile.write(sse_events(seen, state) or b": keep-alive\n\n")
                seen = state
        except (ConnectionError, TimeoutError):
            pass  # the page was closed or reloaded

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # an open event stream must never keep the process alive

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks up the host's FQDN, which can stall for seconds on
        # a slow resolver; nothing here uses it.
        socketserver.TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], ConnectionError):
            log.debug("connection from %s dropped", client_address)
        else:
            log.exception("error answering %s", client_address)


class _HTTPServer6(_HTTPServer):
    address_family = socket.AF_INET6


def _bind(host: str, port: int, handler: Callable[..., _Handler]) -> _HTTPServer:
    server_class = _HTTPServer6 if ":" in host else _HTTPServer
    try:
        return server_class((host, port), handler)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise DigestError(
                f"port {port} is already in use; pass --port to choose another"
            ) from None
        raise DigestError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None


# --- the server -----------------------------------------------------------------------


def watch_targets(root: Path) -> list[WatchTarget]:
    """content/ and themes/ in depth; site.toml through its folder, without descending,
    because editors save it by renaming a new file over it, which ends a watch on the
    file itself."""
    folders = tuple(root / name for name in ("content", "themes") if (root / name).is_dir())
    targets = [WatchTarget((root,), False, _is_config)]
    if folders:
        targets.append(WatchTarget(folders, True, watchfiles.DefaultFilter()))
    return targets


def _is_config(change: watchfiles.Change, path: str) -> bool:
    return Path(path).name == CONFIG_NAME


class DevServer:
    """The live-preview server. Binds its port when made; builds and serves on start()."""

    def __init__(self, root: Path, host: str, port: int, drafts: bool = False) -> None:
        self.root = root
        self.host = host
        self.drafts = drafts
        self._state = NOT_BUILT
        self._article_cache = BuildCache.in_memory()
        self._sources_memo: dict[str, Any] = {}
        self._views = ViewCache()
        self._changed = threading.Condition()
        self._build_lock = threading.Lock()
        self._collector = DeferredCollector(self._build_lock)
        self._stopping = threading.Event()
        self._session = secrets.token_hex(4)  # a page from an earlier run always reloads
        self._counter = itertools.count(1)
        self._threads: list[threading.Thread] = []
        self._http_thread: threading.Thread | None = None
        self._httpd = _bind(host, port, functools.partial(_Handler, dev=self))

    @property
    def state(self) -> BuildState:
        return self._state

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        host = "localhost" if self.host in ("", "0.0.0.0", "::") else self.host
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{self.port}{self._state.base_path}"

    def start(self) -> None:
        """Watch, build once, then serve; returns as soon as the first build is served."""
        readies = [self._spawn_watcher(target) for target in watch_targets(self.root)]
        for ready in readies:
            ready.wait(READY_SECONDS)
        self.rebuild()
        self._http_thread = self._spawn(
            functools.partial(self._httpd.serve_forever, 0.1), "digest-http"
        )

    def wait(self) -> None:
        """Block until stop() is called (or Ctrl-C)."""
        self._stopping.wait()

    def stop(self) -> None:
        """End event streams, stop serving and watching, join the threads. Idempotent."""
        self._stopping.set()
        self._collector.stop()
        with self._changed:
            self._changed.notify_all()
        if self._http_thread is not None and self._http_thread.is_alive():
            self._httpd.shutdown()
        self._httpd.server_close()
        for thread in self._threads:
            thread.join(JOIN_SECONDS)

    def rebuild(self) -> BuildState:
        """Build from disk and publish the result; a failed build keeps the last good site."""
        with self._build_lock:
            started = time.perf_counter()
            try:
                built = build_in_memory(self.root, self.drafts, self._state,
                                        self._article_cache, self._sources_memo, self._views)
            except Exception as exc:  # nothing a content or theme file holds may stop us
                problems = problems_of(exc, self.root)
                _log_failure(exc, problems)
                state = replace(
                    self._state, problems=problems, seconds=time.perf_counter() - started
                )
            else:
                state = self._succeeded(built, time.perf_counter() - started)
            with self._changed:
                self._state = state
                self._changed.notify_all()
        self._collector.built()
        return state

    def _succeeded(self, built: BuildState, seconds: float) -> BuildState:
        previous = self._state
        if built.warnings != previous.warnings:  # each rebuild repeating them buries news
            for problem in built.warnings:
                log.warning("%s", problem.format_text())
        if previous.build_id and not previous.problems and built.files == previous.files:
            # A save that changes no output (saved twice, or a touch): the pages are
            # current, so keep the build id and reload nothing.
            log.info("rebuilt in %.2f s; nothing changed", seconds)
            return replace(previous, seconds=seconds, warnings=built.warnings)
        log.info("built %d files in %.2f s", len(built.files), seconds)
        return replace(built, build_id=f"{self._session}-{next(self._counter)}", seconds=seconds)

    def wait_for_change(self, seen: BuildState | None, timeout: float) -> BuildState | None:
        """The current state once it is not `seen` or `timeout` passed; None when stopping."""
        with self._changed:
            self._changed.wait_for(
                lambda: self._stopping.is_set() or self._state is not seen, timeout
            )
            return None if self._stopping.is_set() else self._state

    def _spawn(self, target: Callable[[], None], name: str) -> threading.Thread:
        # Daemon threads: a build stuck on a pathological file must not block exit.
        thread = threading.Thread(target=target, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)
        return thread

    def _spawn_watcher(self, target: WatchTarget) -> threading.Event:
        ready = threading.Event()
        self._spawn(functools.partial(self._watch, target, ready), "digest-watch")
        return ready

    def _watch(self, target: WatchTarget, ready: threading.Event) -> None:
        try:
            for changes in watchfiles.watch(
                *target.paths,
                watch_filter=target.accept,
                recursive=target.recursive,
                step=STEP_MS,
                rust_timeout=TICK_MS,
                yield_on_timeout=True,
                stop_event=self._stopping,
                raise_interrupt=False,
            ):
                ready.set()
                if changes:
                    names = sorted(_display_path(path, self.root) for _, path in changes)
                    log.info("changed: %s", ", ".join(names))
                    self.rebuild()
        except Exception:
            log.exception("stopped watching %s", ", ".join(map(str, target.paths)))
        finally:
            ready.set()


def _log_failure(exc: Exception, problems: tuple[Problem, ...]) -> None:
    report = "\n".join(problem_text(p) for p in problems)
    if not isinstance(exc, DigestError | jinja2.TemplateError):
        # Ours, not the user's: the traceback is for a bug report. Its innermost frames
        # are enough, and a RecursionError would otherwise print a thousand.
        frames = traceback.format_exception(exc, limit=-TRACEBACK_FRAMES)
        report += "\n" + "".join(frames).rstrip()
    log.error("build failed; still serving the last good build\n%s", report)


def make_server(root: Path, host: str, port: int, drafts: bool = False) -> DevServer:
    """A dev server for the site at `root`, bound to host:port (0 picks a free port);
    raise DigestError when the port cannot be had."""
    return DevServer(root.resolve(), host, port, drafts)


def run_server(
    root: Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    *,
    open_browser: bool = False,
    drafts: bool = False,
) -> None:
    """Serve the site at `root` with live reload until Ctrl-C, then stop cleanly."""
    if not log.isEnabledFor(logging.DEBUG):
        # watchfiles announces every batch at INFO; our own "changed:" line says more.
        logging.getLogger("watchfiles").setLevel(logging.WARNING)
    server = make_server(root, host, port, drafts)
    try:
        server.start()
        log.info("serving %s at %s (Ctrl-C to stop)", server.root, server.url)
        if open_browser:
            webbrowser.open(server.url)
        server.wait()
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        server.stop()


# The live-reload client, injected into served HTML only. It shows build problems in a
# shadow-DOM overlay (so site CSS cannot garble it) through textContent, never HTML.
RELOAD_SCRIPT = """<script data-digest-live-reload>
(() => {
  const build = __BUILD_ID__;
  const css = `
    .backdrop { position: fixed; inset: 0; z-index: 2147483647; display: flex;
      align-items: flex-start; justify-content: center; padding: 6vh 1rem; overflow: auto;
      background: rgb(0 0 0 / 0.55); font: 16px/1.5 system-ui, sans-serif; }
    .panel { box-sizing: border-box; width: 100%; max-width: 60rem; padding: 1rem 1.5rem;
      background: #fff; color: #1a1a1a; border-top: 6px solid #c0392b; border-radius: 6px;
      box-shadow: 0 12px 40px rgb(0 0 0 / 0.35); }
    header { display: flex; gap: 1rem; align-items: center; justify-content: space-between; }
    h2 { margin: 0; font-size: 1.15rem; color: #a61b1b; }
    p { margin: 0.5rem 0 0; }
    button { font: inherit; padding: 0.2rem 0.8rem; border: 1px solid #888; border-radius: 4px;
      background: #f4f4f4; color: #1a1a1a; cursor: pointer; }
    pre { margin: 0.75rem 0 0; padding: 0.75rem 1rem; white-space: pre-wrap;
      overflow-wrap: anywhere; background: #fdf3f2; border-left: 4px solid #c0392b;
      font: 14px/1.5 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }`;
  let overlay = null;
  let shown = "";
  function hide() {
    if (overlay) overlay.remove();
    overlay = null;
  }
  function show(problems) {
    const text = problems.map((p) => p.text).join("\\n\\n");
    if (overlay && text === shown) return;
    hide();
    shown = text;
    overlay = document.createElement("digest-error-overlay");
    const root = overlay.attachShadow({ mode: "open" });
    root.innerHTML = `<style>${css}</style><div class="backdrop"><div class="panel"
      role="alert"><header><h2>The site could not be rebuilt</h2><button type="button"
      >Dismiss</button></header><p>Showing the last good build. Fix the file and save;
      this page reloads by itself.</p><pre></pre></div></div>`;
    root.querySelector("pre").textContent = text;
    root.querySelector("button").addEventListener("click", hide);
    document.documentElement.appendChild(overlay);
  }
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") hide();
  });
  function connect() {
    const events = new EventSource("/__digest__/events");
    events.addEventListener("build", (event) => {
      if (JSON.parse(event.data).id !== build) location.reload();
    });
    events.addEventListener("errors", (event) => {
      const problems = JSON.parse(event.data).problems;
      if (problems.length) show(problems); else hide();
    });
    events.onerror = () => {
      if (events.readyState === EventSource.CLOSED) setTimeout(connect, 1000);
    };
  }
  connect();
})();
</script>
"""

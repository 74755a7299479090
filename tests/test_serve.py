"""`digest serve`: in-memory site under the base path, live reload, surviving mistakes.

Every test runs a real server in-process on a free port against a copy of the demo site,
plus one small article (`live-preview`) whose text and line numbers the tests control.
Every wait is bounded by TIMEOUT so a broken server fails a test instead of hanging it.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from digest import serve
from digest.errors import DigestError, Problem
from digest.serve import (
    EVENTS_PATH,
    BuildState,
    DevServer,
    content_type,
    error_page,
    inject_script,
    make_server,
    respond,
    sse_events,
)

REPO_ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 10.0
SCRIPT_MARK = b"data-digest-live-reload"

ARTICLE_URL = "/digest/articles/live-preview/"
ARTICLE_MD = "content/articles/live-preview.md"
SIDECAR = "content/articles/live-preview.yaml"
ARTICLE_TEXT = """\
---
title: Live preview test article
date: 2024-01-02
---

The council met on Tuesday and agreed on nothing at all.
"""
# An unclosed flow sequence: the YAML parser stops at line 3, column 8.
BROKEN_SIDECAR = "summary: Broken summary.\ntopics: [iran\nrelated: []\n"
BROKEN_AT = f"{SIDECAR}:3:8: error: YAML syntax error"


def sidecar(summary: str) -> str:
    return f"summary: {summary}\n"


def make_demo_site(root: Path) -> Path:
    """A copy of the demo (site.toml and content/; the built-in theme needs no copy)."""
    root.mkdir(parents=True)
    shutil.copy2(REPO_ROOT / "site.toml", root / "site.toml")
    shutil.copytree(REPO_ROOT / "content", root / "content")
    (root / ARTICLE_MD).write_text(ARTICLE_TEXT, encoding="utf-8")
    (root / SIDECAR).write_text(sidecar("First summary text."), encoding="utf-8")
    return root


def save(path: Path, text: str | bytes, *, by_rename: bool = False) -> None:
    """Save like an editor: in place, or (by_rename) a new file renamed over the old."""
    data = text.encode() if isinstance(text, str) else text
    if by_rename:
        temp = path.with_name(path.name + ".new~")
        temp.write_bytes(data)
        os.replace(temp, path)
    else:
        path.write_bytes(data)


@contextmanager
def running(root: Path) -> Iterator[DevServer]:
    """A started dev server on a free port, stopped afterwards whatever happens."""
    server = make_server(root, "127.0.0.1", 0)
    try:
        server.start()
        yield server
    finally:
        server.stop()


def get(server: DevServer, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    """One request, redirects not followed: status, lower-cased headers, body."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=TIMEOUT)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, headers, response.read()
    finally:
        conn.close()


class EventStream:
    """The server's event stream, read on a thread; parsed events wait in a queue."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
        self.sock.sendall(f"GET {EVENTS_PATH} HTTP/1.0\r\n\r\n".encode())
        self.file = self.sock.makefile("rb")
        self.head: list[str] = []
        self.events: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        name, data, in_head = "message", [], True
        try:
            for raw in self.file:
                line = raw.decode().rstrip("\r\n")
                if in_head:
                    in_head = bool(line)
                    self.head.append(line)
                elif not line and data:
                    self.events.put((name, json.loads("\n".join(data))))
                    name, data = "message", []
                elif line.startswith("event:"):
                    name = line.removeprefix("event:").strip()
                elif line.startswith("data:"):
                    data.append(line.removeprefix("data:").strip())
        except OSError:
            pass  # closed by the test, or timed out
        finally:
            self.events.put(("closed", {}))

    def next(self, name: str, timeout: float = TIMEOUT) -> dict[str, Any]:
        """The data of the next `name` event, skipping others; fail after `timeout`."""
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got, data = self.events.get(timeout=remaining)
            except queue.Empty:
                break
            if got == name:
                return data
            if got == "closed" and name != "closed":
                pytest.fail(f"the event stream closed while waiting for '{name}'")
        pytest.fail(f"no '{name}' event within {timeout} s")

    def pending(self, wait: float) -> list[str]:
        """Names of the events that arrive within `wait` seconds."""
        names = []
        deadline = time.monotonic() + wait
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                names.append(self.events.get(timeout=remaining)[0])
            except queue.Empty:
                break
        return names

    def close(self) -> None:
        with suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.thread.join(TIMEOUT)
        self.file.close()
        self.sock.close()


@contextmanager
def busy_port() -> Iterator[int]:
    """A port some other program is listening on."""
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        yield blocker.getsockname()[1]


@pytest.fixture
def site(tmp_path: Path) -> Path:
    return make_demo_site(tmp_path / "site")


@pytest.fixture
def server(site: Path) -> Iterator[DevServer]:
    with running(site) as dev:
        assert dev.state.build_id, "the demo site must build:\n" + "\n".join(
            serve.problem_text(p) for p in dev.state.problems
        )
        yield dev


@pytest.fixture
def events(server: DevServer) -> Iterator[EventStream]:
    stream = EventStream(server.port)
    yield stream
    stream.close()


# --- serving ----------------------------------------------------------------------------


def test_root_redirects_to_the_base_path(server: DevServer) -> None:
    for path in ("/", "/digest"):
        status, headers, _ = get(server, path)
        assert (status, headers["location"]) == (302, "/digest/")
    assert server.url == f"http://127.0.0.1:{server.port}/digest/"


def test_home_page_is_served_under_the_base_path_with_the_reload_script(
    server: DevServer,
) -> None:
    status, headers, body = get(server, "/digest/")
    assert status == 200
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store"
    assert body.count(SCRIPT_MARK) == 1
    assert body.index(SCRIPT_MARK) < body.rindex(b"</body>")
    assert b'href="/digest/' in body


def test_served_site_is_the_built_site_plus_the_script_only(
    server: DevServer, site: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digest.cli import main

    out = tmp_path / "built"
    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["build", "--output", str(out)])
    assert result.exit_code == 0, result.output
    script = inject_script(b"", server.state.build_id)
    # The search index is made by Pagefind at `digest build` only; the preview has none.
    built = {p.relative_to(out).as_posix(): p for p in out.rglob("*")
             if p.is_file() and not p.relative_to(out).as_posix().startswith("pagefind/")}
    assert built.keys() == server.state.files.keys()
    for rel, path in sorted(built.items()):
        status, headers, body = get(server, "/digest/" + rel)
        assert status == 200, rel
        expected = path.read_bytes()
        assert SCRIPT_MARK not in expected, f"digest build output {rel} has the reload script"
        if headers["content-type"].startswith("text/html"):
            assert body.replace(script, b"", 1) == expected, rel
        else:
            assert body == expected, rel
    assert not (site / "_site").exists(), "serve must never write the output folder"


def test_directory_urls_get_index_html_or_a_slash_redirect(server: DevServer) -> None:
    status, headers, _ = get(server, "/digest/articles/live-preview")
    assert (status, headers["location"]) == (301, ARTICLE_URL)
    status, headers, _ = get(server, "/digest/topics?page=2")
    assert (status, headers["location"]) == (301, "/digest/topics/?page=2")
    for path in (ARTICLE_URL, ARTICLE_URL + "index.html"):
        status, _, body = get(server, path)
        assert status == 200
        assert b"The council met on Tuesday" in body


@pytest.mark.parametrize("path", ["/digest/no-such-page/", "/elsewhere", "/digest/a/../x"])
def test_unknown_urls_get_the_sites_404_page(server: DevServer, path: str) -> None:
    status, headers, body = get(server, path)
    assert status == 404
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert (
        body.replace(inject_script(b"", server.state.build_id), b"")
        == (server.state.files["404.html"])
    )


def test_every_response_says_no_store(server: DevServer) -> None:
    css = next(name for name in server.state.files if name.endswith(".css"))
    for path in ("/", ARTICLE_URL[:-1], ARTICLE_URL, "/digest/nope", "/digest/" + css):
        assert get(server, path)[1]["cache-control"] == "no-store", path


def test_static_files_have_their_content_types(server: DevServer) -> None:
    for suffix, expected in ((".css", "text/css"), (".svg", "image/svg+xml")):
        name = next(name for name in server.state.files if name.endswith(suffix))
        status, headers, body = get(server, "/digest/" + name)
        assert status == 200
        assert headers["content-type"].split(";")[0] == expected
        assert body == server.state.files[name]


def test_head_sends_headers_only(server: DevServer) -> None:
    status, headers, body = get(server, "/digest/", method="HEAD")
    assert status == 200
    assert int(headers["content-length"]) > 0
    assert body == b""


@pytest.mark.parametrize(
    ("dest_rel", "expected"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("static/style.0123456789.css", "text/css; charset=utf-8"),
        ("static/search.js", "text/javascript; charset=utf-8"),
        ("feed.xml", "application/xml"),
        ("sitemap.xml", "application/xml"),
        ("topics/iran/feed.xml", "application/xml"),
        ("feed.json", "application/json"),
        ("timeline.json", "application/json"),
        ("static/favicon.abc.svg", "image/svg+xml"),
        ("robots.txt", "text/plain; charset=utf-8"),
        ("static/photo.JPG", "image/jpeg"),
        (".nojekyll", "application/octet-stream"),
        ("CNAME", "application/octet-stream"),
    ],
)
def test_content_types(dest_rel: str, expected: str) -> None:
    assert content_type(dest_rel) == expected


# --- pure helpers -----------------------------------------------------------------------


def _state(**changes: Any) -> BuildState:
    base = BuildState("id-1", {"index.html": b"<p>home</p>", "404.html": b"<p>404</p>"}, "/")
    return replace(base, **changes)


def test_a_site_at_the_domain_root_is_served_at_slash() -> None:
    state = _state()
    assert respond(state, "/").status == 200
    assert respond(state, "/index.html").body == b"<p>home</p>"
    assert respond(state, "/missing").status == 404


def test_the_script_goes_before_the_last_body_end_tag_or_at_the_end() -> None:
    page = inject_script(b"<body><p>x</p></BODY>\n", "id-7")
    assert page.startswith(b"<body><p>x</p><script data-digest-live-reload>")
    assert page.endswith(b"</script>\n</BODY>\n")
    assert b'const build = "id-7";' in page
    assert inject_script(b"<p>no body</p>", "id-7").startswith(b"<p>no body</p><script")


def test_events_say_only_what_changed() -> None:
    problem = Problem("content/x.yaml", 3, 8, "bad <thing>", "fix it")
    good, failed = _state(), _state(problems=(problem,))
    assert sse_events(good, good) == b""
    assert sse_events(good, failed) == (
        b'event: errors\ndata: {"problems": [{"path": "content/x.yaml", "line": 3, '
        b'"column": 8, "severity": "error", "code": "invalid", "message": "bad <thing>", '
        b'"hint": "fix it", "text": "content/x.yaml:3:8: error: bad <thing>\\n    hint: '
        b'fix it"}]}\n\n'
    )
    recovered = sse_events(failed, _state(build_id="id-2"))
    assert recovered == (
        b'event: build\ndata: {"id": "id-2", "seconds": 0.0}\n\n'
        b'event: errors\ndata: {"problems": []}\n\n'
    )


def test_the_error_page_escapes_problem_text() -> None:
    page = error_page((Problem("a.yaml", 1, 2, "unknown key '<img src=x>'"),)).decode()
    assert "a.yaml:1:2: error: unknown key &#x27;&lt;img src=x&gt;&#x27;" in page
    assert "<img" not in page


# --- live reload ------------------------------------------------------------------------


def test_a_sidecar_edit_reloads_with_the_new_content(
    server: DevServer, site: Path, events: EventStream
) -> None:
    first = events.next("build")["id"]
    assert events.next("errors") == {"problems": []}
    save(site / SIDECAR, sidecar("Second summary text."))
    assert events.next("build")["id"] != first
    body = get(server, ARTICLE_URL)[2]
    assert b"Second summary text." in body
    assert b"First summary text." not in body


def test_a_burst_of_saves_is_one_rebuild(
    site: Path, server: DevServer, events: EventStream
) -> None:
    events.next("build")
    started = time.monotonic()
    for n in range(5):
        save(site / SIDECAR, sidecar(f"Burst {n}."))
        save(site / ARTICLE_MD, ARTICLE_TEXT + f"\nBurst paragraph {n}.\n")
    burst = time.monotonic() - started
    events.next("build")
    rebuilds = 1 + events.pending(1.0).count("build")
    # Saves closer together than STEP_MS are one rebuild; a test process descheduled in
    # the middle of its burst (on a loaded machine) may split it once, never more.
    assert rebuilds == 1 or (burst > serve.STEP_MS / 1000 and rebuilds == 2)
    assert b"Burst 4." in get(server, ARTICLE_URL)[2]


def test_a_save_that_changes_no_output_reloads_nothing(
    site: Path, server: DevServer, events: EventStream
) -> None:
    first = events.next("build")["id"]
    events.next("errors")
    before = server.state
    save(site / SIDECAR, (site / SIDECAR).read_bytes())
    _wait_until(lambda: server.state is not before)
    assert server.state.build_id == first
    assert events.pending(0.5) == []


def _wait_until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still waiting after {TIMEOUT} s")
        time.sleep(0.02)


def test_only_source_changes_rebuild(site: Path, server: DevServer) -> None:
    before = server.state
    for rel in (
        "_site/index.html",
        ".digest-cache/articles.pickle",
        "notes.txt",
        "content/articles/.live-preview.yaml.swp",
        "content/articles/live-preview.yaml~",
    ):
        (site / rel).parent.mkdir(parents=True, exist_ok=True)
        (site / rel).write_text("not a source")
    time.sleep(1.0)
    assert server.state is before, "a change outside the site's sources rebuilt it"
    save(site / SIDECAR, sidecar("A real edit."))
    _wait_until(lambda: server.state is not before)


def test_warnings_are_logged_once_not_on_every_rebuild(
    site: Path, caplog: pytest.LogCaptureFixture
) -> None:
    topics = site / "content" / "topics.yaml"
    topics.write_text(topics.read_text() + "\nnever-used-topic:\n  title: Never used\n")
    server = make_server(site, "127.0.0.1", 0)
    try:
        with caplog.at_level(logging.WARNING, logger="digest.serve"):
            first = server.rebuild()
            save(site / SIDECAR, sidecar("Another summary."))
            second = server.rebuild()
        assert second.build_id != first.build_id
        assert [w.message for w in second.warnings] == ["topic 'never-used-topic' has no article"]
        assert caplog.text.count("never-used-topic") == 1
    finally:
        server.stop()


def test_site_toml_saved_by_rename_rebuilds_every_time(
    site: Path, server: DevServer, events: EventStream
) -> None:
    config = site / "site.toml"
    original = config.read_text(encoding="utf-8")
    events.next("build")
    for title in ("Renamed Brief", "Renamed Again"):
        save(
            config,
            original.replace('title = "Security Brief"', f'title = "{title}"'),
            by_rename=True,
        )
        events.next("build")
        assert title.encode() in get(server, "/digest/")[2]


def test_broken_yaml_keeps_the_last_good_site_and_the_fix_recovers(
    site: Path, server: DevServer, events: EventStream, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = events.next("build")["id"]
    events.next("errors")
    save(site / SIDECAR, BROKEN_SIDECAR)
    problems = events.next("errors")["problems"]
    texts = [p["text"] for p in problems]
    assert texts[0].startswith(BROKEN_AT)
    assert (problems[0]["path"], problems[0]["line"], problems[0]["column"]) == (SIDECAR, 3, 8)
    assert "".join(t + "\n" for t in texts) == _check_output(site, monkeypatch)

    status, _, body = get(server, ARTICLE_URL)
    assert status == 200
    assert b"First summary text." in body, "the last good build must still be served"
    assert f'const build = "{good}";'.encode() in body

    save(site / SIDECAR, sidecar("Fixed summary text."))
    assert events.next("build")["id"] != good
    assert events.next("errors") == {"problems": []}
    assert b"Fixed summary text." in get(server, ARTICLE_URL)[2]


def _check_output(site: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """What `digest check` prints on stdout for the site."""
    from digest.cli import main

    monkeypatch.chdir(site)
    result = CliRunner().invoke(main, ["check"])
    assert result.exit_code == 1
    return result.stdout


def test_a_first_build_that_fails_shows_the_problems_on_every_url(site: Path) -> None:
    save(site / SIDECAR, BROKEN_SIDECAR)
    with running(site) as server:
        stream = EventStream(server.port)
        try:
            assert stream.next("build")["id"] == ""
            assert stream.next("errors")["problems"][0]["text"].startswith(BROKEN_AT)
            for path in ("/", "/digest/", ARTICLE_URL, "/anything/at/all"):
                status, headers, body = get(server, path)
                assert status == 500
                assert headers["content-type"] == "text/html; charset=utf-8"
                assert BROKEN_AT.encode() in body
                assert SCRIPT_MARK in body
            save(site / SIDECAR, sidecar("Now it builds."))
            assert stream.next("build")["id"]
            assert stream.next("errors") == {"problems": []}
            status, _, body = get(server, ARTICLE_URL)
            assert status == 200
            assert b"Now it builds." in body
        finally:
            stream.close()


# --- surviving mistakes -----------------------------------------------------------------


def _alias_bomb() -> bytes:
    """Billion laughs: ten references per level, twelve levels deep."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    return "\n".join(lines).encode() + b"\n"


@pytest.mark.parametrize(
    "content",
    [
        b"\xff\xfe not UTF-8 \x00\x01",
        b"[" * 20_000,
        b"{" * 20_000,
        b"a: &a [*a, *a]\n",
        _alias_bomb(),
        b"summary: !!python/object/apply:os.system ['echo pwned']\n",
        b"- just\n- a\n- list\n",
        b"summary: " + b"x" * 300_000 + b"\n",
        b"",
    ],
    ids=[
        "binary",
        "deep-list",
        "deep-map",
        "recursive-alias",
        "alias-bomb",
        "python-tag",
        "not-a-mapping",
        "huge-line",
        "empty",
    ],
)
def test_nothing_a_sidecar_holds_stops_the_server(
    server: DevServer, site: Path, content: bytes
) -> None:
    good = server.state
    save(site / SIDECAR, content)
    state = server.rebuild()
    if state.problems:
        assert (state.build_id, state.files) == (good.build_id, good.files)
    assert get(server, ARTICLE_URL)[0] == 200
    save(site / SIDECAR, sidecar("Back to normal."))
    assert not server.rebuild().problems


def test_a_template_edited_between_rebuilds_shows_in_the_next(site: Path) -> None:
    # An environment does not look at template files again once loaded; the server
    # keeps one only while the theme's files are unchanged, or it would serve the old
    # template.
    server = make_server(site, "127.0.0.1", 0)
    try:
        templates = site / "themes" / "default" / "templates"
        templates.mkdir(parents=True)
        page = templates / "404.html"
        for text in ("first 404 template", "second 404 template"):
            page.write_text(text, encoding="utf-8")
            state = server.rebuild()
            assert state.files["404.html"] == text.encode()
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        (
            "{% extends 'base.html' %}\n{% block main %}\n{{ no_such_name }}\n{% endblock %}\n",
            "themes/default/templates/page.html:3:1: error: UndefinedError: "
            "'no_such_name' is undefined",
        ),
        (
            "{% extends 'base.html' %}\n{% block main %}\n{% if %}\n{% endblock %}\n",
            "themes/default/templates/page.html:3:1: error: template syntax error: ",
        ),
    ],
    ids=["undefined", "syntax"],
)
def test_template_errors_point_at_the_template_line(
    site: Path, template: str, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server(site, "127.0.0.1", 0)
    try:
        assert server.rebuild().build_id
        templates = site / "themes" / "default" / "templates"
        templates.mkdir(parents=True)
        (templates / "page.html").write_text(template, encoding="utf-8")
        state = server.rebuild()
        assert serve.problem_text(state.problems[0]).startswith(expected)
        assert "Traceback" not in caplog.text, "a template error is the user's, not ours"
    finally:
        server.stop()


def test_an_unexpected_exception_is_shown_and_its_traceback_logged(
    site: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    server = make_server(site, "127.0.0.1", 0)
    try:
        good = server.rebuild()

        def explode(analysis: object, **options: object) -> None:
            raise RuntimeError("boom")

        monkeypatch.setattr(serve, "render_files", explode)
        with caplog.at_level(logging.ERROR, logger="digest.serve"):
            state = server.rebuild()
        assert [serve.problem_text(p) for p in state.problems] == [
            "error: RuntimeError: boom\n"
            "    hint: the traceback is in the terminal running digest serve"
        ]
        assert (state.build_id, state.files) == (good.build_id, good.files)
        assert "Traceback" in caplog.text and "RuntimeError: boom" in caplog.text
    finally:
        server.stop()


def test_ctrl_c_in_a_build_is_not_swallowed(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupt(root: Path, drafts: bool, *args: object) -> BuildState:
        raise KeyboardInterrupt

    monkeypatch.setattr(serve, "build_in_memory", interrupt)
    server = make_server(site, "127.0.0.1", 0)
    try:
        with pytest.raises(KeyboardInterrupt):
            server.rebuild()
    finally:
        server.stop()


def test_an_unknown_theme_is_shown_as_a_problem(
    site: Path, server: DevServer, events: EventStream
) -> None:
    events.next("errors")
    config = site / "site.toml"
    save(config, config.read_text().replace('theme = "default"', 'theme = "nowhere"'))
    texts = [p["text"] for p in events.next("errors")["problems"]]
    assert len(texts) == 1
    assert texts[0].startswith("error: site.toml: theme 'nowhere' not found")
    assert get(server, "/digest/")[0] == 200


# --- ports, stopping, Ctrl-C ------------------------------------------------------------


def test_a_port_in_use_is_a_clear_error(site: Path) -> None:
    with busy_port() as port, pytest.raises(DigestError) as info:
        make_server(site, "127.0.0.1", port)
    assert info.value.format_message() == (
        f"port {port} is already in use; pass --port to choose another"
    )
    assert info.value.exit_code == 1


def test_stop_ends_streams_threads_and_the_port(site: Path) -> None:
    server = make_server(site, "127.0.0.1", 0)
    server.start()
    stream = EventStream(server.port)
    try:
        stream.next("errors")
        started = time.monotonic()
        server.stop()
        assert time.monotonic() - started < 3
        stream.next("closed")
        live = [t.name for t in threading.enumerate() if t.name.startswith("digest-")]
        assert live == []
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", server.port), timeout=TIMEOUT).close()
        server.stop()  # idempotent
    finally:
        stream.close()


def test_ctrl_c_stops_the_server_cleanly(site: Path) -> None:
    # Ctrl-C as a terminal delivers it: a process started from a shell's background job
    # (a test run launched with `&`, say) inherits SIGINT ignored, and Python then keeps
    # it ignored, so the server would never see the signal sent below.
    code = (
        "import signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
        "import logging, sys; from pathlib import Path; from digest.serve import run_server;"
        "logging.basicConfig(level=logging.INFO, format='%(message)s');"
        "run_server(Path(sys.argv[1]), port=0)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(site)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        for line in proc.stderr or ():
            lines.append(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        port = _wait_for_port(lines)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
        conn.request("GET", "/digest/")
        assert conn.getresponse().status == 200
        conn.close()
        proc.send_signal(signal.SIGINT)
        assert proc.wait(TIMEOUT) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(TIMEOUT)
        reader.join(TIMEOUT)
        if proc.stderr:
            proc.stderr.close()
    output = "".join(lines)
    assert "Traceback" not in output
    assert output.rstrip().endswith("stopped")


def _wait_for_port(lines: list[str]) -> int:
    """The port `digest serve` announces on stderr."""
    deadline = time.monotonic() + 3 * TIMEOUT  # a fresh interpreter, maybe on a busy machine
    while time.monotonic() < deadline:
        if match := re.search(r"serving .* at http://127\.0\.0\.1:(\d+)/digest/", "".join(lines)):
            return int(match.group(1))
        time.sleep(0.05)
    pytest.fail("digest serve did not say where it serves:\n" + "".join(lines))


def test_cli_reports_a_port_in_use(site: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from digest.cli import main

    if "serve" not in main.commands:
        pytest.skip("`digest serve` is not wired into digest/cli.py yet")
    monkeypatch.chdir(site)
    with busy_port() as port:
        result = CliRunner().invoke(main, ["serve", "--port", str(port)])
    assert result.exit_code == 1
    assert f"port {port} is already in use; pass --port to choose another" in result.output

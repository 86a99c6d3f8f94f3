"""WebFetch against a loopback HTTP server: text out of HTML, errors, redirects."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from agent_tools_helpers import run

from sagaflow.agent.permissions import PermissionRules

PAGE = b"""<html><head><title>t</title><style>p{}</style></head><body>
<h1>Release notes</h1><script>var secret = 1;</script>
<p>Version <b>2.0</b> &amp; more</p><ul><li>one</li><li>two</li></ul></body></html>"""


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {
            "/page": (200, "text/html; charset=utf-8", PAGE),
            "/data.json": (200, "application/json", b'{"a": 1}'),
            "/image.png": (200, "image/png", b"\x89PNG"),
        }
        if self.path == "/away":
            self.send_response(302)
            self.send_header("Location", "http://localhost.invalid/elsewhere")
            self.end_headers()
            return
        if self.path == "/here":
            self.send_response(302)
            self.send_header("Location", "/page")
            self.end_headers()
            return
        status, kind, body = routes.get(self.path, (404, "text/plain", b"missing"))
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def base() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def fetch(tmp_path: Path, url: str, **kw: object) -> tuple[bool, str, str | None]:
    out = run("WebFetch", tmp_path, url=url, prompt="What changed?", **kw)
    return out.is_error, out.content, out.needs_approval


def test_html_page_becomes_text(tmp_path: Path, base: str) -> None:
    error, content, _ = fetch(tmp_path, f"{base}/page")
    assert not error
    assert content.startswith(f"Fetched {base}/page (text/html). Answer from this content: "
                              "What changed?\n\n")
    assert content.split("\n\n", 1)[1] == "Release notes\nVersion 2.0 & more\none\ntwo"
    assert fetch(tmp_path, f"{base}/here")[1].endswith("one\ntwo")  # same-host redirect
    assert fetch(tmp_path, f"{base}/data.json")[1].endswith('{"a": 1}')


@pytest.mark.parametrize(("path", "message"), [
    ("/nope", "answered HTTP 404"),
    ("/image.png", "is image/png, not text"),
    ("/away", "redirects to http://localhost.invalid/elsewhere (another host)"),
])
def test_fetch_errors_are_told_to_the_model(tmp_path: Path, base: str, path: str,
                                            message: str) -> None:
    error, content, _ = fetch(tmp_path, base + path)
    assert error and message in content


def test_non_http_and_default_ask(tmp_path: Path, base: str) -> None:
    error, content, _ = fetch(tmp_path, "file:///etc/passwd")
    assert error and "is not an http or https URL" in content
    _, _, approval = fetch(tmp_path, f"{base}/page", rules=PermissionRules())
    assert approval == f"WebFetch: {base}/page"
    allowed = PermissionRules(allow=("WebFetch(domain:127.0.0.1)",))
    assert not fetch(tmp_path, f"{base}/page", rules=allowed)[0]

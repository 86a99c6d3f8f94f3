"""WebFetch {url, prompt}: fetch a web page as text.

Claude Code answers ``prompt`` with a small model over the page; sagaflow returns the
page's text (HTML reduced to its visible text) headed by the prompt, and the run's own
model answers it in its next turn: one model call fewer, and the page is in the
transcript. Only ``http``/``https``; at most :data:`MAX_BYTES` read and
:data:`MAX_CHARS` characters returned; a redirect to another host is not followed (the
model is told the new URL and may fetch it: a new call, so permission rules such as
``WebFetch(domain:example.com)`` see it). By default every WebFetch call asks a human.
"""

from __future__ import annotations

import asyncio
from functools import cache
from html.parser import HTMLParser
from typing import IO, TYPE_CHECKING
from urllib.parse import urlsplit

from sagaflow.agent.tools.base import MAX_RESULT_CHARS, Tool, ToolCall, ToolRefused, cap

if TYPE_CHECKING:
    import urllib.request
    from http.client import HTTPMessage

MAX_BYTES = 5 * 1024 * 1024
MAX_CHARS = MAX_RESULT_CHARS
TIMEOUT_SECONDS = 30.0
USER_AGENT = "sagaflow-webfetch/1 (+https://pypi.org/project/sagaflow/)"
TEXT_TYPES = ("text/", "application/json", "application/xml", "application/xhtml+xml",
              "application/javascript", "application/x-yaml", "application/yaml")

SCHEMA = {
    "type": "object",
    "properties": {
        "url": {"type": "string", "minLength": 1, "description": "The URL to fetch (http or https)"},
        "prompt": {"type": "string", "description": "What to find in the fetched content"},
    },
    "required": ["url", "prompt"],
    "additionalProperties": False,
}


class _Text(HTMLParser):
    """Visible text of an HTML page: scripts, styles and markup dropped, blocks on their own
    lines. The standard library's parser: the text is all we need (html2text, which also
    keeps markup as Markdown, is GPL-licensed)."""

    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
    BLOCKS = frozenset({"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6",
                        "pre", "section", "article", "header", "footer", "table", "ul", "ol"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)

    def text(self) -> str:
        lines = (" ".join(line.split()) for line in "".join(self.parts).splitlines())
        return "\n".join(line for line in lines if line)


def html_text(html: str) -> str:
    """The visible text of ``html``."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return parser.text()


@cache
def _opener() -> urllib.request.OpenerDirector:
    """An opener that follows redirects on the same host only; another host is reported to
    the model. Built on first use: urllib.request (http.client, email, ssl) is slow to import,
    and most workers never fetch."""
    import urllib.request

    class SameHost(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, req: urllib.request.Request, fp: IO[bytes], code: int,
                             msg: str, headers: HTTPMessage,
                             newurl: str) -> urllib.request.Request | None:
            if urlsplit(newurl).hostname != urlsplit(req.full_url).hostname:
                raise ToolRefused(f"WebFetch: {req.full_url} redirects to {newurl} (another "
                                  "host); call WebFetch with that URL to follow it.")
            return super().redirect_request(req, fp, code, msg, headers, newurl)

    return urllib.request.build_opener(SameHost)


def fetch(url: str) -> tuple[str, str]:
    """``(content_type, text)`` of ``url`` (decoded with its charset, HTML reduced to text).

    Raises:
        ToolRefused: not http(s), an HTTP error status, unreachable, or not text.
    """
    import urllib.error
    import urllib.request

    if urlsplit(url).scheme not in ("http", "https"):
        raise ToolRefused(f"WebFetch: {url} is not an http or https URL.")
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with _opener().open(request, timeout=TIMEOUT_SECONDS) as response:
            kind = response.headers.get_content_type()
            charset = response.headers.get_content_charset() or "utf-8"
            if not kind.startswith(TEXT_TYPES):
                raise ToolRefused(f"WebFetch: {url} is {kind}, not text; WebFetch reads text pages.")
            body: bytes = response.read(MAX_BYTES)
    except urllib.error.HTTPError as exc:
        raise ToolRefused(f"WebFetch: {url} answered HTTP {exc.code} {exc.reason}.") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ToolRefused(f"WebFetch: cannot fetch {url}: {reason}.") from None
    text = body.decode(charset, "replace")
    if kind in ("text/html", "application/xhtml+xml"):
        text = html_text(text)
    return kind, text


async def run(call: ToolCall) -> str:
    """Fetch the page (in a thread) and return its text under the prompt."""
    url, prompt = str(call.input["url"]), str(call.input["prompt"])
    kind, text = await asyncio.to_thread(fetch, url)
    return cap(f"Fetched {url} ({kind}). Answer from this content: {prompt}\n\n{text}", MAX_CHARS)


TOOL = Tool(
    name="WebFetch",
    description=(
        "Fetches an http(s) URL and returns its text (HTML reduced to visible text) with your "
        "prompt, for you to answer from. Runs only when the permission rules allow it."
    ),
    input_schema=SCHEMA,
    run=run,
    subject="url",
)

"""A loopback fake of the Anthropic Messages API for tests and benchmarks.

The server speaks enough of ``POST /v1/messages`` (plain JSON and SSE streaming)
and ``POST /v1/messages/count_tokens`` for the real ``anthropic`` SDK and for
Claude Code's CLI to talk to it via ``ANTHROPIC_BASE_URL``. Replies are scripted
with regex rules, faults (429, 529, ...) can be queued, replies that answer HTTP 200
and then go wrong can be queued (:meth:`FakeAnthropic.inject_reply`: an ``error``
event in the stream, a ``max_tokens``/``refusal`` stop reason, an empty or huge
text, a stream cut before ``message_stop``), latency can be added, and every
messages request is recorded.

Standalone use::

    python tests/fake_anthropic.py [--port 0] [--reply PATTERN=TEXT ...] [--latency S]

prints the base URL on the first line of stdout and serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import math
import re
import signal
import socket
import string
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(__import__("pathlib").Path(__file__).parent))
from fake_tools import TurnScript, block_events, tool_result_problem

ReplyFn = Callable[[dict[str, Any]], str | None]

DEFAULT_TEXT = "OK (fake anthropic reply)"

_ERROR_TYPES: dict[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}

_ERROR_MESSAGES: dict[str, str] = {
    "invalid_request_error": "Invalid request (injected)",
    "authentication_error": "invalid x-api-key (injected)",
    "permission_error": "Permission denied (injected)",
    "not_found_error": "Not found (injected)",
    "request_too_large": "Request too large (injected)",
    "rate_limit_error": "Rate limited (injected)",
    "overloaded_error": "Overloaded (injected)",
    "api_error": "Internal server error (injected)",
}

_DISCONNECTS = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError)


def error_type_for(status: int) -> str:
    """Return the Anthropic error ``type`` string for an HTTP status.

    Args:
        status: HTTP status code.

    Returns:
        The error type, e.g. ``rate_limit_error`` for 429 or ``api_error`` for 5xx.
    """
    if status in _ERROR_TYPES:
        return _ERROR_TYPES[status]
    return "api_error" if status >= 500 else "invalid_request_error"


def last_user_text(body: dict[str, Any]) -> str:
    """Extract the text of the last ``user`` message of a Messages request.

    Args:
        body: Parsed request JSON.

    Returns:
        The message content if it is a string, otherwise its ``text`` blocks
        joined by newlines; ``""`` if there is no user message.
    """
    messages = body.get("messages")
    if not isinstance(messages, list):
        return ""
    for message in reversed(messages):
        if not isinstance(message, dict) or message.get("role") != "user":
            continue
        content = message.get("content")
        if isinstance(content, str):
            return content
        if isinstance(content, list):
            return "\n".join(
                str(block.get("text", ""))
                for block in content
                if isinstance(block, dict) and block.get("type") == "text"
            )
        return ""
    return ""


def _estimate_tokens(value: object) -> int:
    """Crude token estimate (about four characters per token, at least one)."""
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return max(1, math.ceil(len(text) / 4))


def _chunks(text: str, parts: int = 4) -> list[str]:
    """Split ``text`` into up to ``parts`` consecutive non-empty pieces."""
    if not text:
        return []
    size = max(1, math.ceil(len(text) / parts))
    return [text[i : i + size] for i in range(0, len(text), size)]


@dataclass
class _Fault:
    status: int
    retry_after: float | None
    message: str | None


@dataclass
class _Outcome:
    """How one reply that answered HTTP 200 goes wrong (see :meth:`FakeAnthropic.inject_reply`)."""

    error_type: str | None = None
    stop_reason: str = "end_turn"
    text: str | None = None
    cut: bool = False


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeAnthropic

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):  # client went away
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeAnthropic/1.0"
    timeout = 120
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default per-request logging."""

    def setup(self) -> None:
        super().setup()
        self.server.fake._track(self.connection, add=True)

    def finish(self) -> None:
        self.server.fake._track(self.connection, add=False)
        with contextlib.suppress(*_DISCONNECTS):
            super().finish()

    def handle(self) -> None:
        try:
            super().handle()
        except _DISCONNECTS:
            self.close_connection = True

    # --- plumbing -----------------------------------------------------------

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return bytes(data)
                data += self.rfile.read(size)
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send_json(self, status: int, payload: object, extra: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("request-id", self.server.fake._new_id("req"))
        for key, value in (extra or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _send_error_json(
        self, status: int, message: str, extra: dict[str, str] | None = None
    ) -> None:
        kind = error_type_for(status)
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self._send_json(status, body, extra)

    def _not_found(self) -> None:
        self._read_body()
        self._send_error_json(404, f"Not found: {self.command} {self.path}")

    do_GET = do_PUT = do_DELETE = do_PATCH = do_HEAD = _not_found

    # --- endpoints ----------------------------------------------------------

    def do_POST(self) -> None:
        path = urlsplit(self.path).path.rstrip("/")
        raw = self._read_body()
        if path not in ("/v1/messages", "/v1/messages/count_tokens"):
            self._send_error_json(404, f"Not found: POST {path}")
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            self._send_error_json(400, "Request body is not a JSON object")
            return
        if path.endswith("count_tokens"):
            tokens = _estimate_tokens([body.get("system"), body.get("messages"), body.get("tools")])
            self._send_json(200, {"input_tokens": tokens})
            return
        self._messages(body)

    def _messages(self, body: dict[str, Any]) -> None:
        fake = self.server.fake
        headers = {k.lower(): v for k, v in self.headers.items()}
        record, fault = fake._arrive(self.command, self.path, headers, body)
        fake._sleep(fake._latency)
        if fake._stopping.is_set():  # stop() during latency: drop the connection
            self.close_connection = True
            return
        if fault is not None:
            extra = {}
            if fault.retry_after is not None:
                extra["retry-after"] = f"{fault.retry_after:g}"
            kind = error_type_for(fault.status)
            self._send_error_json(
                fault.status, fault.message or _ERROR_MESSAGES.get(kind, "Error (injected)"), extra
            )
            return
        if "tools" in body:  # tool use: the tool_results that came back must fit
            problem = tool_result_problem(body)
            record["tool_results"] = [
                b for b in (body["messages"][-1].get("content") or [])
                if isinstance(b, dict) and b.get("type") == "tool_result"
            ] if isinstance(body["messages"][-1].get("content"), list) else []
            if problem is not None:
                record["tool_problem"] = problem
                self._send_error_json(400, problem)
                return
        if "tools" in body:
            fake._sleep(fake._turns.hold_for(body))
        blocks = fake._turns.reply(body, fake._new_id) if "tools" in body else None
        outcome = fake._next_outcome()
        if blocks is not None:
            text = "".join(b["text"] for b in blocks if b["type"] == "text")
        else:
            text = outcome.text if outcome.text is not None else fake._reply_for(
                body, record["text"])
        fake._note_reply(record, text)
        model = str(body.get("model") or "claude-fake")
        usage = {
            "input_tokens": _estimate_tokens([body.get("system"), body.get("messages")]),
            "output_tokens": _estimate_tokens(text) if text else 0,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 0,
        }
        message = {
            "id": fake._new_id("msg"),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks if blocks is not None else (
                [{"type": "text", "text": text}] if text else []),
            "stop_reason": "tool_use" if blocks and any(b["type"] == "tool_use" for b in blocks)
            else outcome.stop_reason,
            "stop_sequence": None,
            "usage": usage,
        }
        if body.get("stream") is True and blocks is not None:
            self._stream_blocks(message, usage)
        elif body.get("stream") is True:
            self._stream(message, text, usage, outcome)
        else:
            self._send_json(200, message)

    def _stream_blocks(self, message: dict[str, Any], usage: dict[str, int]) -> None:
        """A scripted tool-use turn as SSE: one start/deltas/stop group per block."""
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
        events: list[tuple[str, Any]] = [("message_start", {"type": "message_start",
                                                             "message": start})]
        for index, block in enumerate(message["content"]):
            events += block_events(index, block)
        events += [
            ("message_delta", {"type": "message_delta", "usage": {
                "output_tokens": usage["output_tokens"]},
                "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None}}),
            ("message_stop", {"type": "message_stop"}),
        ]
        for name, data in events:
            if fake._stopping.is_set():
                self.close_connection = True
                return
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(b"%X\r\n%s\r\n" % (len(payload), payload))
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def _stream(
        self, message: dict[str, Any], text: str, usage: dict[str, int], outcome: _Outcome
    ) -> None:
        fake = self.server.fake
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("request-id", fake._new_id("req"))
        self.end_headers()
        start = dict(message, content=[], stop_reason=None, usage=dict(usage, output_tokens=1))
        events: list[tuple[str, dict[str, Any]]] = [
            ("message_start", {"type": "message_start", "message": start}),
            ("ping", {"type": "ping"}),
            (
                "content_block_start",
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "text", "text": ""},
                },
            ),
        ]
        events += [
            (
                "content_block_delta",
                {
                    "type": "content_block_delta",
                    "index": 0,
                    "delta": {"type": "text_delta", "text": piece},
                },
            )
            for piece in _chunks(text)
        ]
        if outcome.error_type is not None:  # an error event after HTTP 200, as the API does
            error = {"type": outcome.error_type,
                     "message": _ERROR_MESSAGES.get(outcome.error_type, "Error (injected)")}
            events.append(("error", {"type": "error", "error": error}))
        events += [
            ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            (
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": outcome.stop_reason, "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
            ),
            ("message_stop", {"type": "message_stop"}),
        ]
        if outcome.error_type is not None:
            events = events[: next(i for i, e in enumerate(events) if e[0] == "error") + 1]
        elif outcome.cut:
            events = events[:-1]
        for i, (name, data) in enumerate(events):
            if i:
                fake._sleep(fake._chunk_delay)
            if fake._stopping.is_set():
                self.close_connection = True
                return
            payload = f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()
            self.wfile.write(b"%X\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()


class FakeAnthropic:
    """Loopback fake of the Anthropic Messages API.

    Example::

        with FakeAnthropic() as fake:
            fake.add_reply(r"hello (?P<who>\\w+)", "hi $who")
            client = anthropic.Anthropic(api_key="x", base_url=fake.url, max_retries=0)

    Attributes:
        reply_fn: Optional ``callable(request_json) -> str | None``; when it
            returns a string, that string is the reply (it beats the rules).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Create a stopped server.

        Args:
            host: Interface to bind; loopback by default.
            port: Port to bind; ``0`` (default) lets the OS choose a free one.
        """
        self.reply_fn: ReplyFn | None = None
        self._host = host
        self._port = port
        self._cond = threading.Condition()
        self._rules: list[tuple[re.Pattern[str], str]] = []
        self._default = DEFAULT_TEXT
        self._faults: deque[_Fault] = deque()
        self._outcomes: deque[_Outcome] = deque()
        self._latency = 0.0
        self._chunk_delay = 0.0
        self._records: list[dict[str, Any]] = []
        self._turns = TurnScript()
        self._ids = itertools.count(1)
        self._conns: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------

    def start(self) -> FakeAnthropic:
        """Bind and start serving in a daemon thread.

        Returns:
            ``self``, for chaining.
        """
        if self._server is not None:
            return self
        self._stopping.clear()
        server = _Server((self._host, self._port), _Handler)
        server.fake = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-anthropic",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping handlers and drop open connections."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeAnthropic:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only valid once started)."""
        if self._server is None:
            raise RuntimeError("FakeAnthropic is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:PORT`` (use as ANTHROPIC_BASE_URL)."""
        return f"http://{self._host}:{self.port}"

    # --- scripting ----------------------------------------------------------

    def add_reply(self, pattern: str, text: str) -> None:
        """Add a reply rule; the first rule whose regex matches wins.

        Args:
            pattern: Regex searched (``re.search``) in the last user message text.
            text: Reply text; ``$name``/``${name}`` are replaced by named groups.
        """
        with self._cond:
            self._rules.append((re.compile(pattern), text))

    def script_turns(self, turns: list[dict[str, Any]]) -> None:
        """Script the assistant turns of tool-using requests (those that send ``tools``).

        Args:
            turns: ``{"text"?, "tools"?: [{"Name": {input}}], "repeat"?: N}`` entries; the
                request's turn number (1 + its assistant messages) picks one, so a retry
                gets the same turn (see tests/fake_tools.py). Every such request is also
                checked: its ``tool_result`` blocks must answer the previous turn's
                ``tool_use`` ids, else it gets the API's 400 (recorded as ``tool_problem``).
        """
        with self._cond:
            self._turns = TurnScript(list(turns))

    def hold_turn(self, turn: int, seconds: float) -> None:
        """Hold the first request for scripted turn ``turn`` this long (a crash window)."""
        with self._cond:
            self._turns.holds[turn] = seconds

    def set_default(self, text: str) -> None:
        """Set the reply used when no rule matches.

        Args:
            text: Reply text.
        """
        with self._cond:
            self._default = text

    def inject(
        self,
        status: int,
        count: int = 1,
        retry_after: float | None = None,
        message: str | None = None,
    ) -> None:
        """Queue a fault for the next ``count`` messages requests (FIFO).

        Args:
            status: HTTP status to answer with (429, 529, 401, 500, ...).
            count: How many requests get this fault.
            retry_after: Value of the ``retry-after`` header (seconds), if any.
            message: Error message; a per-type default otherwise.
        """
        with self._cond:
            self._faults.extend(_Fault(status, retry_after, message) for _ in range(count))

    def inject_reply(
        self,
        *,
        error_type: str | None = None,
        stop_reason: str = "end_turn",
        text: str | None = None,
        cut: bool = False,
        count: int = 1,
    ) -> None:
        """Queue how the next ``count`` replies that answer HTTP 200 go wrong (FIFO).

        Args:
            error_type: Send an SSE ``error`` event of this type (``overloaded_error``,
                ``api_error``, ``rate_limit_error``, ``invalid_request_error``...) after
                the text deltas, and end the stream there.
            stop_reason: The reply's ``stop_reason`` (``max_tokens``, ``refusal``...).
            text: The reply text instead of the rules' (``""``: an empty reply with no
                content block).
            cut: End the stream without ``message_stop`` (a cleanly closed, cut reply).
            count: How many replies get this outcome.
        """
        outcome = _Outcome(error_type=error_type, stop_reason=stop_reason, text=text, cut=cut)
        with self._cond:
            self._outcomes.extend(outcome for _ in range(count))

    def latency(self, seconds: float, chunk_delay: float = 0.0) -> None:
        """Delay every messages request; the connection stays open meanwhile.

        Args:
            seconds: Delay before the response starts (after the request is recorded).
            chunk_delay: Extra delay between SSE events of a streamed reply.
        """
        with self._cond:
            self._latency = max(0.0, seconds)
            self._chunk_delay = max(0.0, chunk_delay)

    def reset(self) -> None:
        """Clear rules, faults, recordings, latency, default text and ``reply_fn``."""
        with self._cond:
            self._rules.clear()
            self._faults.clear()
            self._outcomes.clear()
            self._records.clear()
            self._turns = TurnScript()
            self._latency = self._chunk_delay = 0.0
            self._default = DEFAULT_TEXT
            self.reply_fn = None
            self._cond.notify_all()

    # --- inspection ---------------------------------------------------------

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Recorded ``/v1/messages`` requests (copies), oldest first.

        Each has ``method``, ``path``, ``headers`` (lower-case keys), ``json``,
        ``text`` (last user text), ``fault`` (bool), ``fault_status``
        (int or None), ``reply`` (str or None, set once answered) and ``time``.
        """
        with self._cond:
            return [dict(r) for r in self._records]

    def calls(self, pattern: str | None = None, include_faults: bool = False) -> int:
        """Count recorded messages requests whose last user text matches.

        Args:
            pattern: Regex searched in the last user text; ``None`` matches all.
            include_faults: Also count requests that were served a fault.

        Returns:
            The number of matching requests.
        """
        with self._cond:
            return self._count(pattern, include_faults)

    def wait_for_requests(
        self,
        n: int,
        timeout: float = 10.0,
        pattern: str | None = None,
        include_faults: bool = False,
    ) -> bool:
        """Block until at least ``n`` matching requests have arrived.

        Requests count as soon as they arrive (before latency is applied).

        Args:
            n: Number of requests to wait for.
            timeout: Seconds to wait at most.
            pattern: Regex on the last user text; ``None`` matches all.
            include_faults: Also count requests that were served a fault.

        Returns:
            True if reached, False on timeout.
        """
        with self._cond:
            return self._cond.wait_for(
                lambda: self._count(pattern, include_faults) >= n, timeout=timeout
            )

    # --- internals used by the handler ----------------------------------------

    def _count(self, pattern: str | None, include_faults: bool) -> int:
        regex = re.compile(pattern) if pattern is not None else None
        return sum(
            1
            for r in self._records
            if (include_faults or not r["fault"]) and (regex is None or regex.search(r["text"]))
        )

    def _new_id(self, prefix: str) -> str:
        return f"{prefix}_fake{next(self._ids):08d}"

    def _track(self, conn: socket.socket, add: bool) -> None:
        with self._cond:
            if add:
                self._conns.add(conn)
            else:
                self._conns.discard(conn)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            self._stopping.wait(seconds)

    def _arrive(
        self, method: str, path: str, headers: dict[str, str], body: dict[str, Any]
    ) -> tuple[dict[str, Any], _Fault | None]:
        with self._cond:
            fault = self._faults.popleft() if self._faults else None
            record: dict[str, Any] = {
                "method": method,
                "path": path,
                "headers": headers,
                "json": body,
                "text": last_user_text(body),
                "fault": fault is not None,
                "fault_status": fault.status if fault else None,
                "reply": None,
                "time": time.time(),
            }
            self._records.append(record)
            self._cond.notify_all()
        return record, fault

    def _next_outcome(self) -> _Outcome:
        with self._cond:
            return self._outcomes.popleft() if self._outcomes else _Outcome()

    def _note_reply(self, record: dict[str, Any], text: str) -> None:
        with self._cond:
            record["reply"] = text

    def _reply_for(self, body: dict[str, Any], text: str) -> str:
        fn = self.reply_fn
        if fn is not None:
            result = fn(body)
            if result is not None:
                return result
        with self._cond:
            rules = list(self._rules)
            default = self._default
        for regex, template in rules:
            match = regex.search(text)
            if match:
                groups = {k: v or "" for k, v in match.groupdict().items()}
                return string.Template(template).safe_substitute(groups)
        return default


def main(argv: list[str] | None = None) -> int:
    """Run the fake as a standalone process until SIGTERM/SIGINT.

    Args:
        argv: Command-line arguments (defaults to ``sys.argv[1:]``).

    Returns:
        Process exit code.
    """
    parser = argparse.ArgumentParser(description="Fake Anthropic Messages API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 = any free port (default)")
    parser.add_argument(
        "--reply",
        action="append",
        default=[],
        metavar="PATTERN=TEXT",
        help="reply rule; split at the first '='; repeatable, first match wins",
    )
    parser.add_argument("--default", default=None, help="reply when no rule matches")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per request")
    args = parser.parse_args(argv)

    fake = FakeAnthropic(host=args.host, port=args.port)
    for rule in args.reply:
        pattern, sep, text = rule.partition("=")
        if not sep:
            parser.error(f"--reply needs PATTERN=TEXT, got {rule!r}")
        fake.add_reply(pattern, text)
    if args.default is not None:
        fake.set_default(args.default)
    fake.latency(args.latency)

    done = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        done.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    fake.start()
    print(fake.url, flush=True)
    while not done.wait(0.5):
        pass
    fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

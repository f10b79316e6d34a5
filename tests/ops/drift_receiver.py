"""A loopback webhook receiver for the drift-alert tests: ``http.server`` in a thread.

``Receiver(fail_first=n)`` answers HTTP 500 to its first ``n`` POSTs, then 200; ``.bodies`` are
the JSON bodies it accepted, ``.attempts`` every POST it saw, ``.url`` its address (with a secret
token in the path, which must never show up in logs or pages).
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

__all__ = ["SECRET", "Receiver"]

SECRET = "s3cr3t-hook-token"


class Receiver:
    """A webhook receiver on 127.0.0.1 (use as a context manager)."""

    def __init__(self, fail_first: int = 0) -> None:
        self.fail_first = fail_first
        self.attempts: list[dict[str, Any]] = []
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with receiver._lock:
                    receiver.attempts.append(body)
                    ok = len(receiver.attempts) > receiver.fail_first and self.path.endswith(SECRET)
                    if ok:
                        receiver.bodies.append(body)
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        host, port = self._server.server_address[:2]
        self.url = f"http://{host!s}:{port}/hooks/{SECRET}"

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

"""A minimal loopback SMTP server for the alert-mail test (``smtpd`` left the standard library).

It speaks just enough SMTP for ``smtplib.SMTP.send_message``: HELO/EHLO, MAIL, RCPT, DATA, RSET,
NOOP, QUIT. ``.messages`` holds ``(recipients, message text)`` per mail received; ``.port`` its port.
"""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType

__all__ = ["SmtpReceiver"]


class SmtpReceiver:
    """An SMTP server on 127.0.0.1 in a thread (use as a context manager)."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], str]] = []
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, text: str) -> None:
                self.wfile.write(text.encode() + b"\r\n")

            def handle(self) -> None:
                self.reply("220 localhost test SMTP")
                recipients: list[str] = []
                while line := self.rfile.readline():
                    command = line.decode(errors="replace").strip()
                    verb = command[:4].upper()
                    if verb in ("HELO", "EHLO"):
                        self.reply("250 localhost")
                    elif verb == "MAIL":
                        recipients = []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(command.split(":", 1)[1].strip().strip("<>"))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        lines = []
                        while (data := self.rfile.readline()) not in (b".\r\n", b""):
                            lines.append(data.decode(errors="replace"))
                        receiver.messages.append((recipients, "".join(lines)))
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:  # RSET, NOOP ...
                        self.reply("250 OK")

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> SmtpReceiver:
        self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

"""Running the server in this process: uvicorn on a socket bound here, the record written around it.

The socket is bound (``--port 0``: a free port) and listening before ``server.json`` is written, so
a client reading the record finds a port that accepts connections; uvicorn's own signal handlers
turn SIGTERM and SIGINT into a graceful shutdown, after which the record is removed.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from headwater.errors import ConfigurationError
from headwater.ops.server_process import ServerInfo, remove_record, write_record

__all__ = ["is_loopback", "serve"]


def is_loopback(host: str) -> bool:
    """Whether ``host`` names only this machine (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise ConfigurationError(
            f"Cannot listen on {host}:{port}: {exc.strerror or exc}",
            key="port",
            hint="Choose another --port (0 picks a free one).",
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _server_class() -> type:
    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, ending normally (exit 0) after a graceful shutdown on SIGTERM/SIGINT.

        (uvicorn re-raises the signal once shut down, which would kill the process before it
        removes its record; the shutdown itself is uvicorn's.)
        """

        def handle_exit(self, sig: int, frame: Any) -> None:
            super().handle_exit(sig, frame)
            # long-lived responses (the studio's event streams) end, so connections close at once
            stopping = getattr(getattr(self.config.app, "state", None), "stopping", None)
            if stopping is not None:
                stopping.set()

        @contextlib.contextmanager
        def capture_signals(self) -> Iterator[None]:
            with super().capture_signals():
                try:
                    yield
                finally:
                    captured = getattr(self, "_captured_signals", None)
                    if isinstance(captured, list):
                        captured.clear()

    return Server


def serve(
    ws_folder: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    autostarted: bool = False,
    log_path: Path | None = None,
    on_ready: Callable[[ServerInfo], None] | None = None,
) -> None:
    """Serve the workspace until SIGTERM/SIGINT; ``on_ready`` is called once the record is written.

    The caller holds the workspace's owner lock (``locks/server.owner.lock``).
    """
    import os

    import uvicorn

    from headwater.server.app import create_app
    from headwater.store.records import utcnow

    folder = Path(ws_folder).resolve()
    app = create_app(folder)
    sock = _bind(host, port)
    bound_port = int(sock.getsockname()[1])
    url_host = f"[{host}]" if ":" in host else host
    info = ServerInfo(
        url=f"http://{url_host}:{bound_port}",
        host=host,
        port=bound_port,
        pid=os.getpid(),
        started_at=utcnow(),
        autostarted=autostarted,
        log_path=None if log_path is None else str(log_path),
    )
    config = uvicorn.Config(app, log_level="info", lifespan="on", access_log=False, timeout_graceful_shutdown=10)
    server = _server_class()(config)
    try:
        write_record(folder, info)
        if on_ready is not None:
            on_ready(info)
        server.run(sockets=[sock])
    finally:
        remove_record(folder, info.pid)
        with contextlib.suppress(OSError):
            sock.close()

"""HTTP + TLS: a threaded Werkzeug server speaking HTTP/1.1 with a throwaway ``trustme`` CA.

``serve_app`` starts the server on a background thread and yields the bound port; the WSGI app
(``EmulatorWsgi`` in ``dispatch.py``) does everything ARM-specific.
"""

from __future__ import annotations

import ssl
import tempfile
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
from werkzeug.serving import WSGIRequestHandler, make_server

WsgiApp = Callable[..., Any]


class _Http11Handler(WSGIRequestHandler):
    """Keep-alive (the SDK reuses connections) and no stderr line per request (we log our own)."""

    protocol_version = "HTTP/1.1"

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The emulator keeps a structured request log; the stderr access log would only be noise.
        del code, size


@dataclass(frozen=True)
class Tls:
    """The server's SSL context and where the CA certificate (PEM) that clients trust lives."""

    context: ssl.SSLContext
    ca_path: Path


@contextmanager
def throwaway_tls(hosts: tuple[str, ...]) -> Iterator[Tls]:
    """A fresh CA and server certificate for ``hosts``; the CA PEM lives in a temp dir until exit."""
    authority = trustme.CA()
    certificate = authority.issue_cert(*hosts)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    certificate.configure_cert(context)
    with tempfile.TemporaryDirectory(prefix="remediator-emulator-") as folder:
        ca_path = Path(folder) / "emulator-ca.pem"
        authority.cert_pem.write_to_path(str(ca_path))
        yield Tls(context=context, ca_path=ca_path)


SHUTDOWN_POLL_SECONDS = 0.02


@contextmanager
def serve_app(app: WsgiApp, host: str, port: int, tls: Tls) -> Iterator[int]:
    """Run ``app`` over HTTPS on a daemon thread; yield the bound port; shut down on exit."""
    server = make_server(host, port, app, threaded=True, request_handler=_Http11Handler, ssl_context=tls.context)
    # serve_forever checks for shutdown every poll_interval (0.5 s by default): each emulator a test
    # suite stops would cost half a second of nothing.
    thread = threading.Thread(
        target=server.serve_forever,
        kwargs={"poll_interval": SHUTDOWN_POLL_SECONDS},
        name=f"emulator-{server.port}",
        daemon=True,
    )
    thread.start()
    try:
        yield int(server.port)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)

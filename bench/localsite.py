"""A local site for the benchmarks: a dict of path -> page served on 127.0.0.1 (keep-alive, deep backlog)."""

from __future__ import annotations

import sys
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class LocalSite(ThreadingHTTPServer):
    """The server; ``served`` counts the pages of the site served so far, 404s not counted (a crawl's
    progress, read from outside it)."""

    request_queue_size = 128  # listen backlog: up to 4 workers x 32 connections
    daemon_threads = True
    served = 0

    def handle_error(self, request: object, client_address: object) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):  # a killed crawler drops its connections
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def serve(site: dict[str, bytes], log: Counter[str] | None = None, agent: str | None = None) -> LocalSite:
    """Serve ``site`` until ``shutdown()``; with ``log``, count the GETs of each path there (with ``agent``,
    only those whose User-Agent contains it: a request a killed crawler sent can still wait in the listen
    backlog and be served after it died, while a second crawl runs)."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server: LocalSite

        def do_GET(self) -> None:  # noqa: N802
            body = site.get(self.path)
            with lock:
                self.server.served += body is not None
                if log is not None and (agent is None or agent in (self.headers.get("User-Agent") or "")):
                    log[self.path] += 1
            self.send_response(200 if body is not None else 404)
            self.send_header("Content-Type", "text/plain" if self.path.endswith(".txt") else "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args: object) -> None:
            pass

    server = LocalSite(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server

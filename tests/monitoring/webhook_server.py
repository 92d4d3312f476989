"""A real HTTP server that records the webhooks posted to it, and answers with the statuses it is told."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Webhooks:
    url: str
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (path, JSON body)
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200


@contextmanager
def webhook_server() -> Iterator[Webhooks]:
    hooks = Webhooks(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.posts.append((self.path, json.loads(body)))
            self.send_response(hooks.statuses.pop(0) if hooks.statuses else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()

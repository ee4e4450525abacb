"""/metrics and /healthz on a small HTTP server in its own thread, off the asyncio loop.

The engine and the admin each start one on a loopback address of their own (metrics_host /
metrics_port, admin_metrics_host / admin_metrics_port). It answers nothing else: no admin
route, no session, nothing a resident sees.
"""

from __future__ import annotations

import json
import logging
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from callengine.errors import ConfigError
from callengine.procinfo import port_holder

log = logging.getLogger("callengine.metrics")


@dataclass(frozen=True)
class HealthReport:
    """Healthy when nothing is wrong; `problems` names what is, `detail` is shown either way."""

    problems: tuple[str, ...] = ()
    detail: dict = field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        return not self.problems

    def to_json(self) -> bytes:
        body = {"status": "ok" if self.healthy else "unhealthy", **self.detail}
        if self.problems:
            body["problems"] = list(self.problems)
        return json.dumps(body, sort_keys=True).encode()


HealthCheck = Callable[[], HealthReport]


def _handler(registry: CollectorRegistry, health: HealthCheck):
    class Handler(BaseHTTPRequestHandler):
        server_version = "callengine-metrics"

        def do_GET(self) -> None:  # noqa: N802 (the http.server API)
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, CONTENT_TYPE_LATEST, generate_latest(registry))
            elif path == "/healthz":
                try:
                    report = health()
                except Exception as exc:  # a broken check is itself unhealthy
                    log.exception("health check failed")
                    report = HealthReport((f"health check: {type(exc).__name__}",))
                self._send(200 if report.healthy else 503, "application/json",
                           report.to_json())
            else:
                self._send(404, "text/plain; charset=utf-8", b"not found: /metrics, /healthz\n")

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args) -> None:  # noqa: A002 (the base's name)
            log.debug("metrics %s: " + format, self.address_string(), *args)

    return Handler


class MetricsServer:
    """One listener for /metrics and /healthz; `setting` names the port setting in errors."""

    def __init__(self, host: str, port: int, registry: CollectorRegistry, health: HealthCheck,
                 *, setting: str = "metrics_port") -> None:
        self.host, self.port = host, port
        self.registry, self.health = registry, health
        self.setting = setting
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def address(self) -> tuple[str, int]:
        """Where it listens (the real port when 0 was asked for)."""
        if self._server is None:
            return self.host, self.port
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> MetricsServer:
        """Listen and serve in a daemon thread; ConfigError when the port cannot be had."""
        ThreadingHTTPServer.allow_reuse_address = True
        try:
            server = ThreadingHTTPServer((self.host, self.port),
                                         _handler(self.registry, self.health))
        except OSError as exc:
            holder = port_holder(self.host, self.port) if self.port else None
            held = f"; held by {holder}" if holder else ""
            raise ConfigError(f"{self.setting}: cannot listen on {self.host}:{self.port} for "
                              f"/metrics ({exc.strerror or exc}){held}") from None
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="metrics-http",
                                        kwargs={"poll_interval": 0.5}, daemon=True)
        self._thread.start()
        host, port = self.address
        log.info("metrics and health on http://%s:%d/metrics and /healthz", host, port)
        return self

    def close(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None

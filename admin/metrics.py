"""The admin's Prometheus metrics and health check, served on a loopback listener of their own.

Never a route of the app: the public port answers /metrics like any unknown address (sign-in
or 404). `callengine admin` starts the listener when admin_metrics_port is set.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, g, request
from sqlalchemy import text

from callengine.metrics import AdminMetrics
from callengine.metrics_server import HealthReport, MetricsServer
from callengine.store.db import Database

KEY = "callengine.metrics"


def configure(app: Flask) -> AdminMetrics:
    """Count every request by blueprint and status, and time it (first hook of the app)."""
    metrics = AdminMetrics()
    app.extensions[KEY] = metrics

    @app.before_request
    def _started() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _done(response):
        started = g.get("metrics_started")
        elapsed = time.perf_counter() - started if started is not None else 0.0
        metrics.request_done(request.blueprint or "-", response.status_code, elapsed)
        return response

    return metrics


def current() -> AdminMetrics:
    """The current app's metrics."""
    return current_app.extensions[KEY]


def database_health(db: Database) -> HealthReport:
    """200 when the database answers a query now; 503 naming why not."""
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to answer is what the check reports
        return HealthReport((f"database: unreachable ({type(exc).__name__})",),
                            {"database": "unreachable"})
    return HealthReport((), {"database": "ok"})


def serve(app: Flask, host: str, port: int) -> MetricsServer:
    """Start the admin's /metrics and /healthz listener (ConfigError if the port is taken)."""
    from admin.context import AdminContext

    ctx: AdminContext = app.extensions["callengine"]
    return MetricsServer(host, port, app.extensions[KEY].registry,
                         lambda: database_health(ctx.db), setting="admin_metrics_port").start()

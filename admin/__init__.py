"""The Flask admin: `create_app()` builds it; importing this package does nothing else.

    flask --app admin run          # development (settings from CALLENGINE_* variables)
    callengine admin               # production, served by waitress
"""

from __future__ import annotations

from flask import Flask

from callengine.clock import Clock
from callengine.settings import Settings
from callengine.store.db import Database


def create_app(settings: Settings | None = None, *, db: Database | None = None,
               clock: Clock | None = None) -> Flask:
    """An admin app on these settings (default: from the environment) and database."""
    from admin import (
        access, api, audit_views, auth, calls, campaign, converters, dashboard, errors,
        exports, flags, i18n, imports, maps, nav, people, prompts, recordings, security,
        upload_progress, users, vaccinations,
    )
    from admin import exposure  # a positive test's contacts, confirmed by a supervisor
    from admin.api import exposure as api_exposure  # noqa: F401
    from admin import checkin, venues  # venues and the public check-in
    from admin import risk, risk_public  # the business risk self-assessment
    from admin.api import risk as api_risk  # noqa: F401
    from admin import lookup, samples  # samples, results and the public result lookup
    from admin.api import (  # noqa: F401 (their routes are on api.bp)
        imports as api_imports, map as api_map, people as api_people, results as api_results,
        vaccinations as api_vaccinations,
    )
    from admin.api import venues as api_venues  # noqa: F401
    from admin.api import samples as api_samples  # noqa: F401
    from admin import metrics as admin_metrics
    from admin.context import install_context

    app = Flask(__name__)
    converters.configure(app)
    context = install_context(app, settings, db, clock)
    admin_metrics.configure(app)  # first: every request is counted, refused ones too
    security.configure(app, context.settings)
    i18n.configure(app, context.settings)
    auth.configure(app)
    api.configure(app)  # the token principal, before the access check
    checkin.configure(app)
    risk_public.configure(app)
    access.configure(app)
    errors.configure(app)
    upload_progress.configure(app)
    app.jinja_env.globals["nav_entries"] = nav.visible_entries
    for blueprint in (auth.bp, dashboard.bp, users.bp, audit_views.bp, flags.bp, recordings.bp,
                      people.bp, calls.bp, campaign.bp, imports.bp, exports.bp, prompts.bp,
                      venues.bp,
                      checkin.bp,
                      risk.bp,
                      risk_public.bp,
                      samples.bp,
                      lookup.bp,
                      vaccinations.bp,
                      maps.bp,
                      exposure.bp,
                      api.bp):
        app.register_blueprint(blueprint)
    return app

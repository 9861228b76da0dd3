"""HTTP API: flask-smorest Api, one blueprint per resource, one error body shape."""

from __future__ import annotations

from flask import Flask

from app.api.base import SchemaExtrasPlugin, ZeroTripApi

BLUEPRINT_MODULES = (
    "app.api.health",
    "app.api.auth",
    "app.api.me",
    "app.api.applications",
    "app.api.benefits",
    "app.api.payments",
    "app.api.public_notices",
    "app.api.program_applications",
    "app.api.proxies",
    "app.api.staff",
    "app.api.staff_programs",
    "app.api.payout",
    "app.api.inbox",
    "app.api.subscriptions",
    "app.api.programs",
    "app.api.wechat_events",
    "app.api.ratings",
    "app.api.activity",
    "app.api.proofs",
    "app.api.exchange",
    "app.api.catalogue",
    "app.api.approvals",
    "app.api.lookups",
    "app.api.staff_workbench",
    "app.api.staff_letters",
    "app.api.staff_notices",
    "app.api.staff_counter",
    "app.api.staff_exchange",
    "app.api.areas",
    "app.api.program_triggers",
    "app.api.appeals",
    "app.api.visit_files",
)


def init_api(flask_app: Flask, cfg) -> ZeroTripApi:
    import importlib

    from app.api import request_context

    api = ZeroTripApi(flask_app, spec_kwargs={"components": {"securitySchemes": _SECURITY},
                                              "extra_plugins": [SchemaExtrasPlugin()]})
    request_context.init_app(flask_app)
    for name in BLUEPRINT_MODULES:
        module = importlib.import_module(name)
        for blueprint in getattr(module, "blueprints", (module.blp,)):
            api.register_blueprint(blueprint)
    flask_app.extensions["zerotrip_api"] = api
    return api


_SECURITY = {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}

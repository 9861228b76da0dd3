"""GET /healthz (live: the process answers; database and last scan reported) and GET /readyz (ready: the
database answers and the schema is at head, else 503)."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select, text

from app.api.schemas import UtcDateTime
from app.db import SessionLocal
from app.models import ScanRun

blp = Blueprint("health", __name__, description="Liveness and readiness")


class LastScanSchema(ma.Schema):
    program = ma.fields.String()
    as_of = ma.fields.Date()
    state = ma.fields.String()
    finished_at = UtcDateTime(allow_none=True)
    counts = ma.fields.Dict()


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    database = ma.fields.String(required=True)
    last_scan = ma.fields.Nested(LastScanSchema, allow_none=True)


@blp.route("/healthz")
class Health(MethodView):
    @blp.response(200, HealthSchema)
    def get(self):
        """Is the service up: database reachable, and the last scan run."""
        session = SessionLocal()
        try:
            session.execute(text("SELECT 1"))
        except Exception:  # noqa: BLE001 - report, never raise
            session.rollback()
            return {"status": "degraded", "database": "unreachable", "last_scan": None}
        try:
            last = session.execute(select(ScanRun).order_by(ScanRun.started_at.desc()).limit(1)).scalar()
        except Exception:  # noqa: BLE001 - schema not migrated yet
            session.rollback()
            return {"status": "degraded", "database": "schema_not_migrated", "last_scan": None}
        return {"status": "ok", "database": "ok", "last_scan": last}


class ReadySchema(ma.Schema):
    status = ma.fields.String(required=True, metadata={"description": "ready or not_ready"})
    database = ma.fields.String(required=True, metadata={"description": "ok or unreachable"})
    migrations = ma.fields.String(required=True, metadata={"description": "at_head, behind or unknown"})


@blp.route("/readyz")
class Ready(MethodView):
    @blp.response(200, ReadySchema)
    @blp.alt_response(503, schema=ReadySchema, description="Database unreachable or schema not at head")
    def get(self):
        """Ready to serve: the database answers and its schema is at the migrations' head (else 503)."""
        from flask import current_app

        from app.migrate import current_revisions, head_revisions, known_revisions

        cfg = current_app.extensions["zerotrip_config"]
        try:
            current = current_revisions(cfg.database_url)
        except Exception:  # noqa: BLE001 - report, never raise
            return {"status": "not_ready", "database": "unreachable", "migrations": "unknown"}, 503
        if current != set(head_revisions()):  # a revision this code does not know: a newer release migrated it
            return {"status": "not_ready", "database": "ok",
                    "migrations": "ahead" if current - known_revisions() else "behind"}, 503
        return {"status": "ready", "database": "ok", "migrations": "at_head"}

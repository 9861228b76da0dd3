"""Photos and signatures of a home visit (入户调查): uploaded as the image itself (≤ 10 MiB; checked by content,
re-encoded without EXIF, downscaled — flows.visit_files), served only to staff who may see the case."""

from __future__ import annotations

import marshmallow as ma
from flask import Response, request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import StrictSchema, UtcDateTime
from app.api.security import audit_event, authorize, config
from app.api.staff_security import current_staff, staff_required
from app.db import SessionLocal
from app.errors import NotFound
from app.models import Application, VisitFile
from flows import visit_files as flow

blp = Blueprint("visit_files", __name__, url_prefix="/api/v1/staff", description="Home-visit photos and signatures")


class VisitFileArgs(StrictSchema):
    kind = ma.fields.String(load_default="photo", validate=ma.validate.OneOf(flow.KINDS))


class VisitFileSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    media_type = ma.fields.String(required=True)
    size = ma.fields.Integer(required=True)
    created_at = UtcDateTime(required=True)


def _view(row: VisitFile) -> dict:
    return {"id": row.id, "kind": row.kind, "media_type": row.media_type, "size": row.size,
            "created_at": row.created_at}


@blp.route("/applications/<string:application_id>/visit-files")
class VisitFiles(MethodView):
    @staff_required(blp)
    @blp.arguments(VisitFileArgs, location="query")
    @blp.doc(requestBody={"required": True, "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                                         for t in flow.MEDIA_TYPES}})
    @blp.response(201, VisitFileSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(413, schema=ErrorSchema, description="Over 10 MiB")
    @blp.alt_response(415, schema=ErrorSchema, description="Not image/jpeg, image/png or image/webp")
    @blp.alt_response(422, schema=ErrorSchema, description="Not an image (`error_code`: not_an_image), empty "
                      "(file_empty), or a decompression bomb (image_too_large)")
    def post(self, args, application_id):
        """Upload one photo, signature or photo of a thumb-printed form for the case's home visit."""
        session = SessionLocal()
        application = session.get(Application, application_id) if len(application_id) <= 64 else None
        decision = authorize(session, "case:home_visit", application, "application",
                             object_ref=f"application:{application_id[:40]}")
        row = flow.store(session, config().instance_path, application, args["kind"], request.get_data(),
                         current_staff().id)
        audit_event(session, "staff.visit_file_upload", object_ref=f"visit_file:{row.id}",
                    on_behalf_of=decision.on_behalf_of, details={"kind": row.kind, "size": row.size})
        session.commit()
        return _view(row)


@blp.route("/visit-files/<string:file_id>")
class VisitFileOne(MethodView):
    @staff_required(blp)
    @blp.response(200, description="the image (Cache-Control: no-store)",
                  content_type="image/jpeg")
    @blp.alt_response(404, schema=ErrorSchema, description="No such file in your jurisdiction")
    def get(self, file_id):
        """One photo or signature of a home visit, to staff who may see the case."""
        session = SessionLocal()
        row = session.get(VisitFile, file_id) if len(file_id) <= 64 else None
        application = session.get(Application, row.application_id) if row is not None else None
        if application is None:
            raise NotFound("No such file.")
        decision = authorize(session, "application:view", application, "file",  # the same 404 as no file
                             object_ref=f"visit_file:{file_id[:40]}")
        path = flow.absolute(config().instance_path, row)
        if not path.is_file():
            raise NotFound("The file is no longer on this server.")
        audit_event(session, "staff.visit_file_view", object_ref=f"visit_file:{row.id}",
                    on_behalf_of=decision.on_behalf_of)
        session.commit()
        return Response(path.read_bytes(), mimetype=row.media_type, headers={"Cache-Control": "no-store"})

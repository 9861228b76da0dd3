"""公示 (public notices) of 低保 decisions, and objections to them.

GET /api/v1/public-notices?street=CODE is public but deliberately narrow, so that nobody can scrape a city-wide
list: a street code is required, pages hold at most 20 notices, and each source address may call it 30 times a
minute (a DB-backed fixed window in `rate_hits`, spent atomically by flows.limits.take and shared by every worker
process; 429 with Retry-After beyond).
A notice shows only the masked name (张*三), the street, the program and the amount — never an ID number, an
address or a household member. Objections need a signed-in resident and are accepted during the period only.
"""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app import security_log
from app.api.base import ErrorSchema, page_of
from app.api.schemas import NO_NUL, Digits, StrictSchema
from app.api.security import auth_required, client_ip, client_limit_key, current_account
from app.db import SessionLocal, session_factory
from app.errors import Forbidden, NotFound, TooManyAttempts
from app.models import PublicNotice
from flows import limits, programs
from flows.dates import today_shanghai
from flows.public_notices import public_entry

blp = Blueprint("public_notices", __name__, url_prefix="/api/v1/public-notices", description="Public notices (公示)")

RATE_LIMIT, RATE_WINDOW = 30, 60
MAX_PAGE_SIZE = 20


class NoticeArgs(ma.Schema):
    class Meta:
        unknown = ma.EXCLUDE

    street = Digits(required=True, pattern=r"^[0-9]{9}$", pattern_error="a 9-digit street code")


class NoticeSchema(ma.Schema):
    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    street_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"example": "张*三"})
    monthly_amount = ma.fields.String(required=True, metadata={"example": "350.00"})
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


class ObjectionArgs(StrictSchema):
    text = ma.fields.String(required=True, validate=[ma.validate.Length(min=5, max=1000), NO_NUL])


class ObjectionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True)


def rate_limit(bucket: str, limit: int | None = None, window: int | None = None) -> None:
    """Fixed window per bucket, spent atomically in its own short transaction (flows.limits.take);
    raises TooManyAttempts beyond the limit and writes one security log line."""
    from flask import current_app

    limit, window = limit or RATE_LIMIT, window or RATE_WINDOW
    with session_factory(current_app.extensions["zerotrip_config"])() as s:
        wait = limits.take(s, bucket, limit, window)
    if wait is not None:
        security_log.refused("public_notice_rate", address=client_ip(), bucket=bucket.split(":", 1)[0])
        raise TooManyAttempts("Too many requests for public notices; try again later.", retry_after=wait)


def _payload(n: PublicNotice) -> dict:
    return public_entry(n)  # the workbench's 公示 screens and printed sheet show exactly this (flows.public_notices)


@blp.route("")
class Notices(MethodView):
    @blp.arguments(NoticeArgs, location="query")
    @blp.response(200, NoticeSchema(many=True))
    @blp.alt_response(429, schema=ErrorSchema, description="Rate limit per source address")
    @blp.paginate(page_size=10, max_page_size=MAX_PAGE_SIZE)
    def get(self, args, pagination_parameters):
        """Notices open today in one street (public; a street is required; pages of at most 20)."""
        rate_limit(f"notices:{client_limit_key()}")
        session, today = SessionLocal(), today_shanghai()
        query = (select(PublicNotice).where(PublicNotice.street_code == args["street"], PublicNotice.state == "open",
                                            PublicNotice.starts_on <= today, PublicNotice.ends_on >= today)
                 .order_by(PublicNotice.starts_on.desc(), PublicNotice.id))
        return [_payload(n) for n in page_of(session, query, pagination_parameters)]


@blp.route("/<string:notice_id>/objections")
class NoticeObjections(MethodView):
    @auth_required(blp)
    @blp.arguments(ObjectionArgs)
    @blp.response(201, ObjectionSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Only residents who have bound their identity")
    @blp.alt_response(404, schema=ErrorSchema, description="No such notice")
    @blp.alt_response(409, schema=ErrorSchema, description="The period is over (`error_code`: "
                      "notice_closed), or this account already objected (objection_exists)")
    def post(self, args, notice_id):
        """Object to a notice during its period (a signed-in, identity-bound resident; once per notice)."""
        session = SessionLocal()
        account = current_account()
        if account.resident_id is None:
            raise Forbidden("Only residents who have bound their identity may object.")
        notice = session.get(PublicNotice, notice_id) if len(notice_id) <= 64 else None
        if notice is None:
            raise NotFound("No such notice.")
        row = programs.get(notice.program).casework_module().object_to(session, notice, account.id, args["text"])
        session.commit()
        return {"id": row.id, "state": row.state}

"""Sign-in with WeChat, token refresh (rotation with reuse detection) and logout."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api import tokens
from app.api.base import ErrorSchema
from app.api.me import me_payload
from app.api.schemas import NO_NUL, AccountSchema, StrictSchema
from app.api.security import auth_required, config, current_auth_session
from app.db import SessionLocal
from flows.accounts import login_with_wechat
from notifications.wechat_client import client_for

blp = Blueprint("auth", __name__, url_prefix="/api/v1/auth", description="Sign-in and tokens")


class LoginArgs(StrictSchema):
    code = ma.fields.String(required=True, validate=[ma.validate.Length(1, 128), NO_NUL])


class RefreshArgs(StrictSchema):
    refresh_token = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL])


class TokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)
    account = ma.fields.Nested(AccountSchema, required=True)


class LogoutSchema(ma.Schema):
    logged_out = ma.fields.Boolean(required=True)


@blp.route("/wechat-login")
class WechatLogin(MethodView):
    @blp.arguments(LoginArgs)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Login code invalid, used or expired")
    @blp.alt_response(429, schema=ErrorSchema, description="WeChat rate limit")
    @blp.alt_response(503, schema=ErrorSchema, description="WeChat unreachable")
    def post(self, args):
        """Exchange the code from wx.login for our own access and refresh tokens."""
        session, cfg = SessionLocal(), config()
        account = login_with_wechat(session, client_for(cfg), args["code"])
        pair = tokens.start_session(session, cfg, account)
        session.commit()
        return {**pair, "account": me_payload(session, account)["account"]}


@blp.route("/refresh")
class Refresh(MethodView):
    @blp.arguments(RefreshArgs)
    @blp.response(200, TokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Refresh token invalid, used or revoked")
    def post(self, args):
        """Rotate the refresh token: a new pair; presenting a used token ends the whole session."""
        session, cfg = SessionLocal(), config()
        account, pair = tokens.rotate_refresh_token(session, cfg, args["refresh_token"])
        session.commit()
        return {**pair, "account": me_payload(session, account)["account"]}


@blp.route("/logout")
class Logout(MethodView):
    @auth_required(blp)
    @blp.response(200, LogoutSchema)
    def post(self):
        """End this sign-in at once: its access and refresh tokens stop working."""
        session = SessionLocal()
        auth = session.merge(current_auth_session())
        tokens.revoke_session(session, auth, "logout")
        session.commit()
        return {"logged_out": True}

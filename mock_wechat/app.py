"""The Flask app factory: blueprints, WeChat-style error handling, fault hook."""

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException

from . import console, console_ops, faults, login, messages, phone, qrcodes, sms, tokens
from .config import load_settings
from .console_io import ConsoleError
from .store import Store
from .templates import load_templates
from .wire import WeChatError, wechat_error

POST_ONLY = {"/cgi-bin/stable_token", "/wxa/business/getuserphonenumber",
             "/cgi-bin/message/subscribe/send", "/wxa/getwxacodeunlimit"}
GET_ONLY = {"/cgi-bin/token", "/sns/jscode2session", "/wxaapi/newtmpl/gettemplate"}
BLUEPRINTS = (tokens, login, phone, messages, qrcodes, sms, console, console_ops)


def create_app(config: dict | None = None) -> Flask:
    """Build the mock. `config` keys: see mock_wechat.config.DEFAULTS, plus `clock` (callable → epoch s)."""
    settings = load_settings(config)
    app = Flask("mock_wechat")
    app.json.ensure_ascii = False
    app.json.sort_keys = False
    app.extensions["mock_wechat"] = Store(settings, clock=(config or {}).get("clock"))
    app.extensions["mock_wechat_templates"] = load_templates(settings["templates_path"])
    for module in BLUEPRINTS:
        app.register_blueprint(module.bp)
    app.before_request(faults.apply_faults)
    _register_errors(app)
    return app


def _register_errors(app: Flask) -> None:
    app.register_error_handler(WeChatError, lambda e: wechat_error(e.errcode, e.errmsg))
    app.register_error_handler(ConsoleError, lambda e: e.response())
    app.register_error_handler(HTTPException, _http_error)


def _http_error(error: HTTPException):
    path = request.path
    if error.code == 405 and path in POST_ONLY:
        return wechat_error(43002)
    if error.code == 405 and path in GET_ONLY:
        return wechat_error(43001)
    if error.code == 500 and path in POST_ONLY | GET_ONLY:
        return wechat_error(-1)
    return jsonify({"error": error.name.lower().replace(" ", "_"), "path": path}), error.code

"""The baseline of benchmarks/api.py: a bare Flask app (one JSON route, no database, no auth) served by the
same gunicorn settings as the API, so the ratio shows what our request path costs above Flask + gunicorn."""

from flask import Flask

application = Flask(__name__)


@application.get("/bare")
def bare():
    return {"id": "bare", "state": "proposed"}

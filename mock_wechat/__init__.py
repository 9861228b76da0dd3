"""mock_wechat — a stand-alone Flask app that speaks the WeChat mini-program server API
(design/wechat-api.md) plus a test console under /__mock__/ and a mock SMS gateway.

Run: `python -m mock_wechat --port 5001`. Build in tests: `create_app({"clock": fake_clock})`.
It imports nothing from app/, flows/ or notifications/ and they never import it.
"""

from .app import create_app
from .server import main, run

__all__ = ["create_app", "main", "run"]

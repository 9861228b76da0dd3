"""Command line: `python -m mock_wechat [--host 127.0.0.1] [--port 5001]`."""

import argparse

from werkzeug.serving import run_simple

from .app import create_app


def run(host: str = "127.0.0.1", port: int = 5001, config: dict | None = None) -> None:
    """Serve the mock (threaded) until interrupted."""
    run_simple(host, port, create_app(config), threaded=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mock_wechat", description="Mock WeChat mini-program server API")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--webhook-url", default=None, help="message-push URL for events")
    args = parser.parse_args(argv)
    config = {"webhook_url": args.webhook_url} if args.webhook_url else None
    run(args.host, args.port, config)
    return 0

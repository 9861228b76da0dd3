"""A dispatcher process for the reliability tests: `python dispatch_worker.py <worker-id>`.

Configuration comes from the environment (DATABASE_URL, WECHAT_API_BASE, DISPATCH_*); WORKER_HTTP_TIMEOUT
sets the client's timeout; WORKER_READY_FILE, if set, is created after the first pass that found nothing to do
(imports done, database and client ready). SIGTERM stops it cleanly; the tests also SIGKILL it mid-run.
"""

import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from app.config import load_config  # noqa: E402
from notifications.dispatcher import run_forever  # noqa: E402


class StopEvent(threading.Event):
    """run_forever's stop event; its first idle wait marks the worker ready (WORKER_READY_FILE)."""

    ready_file = os.environ.get("WORKER_READY_FILE")

    def wait(self, timeout=None):
        if self.ready_file:
            open(self.ready_file, "w").close()  # noqa: SIM115
            self.ready_file = None
        return super().wait(timeout)


def main() -> None:
    cfg = load_config({})
    cfg.http_timeout = float(os.environ.get("WORKER_HTTP_TIMEOUT", "0.25"))
    stop = StopEvent()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    total = run_forever(cfg, stop=stop, worker_id=sys.argv[1], idle_sleep=0.05)
    print(json.dumps(dict(total)), flush=True)


if __name__ == "__main__":
    main()

"""A dispatcher process for the reliability tests: `python dispatch_worker.py <worker-id>`.

Configuration comes from the environment (DATABASE_URL, WECHAT_API_BASE, DISPATCH_*); WORKER_HTTP_TIMEOUT
sets the client's timeout; WORKER_READY_FILE, if set, is created once the imports are done. SIGTERM stops it
cleanly; the tests also SIGKILL it mid-run.
"""

import json
import os
import signal
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from app.config import load_config  # noqa: E402
from notifications.dispatcher import run_forever  # noqa: E402


def main() -> None:
    cfg = load_config({})
    cfg.http_timeout = float(os.environ.get("WORKER_HTTP_TIMEOUT", "0.25"))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    if os.environ.get("WORKER_READY_FILE"):
        open(os.environ["WORKER_READY_FILE"], "w").close()  # noqa: SIM115
    total = run_forever(cfg, stop=stop, worker_id=sys.argv[1], idle_sleep=0.05)
    print(json.dumps(dict(total)), flush=True)


if __name__ == "__main__":
    main()

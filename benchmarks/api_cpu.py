"""CPU per request of the API in one process, beside the bare Flask app — steadier than wrk on a loaded machine.

    python benchmarks/api_cpu.py                         # SQLite in a temporary directory
    PG_URL=postgresql+psycopg://postgres@127.0.0.1:5432/zt_bench python benchmarks/api_cpu.py   # emptied first
    ROOT=/path/to/other/checkout python benchmarks/api_cpu.py    # the same measurement of another tree (A/B)

The production app (`create_app` with the config `zerotrip serve` builds, metrics on) and `benchmarks/bare_app`
are called as WSGI callables, without a server: 3,000 prepared accounts (`api_data.prepare`), authenticated
`GET /api/v1/applications` and `GET /api/v1/applications/{id}` with each account's token in turn; CPU time
(`time.process_time`) per request, median of 5 passes. Then `POST /api/v1/applications/{id}/confirm` over 3,000
more accounts, each once, after 100 not counted, in 5 slices (median); a confirmation decides, so it cannot be repeated. Where the request path's own cost goes; `api.py` gives
the figures under gunicorn and wrk.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(os.environ.get("ROOT") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

ACCOUNTS, PASSES, CONFIRMS, WARM_CONFIRMS = 3000, 5, 3000, 100


def call(wsgi, environ) -> None:
    statuses: list[str] = []
    body = wsgi(dict(environ), lambda status, headers, exc_info=None: statuses.append(status))
    b"".join(body)
    getattr(body, "close", lambda: None)()
    assert statuses[0].startswith("200"), statuses


def main() -> None:
    import api as bench
    import api_data
    from werkzeug.test import EnvironBuilder

    from app.config import load_config
    from app.db import dispose_engines
    from app.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="zt-bench-cpu-"))
    url = os.environ.get("PG_URL") or f"sqlite:///{tmp / 'bench.db'}"
    if url.startswith("postgresql"):
        bench.reset_postgresql(url)
    upgrade(url)
    cfg = load_config({"database_url": url, "instance_path": str(tmp), "signing_key": bench.TEST_SIGNING_KEY,
                       "data_key": bench.TEST_DATA_KEY, "access_token_ttl": 6 * 3600, "testing": True})
    prepared = api_data.prepare(cfg, ACCOUNTS + CONFIRMS, progress=lambda *a, **k: None)
    pairs, confirmers = prepared[:ACCOUNTS], prepared[ACCOUNTS:]
    dispose_engines()
    os.environ.update(bench.server_env(url, tmp))
    from app.cli.serve_cmd import prepare_metrics_dir, ready_config

    prepare_metrics_dir()
    import bare_app

    from app import create_app

    api = create_app(ready_config())
    runs = {
        "bare": (bare_app.application, [EnvironBuilder(path="/bare").get_environ() for _ in pairs]),
        "list": (api, [EnvironBuilder(path="/api/v1/applications", headers={"Authorization": f"Bearer {p.token}"})
                       .get_environ() for p in pairs]),
        "one": (api, [EnvironBuilder(path=f"/api/v1/applications/{p.application_id}",
                                     headers={"Authorization": f"Bearer {p.token}"}).get_environ() for p in pairs]),
    }
    for wsgi, environs in runs.values():  # warm-up: imports, pools, compiled statements
        for environ in environs[:300]:
            call(wsgi, environ)
    cpu: dict[str, list[float]] = {}
    for _ in range(PASSES):
        for name, (wsgi, environs) in runs.items():
            started = time.process_time()
            for environ in environs:
                call(wsgi, environ)
            cpu.setdefault(name, []).append((time.process_time() - started) / len(environs) * 1e6)
    confirms = [EnvironBuilder(path=f"/api/v1/applications/{p.application_id}/confirm", method="POST",
                               headers={"Authorization": f"Bearer {p.token}"}).get_environ() for p in confirmers]
    warm, counted = confirms[:WARM_CONFIRMS], confirms[WARM_CONFIRMS:]
    for environ in warm:
        call(api, environ)
    size = len(counted) // PASSES
    for i in range(PASSES):
        started = time.process_time()
        for environ in counted[i * size:(i + 1) * size]:
            call(api, environ)
        cpu.setdefault("confirm", []).append((time.process_time() - started) / size * 1e6)
    bare = statistics.median(cpu["bare"])
    figures = "; ".join(f"{name} {statistics.median(cpu[name]):.0f} (bare is {bare / statistics.median(cpu[name]):.0%} of it)"
                        for name in ("list", "one", "confirm"))
    print(f"{ROOT.name} ({url.split(':')[0]}): CPU µs per request, median of {PASSES} × {len(pairs):,}: "
          f"bare {bare:.0f}; {figures}; load {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

"""A department's callback receiver for the subscription tests: a real HTTP server on 127.0.0.1 (a thread) that
checks each POST's signature with the bureau's published key, keeps every delivery, answers a repeated message
id with the same acknowledgement, and fails a share of calls on purpose (5xx, 429, and answers slower than the
sender's timeout — which it has processed nonetheless, so the sender's retry is a true repeat)."""

from __future__ import annotations

import json
import random
import threading
import time

from flask import Flask, request
from werkzeug.serving import make_server

from flows.exchange import signing


class Receiver:
    def __init__(self, public_key: str, faults: float = 0.0, seed: int = 20261205, slow_s: float = 1.5):
        self.public_key, self.faults, self.slow_s = public_key, faults, slow_s
        self.rng, self.lock = random.Random(seed), threading.Lock()
        self.deliveries: list[dict] = []  # every call that reached the handler with a valid signature
        self.bad_signatures = 0
        self.answered: dict[str, str] = {}
        app = Flask("receiver")
        app.add_url_rule("/dci/registry/<action>", "callback", self.handle, methods=["POST"])
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.base = f"http://127.0.0.1:{self.server.server_port}/dci"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                                       daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)
        self.server.server_close()

    def handle(self, action: str):
        body = request.get_data()
        h = request.headers
        message = signing.string_to_sign("POST", request.full_path.rstrip("?"), h.get("X-ZT-Timestamp", ""),
                                         h.get("X-ZT-Message-Id", ""), body)
        if not signing.verify(self.public_key, h.get("X-ZT-Signature", ""), message):
            with self.lock:
                self.bad_signatures += 1
            return {"error": "signature_invalid"}, 401
        with self.lock:
            roll = self.rng.random()
        if roll < self.faults * 0.5:
            return {"error": "try later"}, 503
        if roll < self.faults * 0.7:
            return {"error": "slow down"}, 429, {"Retry-After": "0"}
        envelope = json.loads(body)
        mid = envelope["header"]["message_id"]
        with self.lock:
            self.deliveries.append({"action": action, "message_id": mid, "envelope": envelope,
                                    "key": h.get("X-ZT-Key")})
            ack = self.answered.setdefault(mid, f"ack-{len(self.answered) + 1}")
        if roll < self.faults:  # processed, but the answer comes after the sender gave up
            time.sleep(self.slow_s)
        return {"message": {"ack_status": "ACK", "correlation_id": ack}}

    def distinct(self, action: str = "notify") -> dict[str, dict]:
        with self.lock:
            return {d["message_id"]: d["envelope"] for d in self.deliveries if d["action"] == action}

"""One security log line per refusal (lock-out, 429, suspended grant, bad signature, rejected digits, …).

Every refusal the security rules make goes through `refused`, so that operators see them in one place
(logger ``zerotrip.security``) and metrics can count them by rule. A line names the actor (an account or
staff id, never a name), the client address, the rule and the result — never a password, a token or a
full ID number (the log filter masks ID numbers as a second guard).
"""

from __future__ import annotations

import logging

log = logging.getLogger("zerotrip.security")

# Called as listener(rule, result) for every refusal; metrics register one (kept free of imports here).
listeners: list = []


def refused(rule: str, *, actor: str | None = None, address: str | None = None, result: str = "refused",
            **detail: object) -> None:
    """Write the one security log line of a refusal. `detail` values must hold no personal data."""
    extra = " ".join(f"{k}={v}" for k, v in sorted(detail.items()))
    log.warning("security rule=%s result=%s actor=%s address=%s%s", rule, result, actor or "-",
                address or "-", f" {extra}" if extra else "")
    for listener in listeners:
        listener(rule, result)

"""Subscription grants per (openid, template_id), as the wx.requestSubscribeMessage pop-up leaves them.

- accept: one-time template → counter +1 (grants accumulate, no expiry); clears a ban or refusal.
- reject: no grant. For a long-term template it blocks sends until a later accept.
- ban:    every send of that template to that user → 43101 until a later accept (counter kept).
- filter: nothing changes.
Long-term templates need no grant (they are allowed unless rejected or banned); one-time templates
spend one grant per successful send, and with none left → 43101.
"""

from .store import State
from .templates import Template

STATUSES = ("accept", "reject", "ban", "filter")


def apply_status(state: State, openid: str, template: Template, status: str) -> None:
    key = (openid, template.id)
    if status == "accept":
        state.banned.discard(key)
        state.refused.discard(key)
        if not template.long_term:
            state.grants[key] = state.grants.get(key, 0) + 1
    elif status == "reject" and template.long_term:
        state.refused.add(key)
    elif status == "ban":
        state.banned.add(key)


def allowed(state: State, openid: str, template: Template) -> bool:
    key = (openid, template.id)
    if key in state.banned or key in state.refused:
        return False
    return template.long_term or state.grants.get(key, 0) > 0


def consume(state: State, openid: str, template: Template) -> bool:
    """Spend one grant if the send may go; False means 43101."""
    if not allowed(state, openid, template):
        return False
    if not template.long_term:
        state.grants[(openid, template.id)] -= 1
    return True


def quota(state: State, openid: str, template: Template) -> dict:
    """`remaining` = sends possible now (null = unlimited long-term); `granted` = stored counter."""
    ok = allowed(state, openid, template)
    if template.long_term:
        remaining = None if ok else 0
    else:
        remaining = state.grants.get((openid, template.id), 0) if ok else 0
    return {"openid": openid, "template_id": template.id, "long_term": template.long_term,
            "allowed": ok, "remaining": remaining, "granted": state.grants.get((openid, template.id), 0),
            "banned": (openid, template.id) in state.banned}

"""Per-request costs Flask pays for features this API does not use, removed at the app's public hooks.

- No cookie session: nothing reads or writes `flask.session` (tokens are bearer tokens), yet Flask's default
  interface builds an itsdangerous signer from SECRET_KEY on every request to look for the cookie. Returning
  None from `open_session` makes Flask use its null session (any write would raise, as it should).
- `ensure_sync`: Flask asks `inspect.iscoroutinefunction` of every hook and view on every request; the answer
  for a given function never changes, so it is remembered.
"""

from __future__ import annotations

import weakref
from inspect import iscoroutinefunction

from flask.sessions import SecureCookieSessionInterface


class NoCookieSession(SecureCookieSessionInterface):
    def open_session(self, app, request):
        return None


def init_app(flask_app) -> None:
    flask_app.session_interface = NoCookieSession()
    original = flask_app.ensure_sync
    known: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # a function made per request goes with it

    def ensure_sync(func):
        # MethodView hands a new bound method each request: remember the function under it. Flask returns a
        # synchronous callable unchanged, so only its own wrapping of a coroutine function is delegated.
        target = getattr(func, "__func__", func)
        try:
            is_async = known.get(target)
            if is_async is None:
                is_async = known[target] = iscoroutinefunction(func)
        except TypeError:  # not weakly referenceable or not hashable
            return original(func)
        return original(func) if is_async else func

    flask_app.ensure_sync = ensure_sync

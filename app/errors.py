"""Domain errors raised by flows; the HTTP layer renders them as flask-smorest error bodies."""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    code_name = "bad_request"

    def __init__(self, message: str, *, errors: dict | None = None, headers: dict | None = None,
                 error_code: str | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors
        self.headers = headers or {}
        # A stable machine-readable reason (e.g. "objection_exists") for refusals a client must tell apart.
        self.error_code = error_code


class NotFound(DomainError):
    status, code_name = 404, "not_found"


class Conflict(DomainError):
    status, code_name = 409, "conflict"


class Forbidden(DomainError):
    status, code_name = 403, "forbidden"


class Unauthorized(DomainError):
    status, code_name = 401, "unauthorized"


class Unprocessable(DomainError):
    status, code_name = 422, "unprocessable"


class TooManyAttempts(DomainError):
    status, code_name = 429, "too_many_attempts"

    def __init__(self, message: str, retry_after: int, error_code: str | None = None):
        super().__init__(message, error_code=error_code, headers={"Retry-After": str(max(1, int(retry_after)))})
        self.retry_after = retry_after


class TooLarge(DomainError):
    status, code_name = 413, "request_entity_too_large"


class UnsupportedMedia(DomainError):
    status, code_name = 415, "unsupported_media_type"


class UpstreamUnavailable(DomainError):
    status, code_name = 503, "upstream_unavailable"

"""Domain errors. Handlers map each to one HTTP status and the single error shape."""


class NoticebotError(Exception):
    """Base class: ``code`` is stable for clients, the message is for people."""

    code = "error"
    status = 500

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidRequest(NoticebotError):
    code = "invalid_request"
    status = 400


class Unauthorized(NoticebotError):
    code = "unauthorized"
    status = 401


class Forbidden(NoticebotError):
    code = "forbidden"
    status = 403


class NotFound(NoticebotError):
    code = "not_found"
    status = 404


class Conflict(NoticebotError):
    code = "conflict"
    status = 409


class PayloadTooLarge(NoticebotError):
    code = "payload_too_large"
    status = 413


class UnsupportedMediaType(NoticebotError):
    code = "unsupported_media_type"
    status = 415


class Unprocessable(NoticebotError):
    code = "unprocessable"
    status = 422


class ModelUnavailable(NoticebotError):
    code = "model_unavailable"
    status = 503


class UnreadableDocument(NoticebotError):
    """A file that cannot become text. The message is shown on the failed document."""

    code = "unreadable_document"
    status = 422


def error_body(code: str, message: str) -> dict:
    """The API's one error shape, wherever an error is answered (handler or local gateway)."""
    return {"error": {"code": code, "message": message}}


class TooManyRequests(NoticebotError):
    """Throttled: ``retry_after`` (seconds) goes out as the Retry-After header."""

    code = "too_many_requests"
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = max(1, int(retry_after))


class IdentityProviderUnavailable(NoticebotError):
    code = "identity_provider_unavailable"
    status = 503

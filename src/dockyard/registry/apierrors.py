"""The distribution spec's error codes, and the translation of dockyard's error categories.

Handlers raise ApiError with a spec code; `from_category` maps the core's categories
(NotFound, InvalidArgument, ...) to the code that fits the resource being handled.
"""

from dockyard import errors

# code -> default HTTP status, as the distribution spec lists them
STATUS = {
    "BLOB_UNKNOWN": 404,
    "BLOB_UPLOAD_INVALID": 400,
    "BLOB_UPLOAD_UNKNOWN": 404,
    "DIGEST_INVALID": 400,
    "MANIFEST_BLOB_UNKNOWN": 400,
    "MANIFEST_INVALID": 400,
    "MANIFEST_UNKNOWN": 404,
    "NAME_INVALID": 400,
    "NAME_UNKNOWN": 404,
    "SIZE_INVALID": 400,
    "UNAUTHORIZED": 401,
    "DENIED": 403,
    "UNSUPPORTED": 405,
    "TOOMANYREQUESTS": 429,
    "PAGINATION_NUMBER_INVALID": 400,
    "RANGE_INVALID": 416,
}


class ApiError(Exception):
    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        detail=None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status or STATUS.get(code, 400)
        self.detail = detail
        self.headers = headers or {}

    def body(self) -> bytes:
        import json

        err = {"code": self.code, "message": self.message}
        if self.detail is not None:
            err["detail"] = self.detail
        return json.dumps({"errors": [err]}).encode()


def from_category(e: errors.DockyardError, not_found: str, invalid: str) -> ApiError:
    """The ApiError for a core error raised while handling one kind of resource."""
    msg = str(e)
    if isinstance(e, errors.NotFound):
        return ApiError(not_found, msg)
    if isinstance(e, errors.LimitExceeded):
        return ApiError("SIZE_INVALID", msg, 413)
    if isinstance(e, errors.InvalidArgument):
        return ApiError(invalid, msg)
    if isinstance(e, errors.PermissionDenied):
        return ApiError("DENIED", msg)
    if isinstance(e, errors.Unsupported):
        return ApiError(invalid, msg)
    if isinstance(e, errors.Unavailable):
        return ApiError("TOOMANYREQUESTS", msg, 503)
    return ApiError("UNKNOWN", msg, e.http_status if e.http_status >= 400 else 500)

"""Error categories raised in the core and translated only at the edges.

Every error the engine raises on purpose is one of these categories; the CLI turns
them into one line and an exit code, the API into an HTTP status, the registry into
a distribution error code. Anything else is a bug and shows a traceback with --debug.
"""


class DockyardError(Exception):
    """Base of every deliberate error; the message is one line meant for the user."""

    http_status = 500


class NotFound(DockyardError):
    http_status = 404


class AlreadyExists(DockyardError):
    http_status = 409


class InvalidArgument(DockyardError):
    http_status = 400


class Conflict(DockyardError):
    http_status = 409


class FailedPrecondition(DockyardError):
    http_status = 412


class Unavailable(DockyardError):
    http_status = 503


class PermissionDenied(DockyardError):
    http_status = 403


class Unsupported(DockyardError):
    http_status = 501


class DataLoss(DockyardError):
    """Stored data does not match what it claims to be (e.g. a blob failing its digest)."""

    http_status = 500


class LimitExceeded(InvalidArgument):
    """Input is larger than a configured limit (archive size, entry count, header size)."""

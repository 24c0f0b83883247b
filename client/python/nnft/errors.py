"""Exceptions of the nnft client: one class per gRPC status a user acts on.

Every error raised for a failed call carries the gRPC status (``code``, a
``grpc.StatusCode``) and the server's message, which names the offending field
and its allowed range; ``str(err)`` reads "INVALID_ARGUMENT: <message>".
"""

import grpc


class NnftError(Exception):
    """Base class of every error the nnft client raises."""

    code = None  # grpc.StatusCode, or None for errors raised on the client

    def __init__(self, message, code=None, details=""):
        super().__init__(message)
        if code is not None:
            self.code = code
        self.details = details or message

    @property
    def status_name(self):
        """The gRPC status name, e.g. "INVALID_ARGUMENT" (None when local)."""
        return self.code.name if self.code is not None else None


class InvalidArgument(NnftError, ValueError):
    code = grpc.StatusCode.INVALID_ARGUMENT


class InvalidSpec(InvalidArgument):
    """A spec rejected on the client before any call (bad JSON, bad field)."""


class NotFound(NnftError, LookupError):
    code = grpc.StatusCode.NOT_FOUND


class AlreadyExists(NnftError):
    code = grpc.StatusCode.ALREADY_EXISTS


class FailedPrecondition(NnftError):
    code = grpc.StatusCode.FAILED_PRECONDITION


class ResourceExhausted(NnftError):
    code = grpc.StatusCode.RESOURCE_EXHAUSTED


class Unavailable(NnftError, ConnectionError):
    code = grpc.StatusCode.UNAVAILABLE


class DeadlineExceeded(NnftError, TimeoutError):
    code = grpc.StatusCode.DEADLINE_EXCEEDED


class Cancelled(NnftError):
    code = grpc.StatusCode.CANCELLED


class Unauthenticated(NnftError, PermissionError):
    code = grpc.StatusCode.UNAUTHENTICATED


class PermissionDenied(NnftError, PermissionError):
    code = grpc.StatusCode.PERMISSION_DENIED


class Internal(NnftError):
    code = grpc.StatusCode.INTERNAL


class JobFailed(NnftError):
    """The job ended in state FAILED; ``code`` is its recorded status."""


class JobCancelled(NnftError):
    """The job ended in state CANCELLED."""

    code = grpc.StatusCode.CANCELLED


_BY_CODE = {
    cls.code: cls
    for cls in (InvalidArgument, NotFound, AlreadyExists, FailedPrecondition,
                ResourceExhausted, Unavailable, DeadlineExceeded, Cancelled,
                Unauthenticated, PermissionDenied, Internal)
}


def from_code(code, message):
    """The exception for a status code (grpc.StatusCode) and message."""
    cls = _BY_CODE.get(code, NnftError)
    return cls("%s: %s" % (code.name, message), code=code, details=message)


def from_rpc_error(err):
    """Maps a grpc.RpcError to the nnft exception of its status."""
    try:
        code, details = err.code(), err.details() or ""
    except Exception:  # not a call object: keep what we have
        return NnftError(str(err))
    return from_code(code, details)


def code_from_int(value):
    """grpc.StatusCode from its integer value (as in Job.error_code)."""
    for code in grpc.StatusCode:
        if code.value[0] == value:
            return code
    return grpc.StatusCode.UNKNOWN

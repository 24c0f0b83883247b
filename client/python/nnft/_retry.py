"""Deadlines and retries with exponential backoff for idempotent calls.

Only UNAVAILABLE is retried (the server is restarting or not up yet), and only
on calls that are safe to repeat: reads, cancel, and submissions carrying a
request_id (the server deduplicates by it). Every attempt gets what is left of
the caller's overall deadline; backoff delays never run past it.
"""

import random
import time

import grpc

from nnft import errors

INITIAL_DELAY_S = 0.05
MAX_DELAY_S = 2.0
MULTIPLIER = 2.0


class Deadline:
    """An absolute deadline on the monotonic clock (None: no deadline)."""

    def __init__(self, timeout):
        self.at = None if timeout is None else time.monotonic() + timeout

    def remaining(self):
        """Seconds left (None without deadline); 0 once passed."""
        if self.at is None:
            return None
        return max(0.0, self.at - time.monotonic())

    def expired(self):
        return self.at is not None and time.monotonic() >= self.at


def backoff_delays():
    """Delays with full jitter: U(0, d) with d growing 2x up to MAX_DELAY_S."""
    delay = INITIAL_DELAY_S
    while True:
        yield random.uniform(0.5 * delay, delay)
        delay = min(delay * MULTIPLIER, MAX_DELAY_S)


def sleep_before_retry(err, deadline, delays, retry):
    """Sleeps before the next attempt, or raises the mapped error.

    Returns normally only when ``err`` is UNAVAILABLE, ``retry`` is on and
    the deadline leaves room for another attempt.
    """
    if not retry or err.code() != grpc.StatusCode.UNAVAILABLE:
        raise errors.from_rpc_error(err) from None
    delay = next(delays)
    left = deadline.remaining()
    if left is not None and left <= delay:
        raise errors.from_rpc_error(err) from None
    time.sleep(delay)


def unary(method, request, *, timeout, metadata, retry):
    """Calls a unary method, retrying UNAVAILABLE when ``retry``."""
    deadline, delays = Deadline(timeout), backoff_delays()
    while True:
        try:
            return method(request, timeout=deadline.remaining(),
                          metadata=metadata)
        except grpc.RpcError as err:
            sleep_before_retry(err, deadline, delays, retry)


def collect_stream(method, request, *, timeout, metadata, retry):
    """All messages of a server stream, reopening it on UNAVAILABLE."""
    deadline, delays = Deadline(timeout), backoff_delays()
    while True:
        try:
            return list(method(request, timeout=deadline.remaining(),
                               metadata=metadata))
        except grpc.RpcError as err:
            sleep_before_retry(err, deadline, delays, retry)

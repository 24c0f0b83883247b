"""A submitted job as an operation future (the shape of google-api-core's).

``done()``, ``result(timeout)``, ``exception(timeout)``, ``cancel()`` and
``cancelled()`` behave like a future's; ``watch()`` yields progress snapshots;
``progress_bar()`` draws them in a terminal or a notebook.
``add_done_callback(fn)`` calls fn(job) once it ends, ``future()`` is a
``concurrent.futures.Future`` of its Result, and ``await job`` (or
``await job.result_async()``) waits for it in asyncio. A job whose record
the server lost (NOT_FOUND) is resubmitted from its spec when the spec is
known: the result store makes the repeat cheap and its bits identical.
"""

import asyncio
import concurrent.futures
import threading
import uuid
from typing import Any, Callable, Iterator, List, Optional

import grpc

from nnft import _retry, errors
from nnft.progress import render_progress
from nnft.result import STATE_NAMES, TERMINAL_STATES, Result, Snapshot
from nnft.v1 import nnft_pb2

MAX_RESUBMISSIONS = 3


class Job:
    """A job on the server. ``name`` is "jobs/{id}"; ``job`` the last seen
    Job message. ``spec`` is known for jobs submitted by this client or
    fetched by name (the server returns the spec as submitted)."""

    def __init__(self, client, job, *, spec=None, request_id=None,
                 priority=None):
        self._client = client
        self.job = job
        self.spec = spec if spec is not None else (
            job.spec if job.HasField("spec") else None)
        self.request_id = request_id or job.request_id
        self.priority = job.priority if priority is None else priority
        self.resubmissions = 0
        self._callback_lock = threading.Lock()
        self._callbacks: List[Callable[["Job"], Any]] = []
        self._watcher: Optional[threading.Thread] = None

    @property
    def name(self) -> str:
        return self.job.name

    @property
    def state(self) -> str:
        """State name of the last seen Job ("QUEUED", "RUNNING", ...)."""
        return STATE_NAMES.get(self.job.state, "UNKNOWN")

    @property
    def progress(self):
        return self.job.progress

    def __repr__(self):
        return "<nnft.Job %s %s>" % (self.name, self.state)

    # -- future interface ---------------------------------------------------

    def refresh(self, *, timeout: Optional[float] = None) -> "Job":
        """Fetches the job's current state (GetJob); returns self."""
        self._call(lambda: self._client._get_job(self.name, timeout))
        return self

    def done(self) -> bool:
        """True once the job has ended (asks the server)."""
        return self.refresh().job.state in TERMINAL_STATES

    def running(self) -> bool:
        return self.refresh().job.state == nnft_pb2.Job.RUNNING

    def cancelled(self) -> bool:
        return self.refresh().job.state == nnft_pb2.Job.CANCELLED

    def cancel(self, *, timeout: Optional[float] = None) -> bool:
        """Requests cancellation; the job stops at its next chunk boundary.
        Returns True unless the job had already succeeded or failed."""
        self.job = self._client._cancel(self.name, timeout)
        return self.job.state not in (nnft_pb2.Job.SUCCEEDED,
                                      nnft_pb2.Job.FAILED)

    def delete(self, *, timeout: Optional[float] = None) -> None:
        """Removes the finished job's record (stored chunks stay)."""
        self._client._delete(self.name, timeout)

    def wait(self, timeout: Optional[float] = None) -> Any:
        """Blocks until the job ends; returns its final Job message.

        Raises DeadlineExceeded (a TimeoutError) when ``timeout`` seconds
        pass first; the job keeps running.
        """
        for _ in self.watch(max_entries=1, timeout=timeout):
            pass
        return self.job

    def result(self, timeout: Optional[float] = None) -> Result:
        """Waits for the job and returns its Result (numpy arrays).

        Raises JobFailed / JobCancelled when it ended otherwise, and
        DeadlineExceeded (a TimeoutError) after ``timeout`` seconds.
        """
        deadline = _retry.Deadline(timeout)
        self.wait(timeout)
        self._raise_unless_succeeded()
        left = deadline.remaining()
        pieces = self._call(lambda: self._client._result_pieces(
            self.name, None if left is None else max(left, 1e-3)),
            refresh=False)
        return Result(pieces, self.spec)

    # -- callbacks, concurrent.futures and asyncio ---------------------------

    def add_done_callback(self, fn: Callable[["Job"], Any]) -> None:
        """Calls ``fn(job)`` once the job has ended (succeeded, failed or
        cancelled), from a background thread that watches it; at once, in
        this thread, if it was last seen ended. An exception raised by fn is
        ignored, as in concurrent.futures."""
        if self.job.state in TERMINAL_STATES:
            try:
                fn(self)
            except Exception:  # noqa: BLE001 - as concurrent.futures does
                pass
            return
        with self._callback_lock:
            self._callbacks.append(fn)
            if self._watcher is None:
                self._watcher = threading.Thread(
                    target=self._run_callbacks, daemon=True,
                    name="nnft-%s" % self.name)
                self._watcher.start()

    def _run_callbacks(self) -> None:
        try:
            self.wait()
        except errors.NnftError:
            pass  # the callback sees the job as last seen; it can ask again
        with self._callback_lock:
            fns, self._callbacks = self._callbacks, []
            self._watcher = None
        for fn in fns:
            try:
                fn(self)
            except Exception:  # noqa: BLE001 - as concurrent.futures does
                pass

    def future(self, executor: Optional[concurrent.futures.Executor] = None,
               timeout: Optional[float] = None
               ) -> "concurrent.futures.Future[Result]":
        """A concurrent.futures.Future of ``result(timeout)``, run on
        ``executor`` (default: a thread of its own), for
        ``concurrent.futures.wait``/``as_completed`` over many jobs."""
        if executor is not None:
            return executor.submit(self.result, timeout)
        fut: "concurrent.futures.Future[Result]" = concurrent.futures.Future()

        def run():
            if not fut.set_running_or_notify_cancel():
                return
            try:
                fut.set_result(self.result(timeout))
            except BaseException as err:  # noqa: BLE001 - passed on
                fut.set_exception(err)

        threading.Thread(target=run, daemon=True).start()
        return fut

    async def result_async(self, timeout: Optional[float] = None) -> Result:
        """``result(timeout)`` without blocking the asyncio event loop (it
        runs in the loop's default executor)."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(None, self.result, timeout)

    def __await__(self):
        return self.result_async().__await__()

    def exception(self, timeout: Optional[float] = None
                  ) -> Optional[errors.NnftError]:
        """The error the job ended with (None if it succeeded)."""
        self.wait(timeout)
        try:
            self._raise_unless_succeeded()
        except errors.NnftError as err:
            return err
        return None

    # -- progress -----------------------------------------------------------

    def watch(self, max_entries: int = 0, *,
              timeout: Optional[float] = None) -> Iterator[Snapshot]:
        """Yields a Snapshot per update until the job ends.

        The server conflates updates: a slow reader gets the latest state.
        The stream is reopened on UNAVAILABLE; a lost job is resubmitted.
        """
        deadline, delays = _retry.Deadline(timeout), _retry.backoff_delays()
        req = nnft_pb2.WatchJobRequest(name=self.name, max_entries=max_entries)
        while True:
            try:
                for update in self._client.stub.WatchJob(
                        req, timeout=deadline.remaining(),
                        metadata=self._client._metadata):
                    self.job = update.job
                    yield Snapshot.from_update(update)
                    if update.job.state in TERMINAL_STATES:
                        return
                # The stream ended without a terminal state: look it up.
                self.refresh(timeout=deadline.remaining())
                if self.job.state in TERMINAL_STATES:
                    return
            except grpc.RpcError as err:
                if err.code() == grpc.StatusCode.NOT_FOUND and self._resubmit(
                        err):
                    req.name = self.name
                    continue
                _retry.sleep_before_retry(err, deadline, delays, retry=True)

    def progress_bar(self, *, file: Any = None,
                     timeout: Optional[float] = None) -> Any:
        """Draws the job's progress until it ends; returns the final Job.

        In a notebook the bar is a live-updated output; in a terminal a
        one-line bar; otherwise one line per update.
        """
        return render_progress(self, file=file, timeout=timeout)

    # -- internals ----------------------------------------------------------

    def _raise_unless_succeeded(self):
        state = self.job.state
        if state == nnft_pb2.Job.SUCCEEDED:
            return
        if state == nnft_pb2.Job.CANCELLED:
            raise errors.JobCancelled("CANCELLED: job %s was cancelled" %
                                      self.name)
        code = errors.code_from_int(self.job.error_code)
        raise errors.JobFailed(
            "job %s failed: %s: %s" % (self.name, code.name,
                                       self.job.error_message),
            code=code, details=self.job.error_message)

    def _call(self, fn, refresh=True):
        """Runs fn; on NOT_FOUND resubmits a lost job and runs it again."""
        while True:
            try:
                result = fn()
            except errors.NotFound as err:
                if not self._resubmit(err):
                    raise
                if not refresh:
                    self.wait()
                    self._raise_unless_succeeded()
                continue
            if refresh:
                self.job = result
            return result

    def _resubmit(self, err):
        """Resubmits the spec of a job the server lost. False if impossible."""
        if self.spec is None or self.resubmissions >= MAX_RESUBMISSIONS:
            return False
        self.resubmissions += 1
        # A fresh request_id: the old one may still name the lost record.
        self.request_id = "py-" + uuid.uuid4().hex
        self.job = self._client._unary(
            self._client.stub.SubmitExperiment,
            nnft_pb2.SubmitExperimentRequest(
                spec=self.spec, request_id=self.request_id,
                priority=self.priority or 0), None)
        return True

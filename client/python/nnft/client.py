"""The nnft client: one channel to a server, jobs as operation futures.

    client = nnft.Client("127.0.0.1:50051")
    job = client.submit(nnft.experiments.mlp(64, [0.0, 1.0], "erf", seed=1))
    result = job.result(timeout=300)      # numpy arrays, see nnft.Result
    print(result.mean, result.stderr, result.exact, result.z_exact)

Thread-safe: one client may be shared by threads. Every unary call has a
deadline (``timeout`` of the client, overridable per call); idempotent calls
retry UNAVAILABLE with backoff within that deadline.
"""

import collections
import uuid
from typing import Any, Iterator, List, Optional, Sequence, Tuple, Union

import grpc
import numpy as np

from nnft import _retry, enums, errors
from nnft.job import Job
from nnft.specs import to_spec
from nnft.v1 import nnft_pb2, nnft_pb2_grpc

DEFAULT_TIMEOUT_S = 30.0


class Kernel:
    """ComputeKernel's answer: the analytic side of a spec, no sampling.

    kernel: the P x P infinite-width two-point function K(x_i, x_j) at the
      spec's points (the NNGP kernel; for architectures without a closed
      form, the recursion or quadrature named by ``method``).
    tuples: the requested index tuples, and per tuple (NaN where unknown):
      gp, gp_connected: the Gaussian (infinite-width, Wick) correlator and
        its connected part (0 beyond order 2);
      exact, exact_connected: the exact finite-width values where known
        (e.g. G4_c ~ 1/N of a single hidden layer).
    has_exact: whether any exact finite-width value is known.
    method: how the theory was computed.
    ntk: the P x P neural tangent kernel Theta(x_i, x_j) of all parameters
      (NTK parameterisation, as training uses), or None; then
      ``ntk_absent_reason`` says why (architecture without an NTK formula,
      answer too large, quadrature over the budget).
    cross_kernel, cross_ntk: K(x_i, y_j) and Theta(x_i, y_j), P x Q, between
      the spec's points and the ``cross_points`` of the request (None without
      them; ``cross_kernel_absent_reason`` says why).
    prediction: with a training spec, the theory-only prediction of the
      trained ensemble (a Prediction), else None.
    """

    def __init__(self, resp):
        p = resp.num_points
        self.kernel = np.array(resp.kernel, dtype=float).reshape(p, p)
        self.tuples = [tuple(t.index) for t in resp.tuples]
        th = resp.theory
        n = len(self.tuples)
        for f in ("gp", "gp_connected", "exact", "exact_connected"):
            vals = list(getattr(th, f))
            vals += [float("nan")] * (n - len(vals))
            setattr(self, f, np.array(vals, dtype=float))
        self.has_exact = th.has_exact
        self.method = resp.method or th.method
        q = resp.num_cross_points
        self.num_cross_points = q
        self.ntk = _matrix(resp.ntk, p, p)
        self.ntk_absent_reason = resp.ntk_absent_reason
        self.cross_kernel = _matrix(resp.cross_kernel, p, q)
        self.cross_kernel_absent_reason = resp.cross_kernel_absent_reason
        self.cross_ntk = _matrix(resp.cross_ntk, p, q)
        self.prediction = (Prediction(resp.prediction)
                           if resp.HasField("prediction") else None)


class Prediction:
    """The infinite-width prediction of an ensemble trained as the spec's
    ``training`` says (Lee et al. arXiv 1902.06720; NTK parameterisation,
    t training time = eta * steps, loss (1/2) sum (f - y)^2), without Monte
    Carlo, at M = P + Q points: the spec's points, then the cross points.

    times (T); mean (T x M): mu_t; covariance (T x M x M): Sigma_t;
    loss (T): E[L_t]; max_stable_eta: gradient descent diverges for
    eta >= 2 / lambda_max (then ``method`` says so); method: the formulas.
    """

    def __init__(self, msg):
        m = msg.num_points
        self.times = np.array(msg.times, dtype=float)
        t = len(self.times)
        self.num_points = m
        self.mean = np.array(msg.mean, dtype=float).reshape(t, m)
        self.covariance = np.array(msg.covariance,
                                   dtype=float).reshape(t, m, m)
        self.loss = np.array(msg.loss, dtype=float)
        self.max_stable_eta = msg.max_stable_eta
        self.method = msg.method


def _matrix(values, rows, cols):
    """A rows x cols array of a row-major repeated field, None if empty."""
    if len(values) == 0:
        return None
    return np.array(values, dtype=float).reshape(rows, cols)


class Client:
    """A connection to an nnft server.

    address: "host:port".
    token: sent as "authorization: Bearer <token>" metadata on every call
      (plain metadata rather than grpc call credentials, which gRPC refuses
      on plaintext channels).
    tls: None/False for plaintext; True for TLS with the system roots; a path
      to a PEM file of root certificates; a TLS(ca=, cert=, key=) (or a dict
      with those keys) of PEM paths, cert/key being a client certificate for
      servers that require one; or grpc.ChannelCredentials.
    timeout: default deadline in seconds of each unary call (None: none).
    """

    def __init__(self, address: str, *, token: Optional[str] = None,
                 tls: Any = None, timeout: Optional[float] = DEFAULT_TIMEOUT_S,
                 options: Sequence[Tuple[str, Any]] = ()):
        self.address = address
        self.timeout = timeout
        self._metadata = (("authorization", "Bearer " + token),) if token \
            else ()
        creds = _credentials(tls)
        if creds is None:
            self._channel = grpc.insecure_channel(address, options=options)
        else:
            self._channel = grpc.secure_channel(address, creds,
                                                options=options)
        self.stub = nnft_pb2_grpc.NnftStub(self._channel)

    def close(self) -> None:
        self._channel.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc):
        self.close()

    # -- jobs ---------------------------------------------------------------

    def submit(self, spec: Any, request_id: Optional[str] = None,
               priority: int = 0, *, timeout: Optional[float] = None) -> Job:
        """Queues ``spec`` (message, dict, JSON path or text); returns a Job.

        A request_id is generated when none is given, so a retried submit
        never creates a second job.
        """
        msg = to_spec(spec)
        request_id = request_id or "py-" + uuid.uuid4().hex
        req = nnft_pb2.SubmitExperimentRequest(
            spec=msg, request_id=request_id, priority=int(priority))
        job = self._unary(self.stub.SubmitExperiment, req, timeout)
        return Job(self, job, spec=msg, request_id=request_id,
                   priority=int(priority))

    def submit_batch(self, specs: Sequence[Any],
                     request_id: Optional[str] = None, priority: int = 0, *,
                     timeout: Optional[float] = None
                     ) -> List[Union[Job, errors.NnftError]]:
        """Queues every spec in one SubmitBatch call (a scan).

        Returns one item per spec, in order: its Job, or the error the server
        answered for that spec alone (an NnftError instance, returned, not
        raised; its message names the entry, "entries[3].spec..."). Identical
        specs share one job. Raises only for an error of the whole call:
        InvalidArgument for more specs than the server's
        limits.max_batch_entries (10,000 by default), Unavailable while it
        drains. A request_id is generated when none is given, so a retried
        call returns the same jobs.
        """
        msgs = [to_spec(spec) for spec in specs]
        request_id = request_id or "py-" + uuid.uuid4().hex
        req = nnft_pb2.SubmitBatchRequest(
            entries=[nnft_pb2.SubmitExperimentRequest(
                spec=msg, priority=int(priority)) for msg in msgs],
            request_id=request_id)
        resp = self._unary(self.stub.SubmitBatch, req, timeout)
        out: List[Union[Job, errors.NnftError]] = []
        for msg, result in zip(msgs, resp.results):
            if result.HasField("job"):
                out.append(Job(self, result.job, spec=msg,
                               priority=int(priority)))
            else:
                out.append(errors.from_code(
                    errors.code_from_int(result.error.code),
                    result.error.message))
        return out

    def job(self, name: str, *, timeout: Optional[float] = None) -> Job:
        """The Job named ``name`` ("jobs/{id}" or just the id)."""
        return Job(self, self._get_job(_job_name(name), timeout))

    def jobs(self, page_size: int = 0, *, states: Sequence[Any] = (),
             limit: Optional[int] = None,
             timeout: Optional[float] = None) -> Iterator[Job]:
        """Iterates the server's jobs, oldest first, over all pages.

        states: only jobs in these states: names in any case ("running",
        "SUCCEEDED") or Job.State values; an unknown name raises
        InvalidSpec listing the valid ones.
        """
        token, count = "", 0
        state_values = [enums.enum_value(nnft_pb2.Job.State.DESCRIPTOR, s,
                                         "states[%d]" % i)
                        for i, s in enumerate(states)]
        while True:
            resp = self._unary(self.stub.ListJobs, nnft_pb2.ListJobsRequest(
                page_size=page_size, page_token=token, states=state_values),
                timeout)
            for j in resp.jobs:
                if limit is not None and count >= limit:
                    return
                count += 1
                yield Job(self, j)
            token = resp.next_page_token
            if not token:
                return

    def kernel(self, spec: Any, *, cross_points: Any = None,
               timeout: Optional[float] = None) -> "Kernel":
        """The analytic side alone (ComputeKernel) as a Kernel object.

        cross_points: optional second point set (Q x d array-like, e.g.
        test points): the answer then holds K and Theta between the spec's
        points and these, and a training spec's prediction covers them too.
        """
        req = nnft_pb2.ComputeKernelRequest(spec=to_spec(spec))
        if cross_points is not None:
            for point in cross_points:
                req.cross_points.add().x.extend(
                    float(v) for v in np.atleast_1d(point))
        return Kernel(self._unary(self.stub.ComputeKernel, req, timeout))

    def info(self, *, timeout: Optional[float] = None) -> Any:
        """The ServerInfo message: version, fingerprint, limits, counters."""
        return self._unary(self.stub.GetServerInfo,
                           nnft_pb2.GetServerInfoRequest(), timeout)

    # -- used by Job --------------------------------------------------------

    def _get_job(self, name, timeout=None):
        return self._unary(self.stub.GetJob, nnft_pb2.GetJobRequest(name=name),
                           timeout)

    def _cancel(self, name, timeout=None):
        return self._unary(self.stub.CancelJob,
                           nnft_pb2.CancelJobRequest(name=name), timeout)

    def _delete(self, name, timeout=None):
        self._unary(self.stub.DeleteJob, nnft_pb2.DeleteJobRequest(name=name),
                    timeout, retry=False)

    def _result_pieces(self, name, timeout=None):
        return _retry.collect_stream(
            self.stub.GetResult, nnft_pb2.GetResultRequest(name=name),
            timeout=self._timeout(timeout), metadata=self._metadata,
            retry=True)

    def _unary(self, method, request, timeout, retry=True):
        return _retry.unary(method, request, timeout=self._timeout(timeout),
                            metadata=self._metadata, retry=retry)

    def _timeout(self, timeout):
        return self.timeout if timeout is None else timeout


def _job_name(name):
    name = str(name)
    return name if name.startswith("jobs/") else "jobs/" + name


class TLS(collections.namedtuple("TLS", ("ca", "cert", "key"),
                                 defaults=(None, None, None))):
    """TLS files (PEM paths): ``ca`` roots that verify the server (None: the
    system's), ``cert``/``key`` a client certificate (both or neither)."""


def _read(path):
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


def _credentials(tls):
    if tls is None or tls is False:
        return None
    if tls is True:
        return grpc.ssl_channel_credentials()
    if isinstance(tls, grpc.ChannelCredentials):
        return tls
    if isinstance(tls, dict):
        unknown = set(tls) - {"ca", "cert", "key"}
        if unknown:
            raise ValueError("tls: unknown keys %s (allowed: ca, cert, key)"
                             % sorted(unknown))
        tls = TLS(**tls)
    if not isinstance(tls, TLS):
        tls = TLS(ca=tls)
    if (tls.cert is None) != (tls.key is None):
        raise ValueError("tls: give both cert and key, or neither")
    return grpc.ssl_channel_credentials(
        root_certificates=_read(tls.ca), private_key=_read(tls.key),
        certificate_chain=_read(tls.cert))

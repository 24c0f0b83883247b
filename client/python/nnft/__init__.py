"""nnft: Python client of the nnft service (neural-network field theory).

The server computes correlators G^(n)(x_1..x_n) = E_theta[phi(x_1)..phi(x_n)]
of neural-network ensembles by Monte Carlo and exactly; this package submits
experiments, follows them and returns their results as numpy arrays.

    import nnft
    with nnft.Client("127.0.0.1:50051") as client:
        spec = nnft.experiments.mlp(64, [0.0, 0.5, 1.0], "erf", seed=1)
        result = client.submit(spec).result()

Generated stubs live in nnft.v1 (built by CMake or client/python/gen_proto.sh).
"""

__version__ = "0.1.0"

from nnft import experiments  # noqa: E402
from nnft.client import TLS, Client, Kernel, Prediction  # noqa: E402
from nnft.errors import (  # noqa: E402
    AlreadyExists, Cancelled, DeadlineExceeded, FailedPrecondition, Internal,
    InvalidArgument, InvalidSpec, JobCancelled, JobFailed, NnftError, NotFound,
    ResourceExhausted, Unauthenticated, Unavailable)
from nnft.job import Job  # noqa: E402
from nnft.reproduction import reproduce, reproduce_list  # noqa: E402
from nnft.result import (Comparison, PowerLawFit, Result,  # noqa: E402
                         Snapshot, SweepResult)
from nnft.specs import to_dict, to_spec  # noqa: E402

__all__ = [
    "AlreadyExists", "Cancelled", "Client", "Comparison", "DeadlineExceeded",
    "FailedPrecondition", "Internal", "InvalidArgument", "InvalidSpec", "Job",
    "JobCancelled", "JobFailed", "Kernel", "NnftError", "NotFound",
    "Prediction",
    "PowerLawFit", "ResourceExhausted", "Result", "Snapshot", "SweepResult",
    "reproduce", "reproduce_list",
    "TLS", "Unauthenticated",
    "Unavailable", "experiments",
    "to_dict", "to_spec",
]

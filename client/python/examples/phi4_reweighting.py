"""phi^4 theory from a free neural network by reweighting: the cos-net of
arXiv 2307.03223 on a periodic box, each network weighted by
exp(-(lambda/4!) int_box phi^4). At small lambda the shift of G2 is the
tadpole, -(lambda/2) G(0) H(x - y), printed beside the measured shift.

Run against a server you started (build/bin/nnft-server --listen=127.0.0.1:50051):

    PYTHONPATH=build/python /usr/bin/python3 \\
        client/python/examples/phi4_reweighting.py --server 127.0.0.1:50051
"""

import argparse

import nnft
from nnft import experiments


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="127.0.0.1:50051")
    ap.add_argument("--lam", type=float, default=0.05)
    ap.add_argument("--width", type=int, default=2000)
    ap.add_argument("--networks", type=int, default=40000)
    args = ap.parse_args()

    spec = experiments.phi4_box(args.width, [0.0, 0.7, 2.0], box_side=4.0,
                                lam=args.lam, mass=1.0, cutoff=5.0,
                                orders=[2], seed=5,
                                num_networks=args.networks, chunk_size=2000,
                                label="phi^4 by reweighting")
    with nnft.Client(args.server) as client:
        job = client.submit(spec)
        print("submitted", job.name)
        r = job.result(timeout=600)

    w = r.reweight
    print("lambda = %g, ESS = %.0f of %d networks (%.3f)%s" % (
        w.lam, w.ess, r.networks, w.ess_fraction,
        "  WARNING: " + w.warning if w.ess_warning else ""))
    print("%-8s %22s %22s %22s %12s" % ("tuple", "G2 reweighted", "G2 free",
                                         "shift", "tadpole"))
    for i in r.select(2):
        print("%-8s %12.6f +- %-7.1g %12.6f +- %-7.1g %12.6f +- %-7.1g %12.6f"
              % (r.tuples[i], r.mean[i], r.stderr[i], r.free_mean[i],
                 r.free_stderr[i], r.shift[i], r.shift_stderr[i],
                 r.first_order_shift[i]))


if __name__ == "__main__":
    main()

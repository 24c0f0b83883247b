"""The free limit of an erf net: at large width the two-point function of a
single-layer erf network is the NNGP kernel (Williams 1996, the arcsin
formula), and the connected four-point function vanishes as 1/N.

Run against a server you started (build/bin/nnft-server --listen=127.0.0.1:50051):

    PYTHONPATH=build/python /usr/bin/python3 \
        client/python/examples/erf_free_limit.py --server 127.0.0.1:50051

Writes erf_free_limit.png (G2(x_0, x) against x, with the NNGP kernel as a
fine curve computed by the server's ComputeKernel).
"""

import argparse

import numpy as np

import nnft
from nnft import experiments, plot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="127.0.0.1:50051")
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--networks", type=int, default=100000)
    ap.add_argument("--out", default="erf_free_limit.png")
    args = ap.parse_args()

    points = experiments.line_points(9, 0.0, 3.0)
    spec = experiments.mlp(args.width, points, "erf", sw=[2.0, 1.0],
                           sb=[0.5, 0.0], orders=[2, 4], seed=2024,
                           num_networks=args.networks, chunk_size=5000,
                           label="erf net, free limit")
    with nnft.Client(args.server) as client:
        job = client.submit(spec)
        print("submitted", job.name)
        job.progress_bar()
        r = job.result()
        plot.plot_correlator(r, theory="gp", client=client, out=args.out)

    print("%-12s %22s %12s %8s" % ("tuple", "G2 +- err", "NNGP", "z"))
    for i in r.select(2):
        print("%-12s %12.6f +- %-7.1g %12.6f %8.2f" % (
            r.tuples[i], r.mean[i], r.stderr[i], r.gp[i], r.z_gp[i]))
    g4 = r.select(4)
    z = r.connected[g4] / r.connected_stderr[g4]
    print("G4_c over %d tuples: largest |G4_c / err| = %.2f (free limit: 0; "
          "exact at N=%d: largest |G4_c| %.2g)" % (
              len(g4), np.max(np.abs(z)), args.width,
              np.nanmax(np.abs(r.exact_connected[g4]))))
    print("wrote", args.out)


if __name__ == "__main__":
    main()

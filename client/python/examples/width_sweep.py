"""A width sweep of an erf net: the connected four-point function of a
single-layer network falls exactly as 1/N (the 1/N expansion of NN-FT;
finite-width formula (sw1^4/N)(3 E[h1h2h3h4] - sum K K)).

Run against a server you started:

    PYTHONPATH=build/python /usr/bin/python3 \
        client/python/examples/width_sweep.py --server 127.0.0.1:50051

Writes width_sweep.png (|G4_c| against N on log-log axes with the fitted
power law, fitted to the server's values).
"""

import argparse

import nnft
from nnft import experiments, plot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="127.0.0.1:50051")
    ap.add_argument("--widths", default="2,4,8,16,32,64")
    ap.add_argument("--networks", type=int, default=400000)
    ap.add_argument("--out", default="width_sweep.png")
    args = ap.parse_args()

    base = experiments.mlp(8, [0.3, 1.0], "erf", sw=[1.5, 1.0],
                           tuples=[[0, 1], [0, 0, 1, 1]], seed=7,
                           num_networks=args.networks, chunk_size=10000,
                           label="erf net")
    specs = experiments.width_sweep(base, [int(w) for w in
                                           args.widths.split(",")])
    with nnft.Client(args.server) as client:
        jobs = [client.submit(s) for s in specs]
        results = [job.result() for job in jobs]

    print("%6s %26s %14s %8s" % ("N", "G4_c(0,0,1,1) +- err", "exact", "z"))
    for s, r in zip(specs, results):
        i = r.index((0, 0, 1, 1))
        print("%6d %14.6g +- %-9.2g %14.6g %8.2f" % (
            s.architecture.mlp.widths[0], r.connected[i],
            r.connected_stderr[i], r.exact_connected[i],
            r.z_exact_connected[i]))
    _, fit = plot.plot_width_sweep(results, tup=(0, 0, 1, 1), out=args.out)
    print("fitted |G4_c| ~ N^p: p = %.3f +- %.3f (1/N theory: -1)" % (
        fit.exponent, fit.exponent_err))
    print("wrote", args.out)


if __name__ == "__main__":
    main()

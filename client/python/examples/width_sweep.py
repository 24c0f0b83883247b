"""A width sweep of an erf net as one experiment: the server runs every width
N (each stored under its own digest) and fits |G4_c| = A N^s and
|G6_c| = A N^s across the widths. For a single hidden layer the cumulants of
i.i.d. neurons add, so G4_c ~ 1/N and G6_c ~ 1/N^2 exactly (s = -1, -2).

Run against a server you started (e.g. the one deploy/demo.sh starts):

    PYTHONPATH=build/python /usr/bin/python3 \\
        client/python/examples/width_sweep.py --server 127.0.0.1:50051

Prints the per-width connected correlators beside their exact finite-width
values and the fitted exponents, streams the fits as they sharpen, and writes
width_sweep.png (|G_c| against N on log-log axes with the fitted power laws).
"""

import argparse

import nnft
from nnft import experiments, plot


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--server", default="127.0.0.1:50051")
    ap.add_argument("--widths", default="2,3,4,6,8,12,16,32")
    ap.add_argument("--networks", type=int, default=400000)
    ap.add_argument("--out", default="width_sweep.png")
    args = ap.parse_args()

    base = experiments.mlp(1, [0.5, -1.0], "erf", sw=[2.0, 1.0],
                           tuples=[[0, 1], [0, 0, 1, 1], [0, 0, 0, 1, 1, 1]],
                           seed=2024, num_networks=args.networks,
                           chunk_size=10000, integrate_output_layer=True,
                           label="erf net width sweep")
    spec = experiments.width_sweep(base, [int(w) for w in
                                          args.widths.split(",")])
    with nnft.Client(args.server) as client:
        job = client.submit(spec)
        for snap in job.watch():
            if snap.sweep_fits:
                print("%s %d/%d chunks, widths %s: %s" % (
                    snap.state, snap.chunks_done, snap.chunks_total,
                    ",".join(map(str, snap.sweep_widths)), "; ".join(
                        "G%d_c s = %.3f +- %.3f" % (f.order, f.exponent,
                                                     f.exponent_stderr)
                        for f in snap.sweep_fits)))
        r = job.result()

    sw = r.sweep
    for tup in ((0, 0, 1, 1), (0, 0, 0, 1, 1, 1)):
        i = sw.index(tup)
        print("\n%6s %28s %14s %8s" % ("N", "G_c%s +- err" % (tup,),
                                       "exact", "z"))
        for w, n in enumerate(sw.widths):
            print("%6d %16.6g +- %-9.2g %14.6g %8.2f" % (
                n, sw.connected[w, i], sw.connected_stderr[w, i],
                sw.exact_connected[w, i], sw.z_exact_connected[w, i]))
    print()
    for f in sw.fits:
        print("G%d_c%s ~ N^s: s = %.4f +- %.4f (expected %g, z = %.2f)" % (
            f.order, f.tuple, f.exponent, f.exponent_stderr,
            f.expected_exponent, f.z))
    plot.plot_sweep(r, out=args.out)
    print("wrote", args.out)


if __name__ == "__main__":
    main()

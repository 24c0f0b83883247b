"""``python3 -m nnft``: the command line, mirroring the C++ ``nnft`` CLI.

    python3 -m nnft [--server HOST:PORT] [--timeout S] COMMAND ...
      submit SPEC.json [--watch] [--request_id ID] [--priority P]
        (--watch: progress on stderr, then the result table)
      watch JOB (progress, then the result table) | get JOB | cancel JOB |
      delete JOB | list
      result JOB [--format table|json|csv]
      kernel SPEC.json | info
      plot JOB [JOB ...] --out FILE.png [--kind auto|correlator|parity|
        kernel|sweep|conformal|rp|training] [--order N]
      reproduce NAME [--out_dir DIR] [--num_networks N] | reproduce --list
        (a published study rerun: table of published vs nnft values, a PNG
        figure and a CSV in DIR; studies in deploy/reproduce/)

Exit codes: 0 ok, 1 RPC or job error (the gRPC status name and message on
stderr), 2 usage, 3 reproduce: some quantity disagrees with its published
value.
"""

import argparse
import csv
import dataclasses
import json
import math
import os
import sys

from google.protobuf import json_format

from nnft import errors
from nnft.client import TLS, Client
from nnft.progress import render_progress

DEFAULT_SERVER = "127.0.0.1:50051"


def _token(args):
    if args.token:
        return args.token
    if args.token_file:
        with open(args.token_file) as f:
            return f.readline().strip()
    return os.environ.get("NNFT_TOKEN") or None


def _tls(args):
    if not (args.tls_ca or args.tls_cert):
        return None
    return TLS(ca=args.tls_ca, cert=args.tls_cert, key=args.tls_key)


def _parser():
    p = argparse.ArgumentParser(prog="python3 -m nnft",
                                description="Client of the nnft service.")
    p.add_argument("--server", default=os.environ.get("NNFT_SERVER",
                                                      DEFAULT_SERVER))
    p.add_argument("--timeout", type=float, default=30.0,
                   help="deadline of each call in seconds")
    p.add_argument("--token", default=None,
                   help="bearer token (else --token_file, else $NNFT_TOKEN)")
    p.add_argument("--token_file", default=None,
                   help="file whose first line is the bearer token")
    p.add_argument("--tls_ca", default=None,
                   help="PEM roots verifying the server: TLS on")
    p.add_argument("--tls_cert", default=None,
                   help="PEM client certificate (with --tls_key)")
    p.add_argument("--tls_key", default=None)
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("submit", help="queue an experiment spec (JSON)")
    s.add_argument("spec")
    s.add_argument("--watch", action="store_true")
    s.add_argument("--request_id", default=None)
    s.add_argument("--priority", type=int, default=0)
    for name in ("watch", "get", "cancel", "delete"):
        sub.add_parser(name).add_argument("job")
    sub.add_parser("list")
    r = sub.add_parser("result")
    r.add_argument("job")
    r.add_argument("--format", choices=("table", "json", "csv"),
                   default="table")
    sub.add_parser("kernel").add_argument("spec")
    sub.add_parser("info")
    pl = sub.add_parser("plot", help="correlator, parity and z histogram, "
                        "kernel heat maps, width-sweep, conformal g(u,v), "
                        "reflection-positivity spectrum or training-flow PNG")
    pl.add_argument("jobs", nargs="+")
    pl.add_argument("--out", required=True)
    pl.add_argument("--kind", choices=("auto", "correlator", "parity",
                                       "kernel", "sweep", "conformal", "rp",
                                       "training"),
                    default="auto",
                    help="auto: by the result (a correlator when the points "
                    "lie on a line, else parity and z histogram)")
    pl.add_argument("--order", type=int, default=None)
    rp = sub.add_parser("reproduce", help="rerun a published study and "
                        "compare with the paper (--list names them)")
    rp.add_argument("name", nargs="?")
    rp.add_argument("--list", action="store_true")
    rp.add_argument("--out_dir", default=".",
                    help="directory of the PNG figure and the CSV table")
    rp.add_argument("--num_networks", type=int, default=None,
                    help="override every run's number of networks")
    return p


def _print_json(msg, out):
    out.write(json_format.MessageToJson(msg) + "\n")


def _finite(x):
    return x if isinstance(x, float) and math.isfinite(x) else None


def _write_training_table(result, out):
    flow = result.training
    out.write("%s: training flow, %d networks; theory: %s\n" % (
        result.name, result.networks, flow.theory_method))
    out.write("%10s %22s %22s %10s %22s %10s\n" % (
        "t", "loss +- err", "mu(x0) +- err", "theory", "Sigma(x0,x0) +- err",
        "theory"))
    for i, t in enumerate(flow.t):
        out.write("%10.4g %12.5g +- %-7.2g %12.5g +- %-7.2g %10.5g "
                  "%12.5g +- %-7.2g %10.5g\n" % (
                      t, flow.loss_mean[i], flow.loss_stderr[i],
                      flow.mu[i, 0], flow.mu_stderr[i, 0], flow.mu_theory[i, 0],
                      flow.sigma[i, 0, 0], flow.sigma_stderr[i, 0, 0],
                      flow.sigma_theory[i, 0, 0]))


def write_sweep(result, fmt, out):
    """Writes a width-sweep Result: per-width rows, then the fits."""
    sw = result.sweep
    if fmt == "json":
        d = {"name": result.name, "widths": sw.widths.tolist(),
             "tuples": [list(t) for t in sw.tuples], "fits": [
                 {k: (_finite(v) if isinstance(v, float) else v)
                  for k, v in dataclasses.asdict(f).items()}
                 for f in sw.fits]}
        for c in ("mean", "stderr", "connected", "connected_stderr", "exact",
                  "exact_connected", "z_exact_connected", "deviation",
                  "deviation_background"):
            d[c] = [[_finite(float(x)) for x in row] for row in getattr(sw, c)]
        json.dump(d, out, indent=1, allow_nan=False)
        out.write("\n")
        return
    out.write("%s: width sweep N = %s\n" % (
        result.name, ",".join(map(str, sw.widths))))
    out.write("%6s %-14s %24s %12s %8s %22s\n" % (
        "N", "tuple", "connected +- err", "exact_c", "z_c", "m_n +- bg"))
    for w, n in enumerate(sw.widths):
        for i, t in enumerate(sw.tuples):
            out.write("%6d %-14s %12.6g +- %-9.2g %12.6g %8.2f %10.4g +- %-9.2g"
                      "\n" % (n, "(" + ",".join(map(str, t)) + ")",
                              sw.connected[w, i], sw.connected_stderr[w, i],
                              sw.exact_connected[w, i],
                              sw.z_exact_connected[w, i], sw.deviation[w, i],
                              sw.deviation_background[w, i]))
    out.write("fits |G_c| = A N^s (%s)\n" % sw.fit_method)
    out.write("%-14s %2s %20s %9s %7s %10s %12s\n" % (
        "tuple", "n", "s +- err", "expected", "z", "chi2/dof", "used/dropped"))
    for f in sw.fits:
        out.write("%-14s %2d %9.4f +- %-7.4f %9g %7.2f %10.3g %9d/%d\n" % (
            "(" + ",".join(map(str, f.tuple)) + ")", f.order, f.exponent,
            f.exponent_stderr, f.expected_exponent, f.z, f.chi2_per_dof,
            f.widths_used, f.widths_dropped))


def write_result(result, fmt, out):
    """Writes a Result as a table, JSON (NaN as null) or CSV."""
    if result.sweep is not None and fmt != "csv":
        write_sweep(result, fmt, out)
        return
    cols = ("mean", "stderr", "connected", "connected_stderr", "gp",
            "gp_connected", "exact", "exact_connected", "z_exact",
            "z_exact_connected", "z_gp")
    if result.kind == "training" and fmt == "table":
        _write_training_table(result, out)
        return
    if fmt == "json":
        d = result.to_dict()
        for c in cols:
            d[c] = [_finite(x) for x in d[c]]
        d["kernel"] = [[_finite(x) for x in row] for row in d["kernel"]]
        json.dump(d, out, indent=1, allow_nan=False)
        out.write("\n")
    elif fmt == "csv":
        w = csv.writer(out)
        w.writerow(("tuple",) + cols)
        for i, t in enumerate(result.tuples):
            w.writerow([" ".join(map(str, t))] +
                       [repr(float(getattr(result, c)[i])) for c in cols])
    else:
        out.write("%s: %d networks, %d chunks, seed %d, theory %s\n" % (
            result.name, result.networks, result.chunks, result.seed,
            result.theory_method))
        out.write("%-14s %24s %24s %12s %8s\n" % (
            "tuple", "mean +- stderr", "connected +- err", "exact/GP", "z"))
        for i, t in enumerate(result.tuples):
            ref = result.exact[i] if math.isfinite(result.exact[i]) else \
                result.gp[i]
            z = result.z_exact[i] if math.isfinite(result.z_exact[i]) else \
                result.z_gp[i]
            out.write("%-14s %12.6g +- %-9.2g %12.6g +- %-9.2g %12.6g %8.2f\n"
                      % ("(" + ",".join(map(str, t)) + ")", result.mean[i],
                         result.stderr[i], result.connected[i],
                         result.connected_stderr[i], ref, z))


def _plot(client, args, out):
    from nnft import plot  # matplotlib only when plotting
    results = [client.job(j).result(timeout=args.timeout) for j in args.jobs]
    kind = args.kind
    if kind == "auto":  # dispatch on the result kind
        kind = "sweep" if len(results) > 1 or results[0].sweep else (
            "conformal" if results[0].conformal is not None else
            "rp" if results[0].reflection is not None else
            "training" if results[0].kind == "training" else
            "correlator" if plot.on_a_line(results[0]) else "parity")
    if kind == "sweep" and len(results) == 1 and results[0].sweep:
        _, fits = plot.plot_sweep(results[0], orders=(args.order,)
                                  if args.order else (4, 6), out=args.out)
        for f in fits:
            out.write("G%d_c%s: fitted exponent %.4f +- %.4f (expected %g)\n"
                      % (f.order, f.tuple, f.exponent, f.exponent_stderr,
                         f.expected_exponent))
    elif kind == "conformal":
        plot.plot_conformal(results[0], out=args.out)
    elif kind == "rp":
        plot.plot_rp_spectrum(results[0], out=args.out)
    elif kind == "training":
        plot.plot_training_flow(results[0], out=args.out)
    elif kind == "correlator":
        plot.plot_correlator(results[0], order=args.order or 2, out=args.out,
                             client=client)
    elif kind == "parity":
        plot.plot_comparison(results[0], out=args.out, orders=(
            (args.order,) if args.order else None))
    elif kind == "kernel":
        plot.plot_kernel_comparison(results[0], out=args.out)
    else:
        _, fit = plot.plot_width_sweep(results, order=args.order or 4,
                                       out=args.out)
        out.write("fitted exponent %.4f +- %.4f\n" % (fit.exponent,
                                                      fit.exponent_err))
    out.write("wrote %s\n" % args.out)


def _run(client, args, out):
    cmd = args.command
    if cmd == "submit":
        job = client.submit(args.spec, request_id=args.request_id,
                            priority=args.priority)
        out.write(job.name + "\n")
        out.flush()
        if args.watch:
            # Progress (with rate and time left) on stderr, then the result.
            render_progress(job, file=sys.stderr)
            job._raise_unless_succeeded()
            write_result(job.result(), "table", out)
    elif cmd == "watch":
        job = client.job(args.job)
        render_progress(job, file=out)
        job._raise_unless_succeeded()
        write_result(job.result(), "table", out)
    elif cmd == "get":
        _print_json(client.job(args.job).job, out)
    elif cmd == "cancel":
        job = client.job(args.job)
        job.cancel()
        _print_json(job.job, out)
    elif cmd == "delete":
        client.job(args.job).delete()
    elif cmd == "list":
        for job in client.jobs():
            out.write("%s\t%s\t%d/%d\t%s\n" % (
                job.name, job.state, job.progress.chunks_done,
                job.progress.chunks_total, job.job.spec.label))
    elif cmd == "result":
        result = client.job(args.job).result(timeout=args.timeout)
        write_result(result, args.format, out)
    elif cmd == "kernel":
        k = client.kernel(args.spec)
        json.dump({"kernel": [[_finite(x) for x in row] for row in
                              k.kernel.tolist()],
                   "tuples": [list(t) for t in k.tuples],
                   "gp": [_finite(x) for x in k.gp.tolist()],
                   "exact": [_finite(x) for x in k.exact.tolist()],
                   "method": k.method}, out, indent=1)
        out.write("\n")
    elif cmd == "info":
        _print_json(client.info(), out)
    elif cmd == "plot":
        _plot(client, args, out)
    elif cmd == "reproduce":
        return _reproduce(client, args, out)
    return 0


def _reproduce(client, args, out):
    from nnft import reproduction
    if args.list:
        for s in reproduction.reproduce_list():
            out.write("%-20s arXiv %-11s %s\n" % (s.id, s.arxiv, s.title))
        return 0
    if not args.name:
        sys.stderr.write("nnft: reproduce needs NAME or --list\n")
        return 2
    rep = reproduction.reproduce(args.name, client, out_dir=args.out_dir,
                                 num_networks=args.num_networks, out=out)
    return 0 if rep.ok else 3


def main(argv=None, out=None):
    args = _parser().parse_args(argv)
    out = out or sys.stdout
    try:
        with Client(args.server, timeout=args.timeout, token=_token(args),
                    tls=_tls(args)) as client:
            return _run(client, args, out)
    except errors.NnftError as err:
        sys.stderr.write("nnft: %s\n" % err)
        return 1

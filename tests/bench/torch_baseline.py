#!/usr/bin/env python3
"""Plain vectorised PyTorch implementation of workload W1, the baseline that
nnft-bench is compared with (a measurement tool, not part of CI).

W1: one hidden layer, erf, d = 1, N = 1000, P = 6 points x = -1.5..1.0 step
0.5, sw0 = sw1 = 1, sb0 = sb1 = 0; G2 and G4 over all index tuples (up to
permutation). Networks in batches of 1000: torch.randn for the weights, a
broadcast multiply for the first layer (d = 1), torch.erf_ for the
activation, torch.bmm for the readout. Prints one JSON line with
networks_per_second.

    OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tests/bench/torch_baseline.py \
        --precision=float32 --networks=100000

Debian's python3-torch calls the system BLAS: install libopenblas0-pthread
so that it is OpenBLAS, not the reference BLAS (W1's products are BLAS-light,
measured the same on both, but other workloads are not).
"""
import argparse
import itertools
import json
import time

import torch


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--precision", choices=["float32", "float64"],
                        default="float32")
    parser.add_argument("--networks", type=int, default=20000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--width", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    dtype = torch.float32 if args.precision == "float32" else torch.float64
    n, batch = args.width, args.batch
    x = torch.arange(6, dtype=dtype).mul(0.5).sub(1.5).reshape(1, 6)  # 1 x P
    pairs = torch.tensor(list(itertools.combinations_with_replacement(range(6), 2)))
    quads = torch.tensor(list(itertools.combinations_with_replacement(range(6), 4)))
    sums2 = torch.zeros(len(pairs), dtype=torch.float64)
    sums4 = torch.zeros(len(quads), dtype=torch.float64)

    batches = (args.networks + batch - 1) // batch
    start = time.perf_counter()
    cpu_start = time.process_time()
    for _ in range(batches):
        w0 = torch.randn(batch, n, 1, dtype=dtype)              # sw0^2 / d = 1
        w1 = torch.randn(batch, 1, n, dtype=dtype) / n ** 0.5    # sw1^2 / N
        # The first layer's product has inner dimension d = 1: a broadcast
        # multiply (half the time of a batched GEMM with k = 1 here); erf in
        # place; the readout is one batched GEMM.
        h = torch.erf_(w0 * x)                                  # batch x N x P
        phi = torch.bmm(w1, h).squeeze(1)                        # batch x P
        sums2 += phi[:, pairs].prod(-1).sum(0).double()
        sums4 += phi[:, quads].prod(-1).sum(0).double()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu_start
    networks = batches * batch
    print(json.dumps({
        "networks_per_second": networks / wall,
        "wall_seconds": wall,
        # On a shared machine networks / cpu_seconds * threads estimates the
        # rate with the cores to itself.
        "cpu_seconds": cpu,
        "threads": args.threads,
        "precision": args.precision,
        "networks": networks,
        "workload": "W1-torch",
        "g2_diag0": float(sums2[0] / networks),
    }))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Plain vectorised PyTorch implementation of training workload T1, the
baseline that nnft-train-bench is compared with (a measurement tool, not
part of CI; skips cleanly when torch is missing).

T1: M networks of one hidden layer (erf, d = 4, width 512, NTK
parameterisation, sw = (1.5, 1), sb = (0.3, 0.1)) trained by full-batch
gradient descent (eta = 0.05, loss (1/2) sum (f - y)^2) on n = 64 points of
y = exp(sin(x1^2 + x2^2) + sin(x3^2 + x4^2)), x ~ U[-1, 1]^4. All networks
at once: torch.bmm over the network axis, float32, hand-written backward
pass (no autograd), 2 threads. Prints one JSON line with
network_steps_per_second.

    /usr/bin/python3 tests/bench/torch_train_baseline.py --networks=256 --steps=200
"""
import argparse
import json
import math
import sys
import time

try:
    import torch
except ImportError:  # not installed: nothing to compare
    print(json.dumps({"workload": "T1", "impl": "torch", "skipped": "torch not installed"}))
    sys.exit(0)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--networks", type=int, default=256)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--precision", choices=["float32", "float64"], default="float32")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    dt = torch.float32 if a.precision == "float32" else torch.float64
    m, n_hidden, d, n = a.networks, a.width, 4, 64
    x = torch.rand(n, d, dtype=dt) * 2 - 1
    y = torch.exp(torch.sin(x[:, 0] ** 2 + x[:, 1] ** 2) + torch.sin(x[:, 2] ** 2 + x[:, 3] ** 2))
    xb = x.t().expand(m, d, n)                     # M x d x n
    yb = y.expand(m, 1, n)                          # M x 1 x n
    a0, s0 = 1.5 / math.sqrt(d), 0.3
    a1, s1 = 1.0 / math.sqrt(n_hidden), 0.1
    w0 = torch.randn(m, n_hidden, d, dtype=dt)
    b0 = torch.randn(m, n_hidden, 1, dtype=dt)
    w1 = torch.randn(m, 1, n_hidden, dtype=dt)
    b1 = torch.randn(m, 1, 1, dtype=dt)
    eta = 0.05
    c = 2 / math.sqrt(math.pi)
    start, cpu_start = time.perf_counter(), time.process_time()
    for _ in range(a.steps):
        z = a0 * torch.bmm(w0, xb) + s0 * b0        # M x N x n
        h = torch.erf(z)
        f = a1 * torch.bmm(w1, h) + s1 * b1         # M x 1 x n
        r = f - yb
        g_w1 = a1 * torch.bmm(r, h.transpose(1, 2))
        g_b1 = s1 * r.sum(dim=2, keepdim=True)
        delta = a1 * torch.bmm(w1.transpose(1, 2), r) * (c * torch.exp(-z * z))
        g_w0 = a0 * torch.bmm(delta, xb.transpose(1, 2))
        g_b0 = s0 * delta.sum(dim=2, keepdim=True)
        w0 -= eta * g_w0
        b0 -= eta * g_b0
        w1 -= eta * g_w1
        b1 -= eta * g_b1
    seconds = time.perf_counter() - start
    cpu_seconds = time.process_time() - cpu_start
    loss = float((0.5 * (r * r).sum(dim=2)).mean())
    print(json.dumps({"workload": "T1", "impl": "torch", "precision": a.precision,
                      "threads": a.threads, "networks": m, "width": n_hidden,
                      "steps": a.steps, "seconds": round(seconds, 4),
                      "cpu_seconds": round(cpu_seconds, 4),
                      "network_steps_per_second": round(m * a.steps / seconds, 1),
                      "final_mean_loss": loss}))


if __name__ == "__main__":
    main()

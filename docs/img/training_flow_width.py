"""Plot of docs/training_flow.md: |mu_t - mu_NTK| against width.

Reads the JSON lines of nnft-train-bench --workload=T2 (one file per width,
named <tag>_w<width>.jsonl in the folder given as the first argument) and
writes docs/img/training_flow_width.png. Run with /usr/bin/python3.
"""
import glob
import json
import os
import re
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(folder, tag):
    rows = {}
    for f in glob.glob(os.path.join(folder, f"{tag}_w*.jsonl")):
        w = int(re.search(r"_w(\d+)\.jsonl$", f).group(1))
        for line in open(f):
            d = json.loads(line)
            if "t" in d:
                rows[(w, d["t"])] = d["points"]
    return rows


def main():
    folder = sys.argv[1]
    out = sys.argv[2] if len(sys.argv) > 2 else "docs/img/training_flow_width.png"
    rows = load(folder, "d1tanh")
    widths = sorted({w for w, _ in rows})
    fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), sharey=False)
    for ax, p, name, times in [
            (axes[0], 0, "training point x_0", [1, 4, 16, 64]),
            (axes[1], 2, "unseen point x_2", [2, 4, 16, 64])]:
        for t in times:
            ws = [w for w in widths if (w, t) in rows]
            d = [abs(rows[(w, t)][p]["mu"] - rows[(w, t)][p]["theory"])
                 for w in ws]
            e = [rows[(w, t)][p]["err"] for w in ws]
            ax.errorbar(ws, d, yerr=e, marker="o", capsize=3, label=f"t = {t}")
        ref = [0.1 * 64 / w for w in widths]
        ax.plot(widths, ref, "k--", lw=1, label="slope -1 (1/N)")
        ref = [0.1 * (64 / w) ** 0.5 for w in widths]
        ax.plot(widths, ref, "k:", lw=1, label="slope -1/2")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("width N")
        ax.set_title(f"|mu_t - mu_NTK| at the {name}")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("deviation of the ensemble mean")
    for ax in axes:
        ax.legend(fontsize=8)
    fig.suptitle("1-hidden-layer tanh net, talk data (n = 16, d = 4), "
                 "gradient flow, 1024 networks per width", fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


if __name__ == "__main__":
    main()

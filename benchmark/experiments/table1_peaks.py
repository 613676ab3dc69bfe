"""Per Table 1 setting on one task: each seed's best mean over 100 consecutive training episodes, the step at
which that window ends, and the final one (the last 100 episodes, the paper's score). A setting that learned
and then fell shows a high peak beside a low final return.

    python benchmark/experiments/table1_peaks.py benchmark/runs/ppo_continuous --env-id InvertedDoublePendulum-v4
"""

import argparse
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import report  # noqa: E402
import table1  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("runs_dir")
parser.add_argument("--env-id", default="InvertedDoublePendulum-v4")
parser.add_argument("--window", type=int, default=report.LAST_TABLE1, help="episodes per window")
args = parser.parse_args()


def fail(message):
    print(f"table1_peaks.py: {message}", file=sys.stderr)
    sys.exit(2)


if args.window < 1:
    fail(f"--window {args.window}: a window holds at least 1 episode")
if not os.path.isdir(args.runs_dir):
    fail(f"{args.runs_dir} is not a directory: pass the sweep's runs, e.g. benchmark/runs")

rows = {}
for run in report.load_runs(args.runs_dir):
    label = table1.table1_run_label(run)
    returns = run["episode_returns"]
    if label is None or run["env_id"] != args.env_id or len(returns) < args.window:
        continue
    means = np.convolve(returns, np.ones(args.window) / args.window, mode="valid")  # means[i]: episodes i..i+w-1
    best = int(np.argmax(means))
    peak_step = run["episode_steps"][best + args.window - 1]  # the step of the window's last episode
    rows.setdefault(label, []).append((run["seed"], means[best], peak_step, means[-1]))
if not rows:
    fail(f"no finished Table 1 run of {args.env_id} under {args.runs_dir}")

with open(os.path.join(report.HERE, "reference.json")) as f:
    paper = json.load(f)["table1"]
print(f"{args.env_id}: per seed, the best mean over {args.window} consecutive episodes (at step) -> the last one")
print("\n| objective | seeds: best (at step) -> final |\n|---|---|")
for label in table1.table1_order(rows, paper):
    cells = [f"{seed}: {report.fmt_return(peak)} ({report.fmt_steps(int(step))}) -> {report.fmt_return(final)}"
             for seed, peak, step, final in sorted(rows[label])]
    print(f"| {label} | {'; '.join(cells)} |")

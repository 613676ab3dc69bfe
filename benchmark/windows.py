"""Learning speed side by side: the mean episodic return in each window of steps, per run, then the mean and
the min-max over seeds, for two or more sweeps' runs of one env (ours beside a baseline's).

    python benchmark/windows.py benchmark/runs --env-id BreakoutNoFrameskip-v4 --window 50000 \
        --out benchmark/results/breakout_windows

Every run under the given directories (sweep.py's run directories: run.json, the events under runs/) that
played env-id is read; runs are grouped by script and variant. A window (a, b] holds the episodes that
ended after step a and at or before step b, so its mean is the return of the games the policy finished in
that stretch of training. Writes OUT.md (a table per window end) and OUT.png (mean over seeds, min-max
band). Unfinished runs count up to their last window that is complete (--include-unfinished).

With --from-step S, OUT.md also gets each run's mean over the windows that end at S or later (one number per
run, so that the runs of a group are independent samples), and for every two groups an exact permutation test
of the difference of their means: the share of all ways to split the pooled runs into groups of the same sizes
whose difference, in the direction observed, is at least the observed one (one-sided).
"""

import itertools
import math
import os
import sys
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from report import OneLineParser, fail, load_runs  # noqa: E402


def window_means(steps, returns, window, last_step):
    """[mean return of the episodes that ended in (k window, (k + 1) window]] for each complete window, and a last
    one up to the run's last step when it covers half a window or more (a 500k-step run of 1024-step
    iterations ends at step 499,712)."""
    ends = np.arange(window, last_step + 1, window)
    if last_step - (ends[-1] if len(ends) else 0) >= window / 2:
        ends = np.append(ends, last_step)
    means = []
    for end in ends:
        inside = (steps > end - window) & (steps <= end)
        means.append(float(np.mean(returns[inside])) if inside.any() else float("nan"))
    return ends, np.array(means)


def permutation_p(low, high, max_splits=1_000_000):
    """One-sided exact permutation test that `high`'s mean exceeds `low`'s: the share of the splits of the pooled
    values into groups of len(low) and len(high) whose mean(high part) - mean(low part) is at least the
    observed one (the observed split counts). Returns (p, splits); over max_splits splits it raises."""
    pooled = np.concatenate([low, high]).astype(float)
    n, k = len(pooled), len(low)
    splits = math.comb(n, k)
    if splits > max_splits:
        raise ValueError(f"{splits} splits: too many for an exact test")
    low_sums = np.fromiter((pooled[list(idx)].sum() for idx in itertools.combinations(range(n), k)), float, splits)
    differences = (pooled.sum() - low_sums) / (n - k) - low_sums / k
    observed = np.mean(high) - np.mean(low)
    return float(np.mean(differences >= observed - 1e-9 * max(1.0, abs(observed)))), splits


def main(argv):
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dirs", nargs="+", help="directories holding sweep.py's run directories")
    parser.add_argument("--env-id", required=True)
    parser.add_argument("--window", type=int, default=50000, help="steps per window")
    parser.add_argument("--out", required=True, help="path without extension for OUT.md and OUT.png")
    parser.add_argument("--include-unfinished", action="store_true", help="also read runs without a `done` file")
    parser.add_argument("--from-step", type=int, default=None,
                        help="also write each run's mean over the windows ending at this step or later, and the "
                             "permutation tests between groups")  # fmt: skip
    args = parser.parse_args(argv)
    if args.window < 1:
        fail("--window must be at least 1")
    if args.from_step is not None and args.from_step < args.window:
        fail("--from-step must be at least --window (the first window's end)")
    if not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        where = os.path.dirname(args.out)
        fail(f"--out {args.out}: no directory {where}: make it first")
    groups = {}
    for runs_dir in args.runs_dirs:
        if not os.path.isdir(runs_dir):
            fail(f"no directory {runs_dir}: pass sweep.py's --runs-dir")
        for run in load_runs(runs_dir, include_unfinished=args.include_unfinished):
            if run["env_id"] == args.env_id:
                flags = " ".join(run.get("flags", [])) or "its defaults"  # the flags, not the variant's short name
                groups.setdefault(f"{run['script']} ({flags})", {})[run["seed"]] = run
    if not groups:
        fail(f"no finished run of {args.env_id} under {' '.join(args.runs_dirs)}")
    table = {}  # label -> (ends, {seed: means})
    for label, runs in sorted(groups.items()):
        per_seed = {seed: window_means(r["episode_steps"], r["episode_returns"], args.window, r["steps"])
                    for seed, r in sorted(runs.items())}  # fmt: skip
        ends = max((ends for ends, _ in per_seed.values()), key=len)  # a shorter (unfinished) run: NaN after its end
        padded = {seed: np.pad(means, (0, len(ends) - len(means)), constant_values=np.nan)
                  for seed, (_, means) in per_seed.items()}  # fmt: skip
        table[label] = (ends, padded)
    write_markdown(table, args)
    plot(table, args)
    print(f"wrote {args.out}.md and {args.out}.png")


def steps(n):
    """A step count as the tables write it: 50k, 499.7k; under 1000 the number itself."""
    return f"{n / 1000:.{0 if n % 1000 == 0 else 1}f}k" if n >= 1000 else str(int(n))


def write_markdown(table, args):
    ends = max((ends for ends, _ in table.values()), key=len)
    n = len(ends)
    lines = [f"# {args.env_id}: mean episodic return per {steps(args.window)}-step window", "",
             "Each cell: the mean over seeds of each run's mean return in the window, [min, max] over seeds, then the "
             "seeds' own values.", "",
             "| run | seeds | " + " | ".join(steps(e) for e in ends) + " |",
             "|---|---|" + "---|" * n]  # fmt: skip
    for label, (_, per_seed) in table.items():
        cells = []
        for k in range(n):
            values = np.array([means[k] for means in per_seed.values() if k < len(means) and not np.isnan(means[k])])
            cells.append(f"{values.mean():.1f} [{values.min():.1f}, {values.max():.1f}] ("
                         + ", ".join(f"{v:.1f}" for v in values) + ")" if len(values) else "")  # fmt: skip
        lines.append(f"| {label} | {', '.join(map(str, per_seed))} | " + " | ".join(cells) + " |")
    if args.from_step is not None:
        lines += summary_lines(table, args.from_step)
    with open(args.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")


def summary_lines(table, from_step):
    """Each run's mean over its windows ending at from_step or later; the permutation test of every two groups."""
    per_run = {}
    for label, (ends, per_seed) in table.items():
        later = ends >= from_step
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a run that played no game after from_step: NaN
            means = {seed: float(np.nanmean(values[later])) for seed, values in per_seed.items()}
        per_run[label] = {seed: mean for seed, mean in means.items() if not np.isnan(mean)}
    step = steps(from_step)
    lines = ["", f"## Each run's mean over the windows ending at {step} or later", "",
             "| run | seeds | per run | mean |", "|---|---|---|---|"]  # fmt: skip
    for label, means in per_run.items():
        values = ", ".join(f"{v:.2f}" for v in means.values())
        mean = f"{np.mean(list(means.values())):.2f}" if means else ""
        lines.append(f"| {label} | {', '.join(map(str, means))} | {values} | {mean} |")
    lines += ["", "## Exact permutation tests of those means, one-sided in the direction observed", "",
              "p: the share of all splits of the two groups' runs, pooled, into groups of their sizes whose "
              "difference of means is at least the observed one (the observed split counts); groups of two runs or "
              "more.", "",
              "| higher | lower | difference | p | splits |", "|---|---|---|---|---|"]  # fmt: skip
    for (label_a, a), (label_b, b) in itertools.combinations(per_run.items(), 2):
        if len(a) < 2 or len(b) < 2:
            continue  # one run a side: a test that cannot go below 1/2
        a, b = np.array(list(a.values())), np.array(list(b.values()))
        (label_high, high), (label_low, low) = sorted([(label_a, a), (label_b, b)], key=lambda g: -np.mean(g[1]))
        difference = f"{np.mean(high) - np.mean(low):.2f}"
        try:
            p, splits = permutation_p(low, high)
            lines.append(f"| {label_high} | {label_low} | {difference} | {p:.3f} | {splits:,} |")
        except ValueError:
            lines.append(f"| {label_high} | {label_low} | {difference} | too many splits for an exact test | |")
    return lines


def plot(table, args):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    for label, (ends, per_seed) in table.items():
        values = np.array(list(per_seed.values()))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a window no run reached stays NaN
            mean, low, high = np.nanmean(values, 0), np.nanmin(values, 0), np.nanmax(values, 0)
        ax.plot(ends, mean, label=f"{label}, {len(per_seed)} seeds")
        ax.fill_between(ends, low, high, alpha=0.2)
    ax.set_xlabel("steps")
    ax.set_ylabel(f"mean return per {steps(args.window)}-step window")
    ax.set_title(args.env_id)
    # below the axes: the labels carry each set's flags and are longer than the plot is wide
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(0, -0.15), frameon=False)
    fig.savefig(args.out + ".png", dpi=100, bbox_inches="tight")


if __name__ == "__main__":
    main(sys.argv[1:])

"""The PPO paper's Table 1 (Schulman et al. 2017) from a sweep's runs of ppo_continuous.py that differ by --loss
(sweep.py --preset table1, or table1-ppo2), whichever backend ran them.

    python benchmark/table1.py benchmark/runs/ppo_continuous --out benchmark/results/table1

It writes table1.md: the paper's normalised score (random policy = 0, best objective = 1 on each env, averaged over
envs), each run's final return taken the paper's way, as the mean of its last 100 training episodes (report.py's
tables use the last 10); how far its order of the objectives is the paper's (Spearman's rank correlation); each
objective's mean return per env; per objective the IQM of its runs' normalised scores and the probability that
clipping at 0.2 improves on it, with 95% stratified-bootstrap confidence intervals (rliable); and
table1_curves.png, per env the learning curve of each objective family's best setting. The runs of one objective
must share every other flag: report each protocol's runs from a runs directory of its own (sweep.py --runs-dir).
"""

import os
import warnings
from collections import defaultdict

import numpy as np

import report
from report import fail

LAST = report.LAST_TABLE1  # the paper's score: each run's mean return over its last 100 episodes


def table1_label(flags):
    """The paper's name for a run's objective, from its flags as the script reads them (`--flag value` or
    `--flag=value`, the last one given counting); None if it is not a Table 1 variant or a value is not a number."""
    words = [part for flag in flags for part in (flag.split("=", 1) if flag.startswith("--") else [flag])]
    values = {words[i]: words[i + 1] for i in range(len(words) - 1) if words[i].startswith("--")}
    loss = values.get("--loss")
    named = {"clip": ("clipping, eps", "--clip-coef", 0.2), "kl-fixed": ("fixed KL, beta", "--kl-beta", 1.0),
             "kl-adaptive": ("adaptive KL, d_targ", "--kl-adaptive-target", 0.01)}  # fmt: skip
    if loss == "none":
        return "no clipping or penalty"
    if loss not in named:
        return None
    name, flag, default = named[loss]
    try:
        return f"{name} = {float(values.get(flag, default)):g}"
    except ValueError:
        return None


def table1_run_label(run):
    """The paper's name for a run's objective: runs of ppo_continuous.py only."""
    return table1_label(run["flags"]) if run["script"] == "ppo_continuous.py" else None


def table1_order(labels, paper):
    """The labels in the paper's order (reference.json's table1), any it does not name last."""
    return sorted(labels, key=lambda label: list(paper).index(label) if label in paper else len(paper))


def table1_envs(finals, random_returns):
    """The envs a score can use: every label ran there and its random return is known; and of those, the ones left
    out as no label's return is above the random policy's (best - random <= 0 would rank the labels backwards)."""
    labels = sorted({label for label, _ in finals})
    complete = sorted({env for _, env in finals
                       if env in random_returns and all((label, env) in finals for label in labels)})  # fmt: skip
    below = [env for env in complete if max(finals[(label, env)] for label in labels) <= random_returns[env]]
    return [env for env in complete if env not in below], below


def table1_scores(finals, random_returns):
    """finals: {(label, env_id): final return}. Per env, random = 0 and the best label = 1; the score of a
    label is its mean over the envs (table1_envs: every label ran there, and one is above the random policy)."""
    labels = sorted({label for label, _ in finals})
    envs = table1_envs(finals, random_returns)[0]
    scores = {}
    for label in labels:
        per_env = []
        for env in envs:
            best = max(finals[(other, env)] for other in labels)
            per_env.append((finals[(label, env)] - random_returns[env]) / (best - random_returns[env]))
        scores[label] = float(np.mean(per_env)) if per_env else float("nan")
    return scores, envs


def mean_finals(runs):
    """{(label, env_id): the mean over seeds of the runs' final returns}."""
    finals = defaultdict(list)
    for run in runs:
        if label := table1_run_label(run):
            finals[(label, run["env_id"])].append(run["final_last100"])
    return {key: float(np.mean(values)) for key, values in finals.items()}


def table1_lines(runs, reference, out=None, reps=report.BOOTSTRAP_REPS):
    """table1.md's lines: the paper's score beside the paper's figures, each setting's mean return per task,
    then per setting the IQM of the runs' normalised scores with 95% stratified-bootstrap CIs and P(clipping at
    0.2 > setting) (rliable), and, in out, table1_curves.png: per task, the learning curve of each objective
    family's best setting."""
    by_label = defaultdict(lambda: defaultdict(dict))
    for run in runs:
        if label := table1_run_label(run):
            by_label[label][run["env_id"]][run["seed"]] = run
    random_returns = reference.get("random_policy", {})
    means = mean_finals(runs)
    scores, envs = table1_scores(means, random_returns)
    below = table1_envs(means, random_returns)[1]
    paper = reference.get("table1", {})
    order = table1_order(scores, paper)
    # the seeds that ran on every env: a stratified bootstrap needs a full [runs, envs] matrix
    seeds = {label: sorted(set.intersection(*(set(by_label[label][env]) for env in envs))) if envs else []
             for label in order}  # fmt: skip
    lines = ["## The paper's Table 1: normalised score (random policy = 0, best objective = 1, averaged over envs)", ""]
    lines += [f"Each run's final return: the mean of its last {LAST} training episodes, as in the paper.", ""]
    left_out = (f" Left out: {', '.join(below)}, where no setting's mean return is above the random policy's "
                f"(reference.json's random_policy), which the scale needs." if below else "")
    lines += [f"Envs: {', '.join(envs)}.{left_out}", "", "| objective | seeds | ours | paper |", "|---|---|---|---|"]
    for label in order:
        published = paper.get(label, float("nan"))
        lines.append(f"| {label} | {len(seeds[label])} | {scores[label]:.2f} | {published:.2f} |")
    lines += ["", *table1_rank_lines(scores, paper)]
    if not envs or not all(seeds.values()):
        return lines + [""]
    # each run on the same scale: per env, the random policy at 0 and the best setting's mean over seeds at 1
    best = {env: max(means[(label, env)] for label in order) for env in envs}
    lines += ["", f"Per task: the mean over seeds of each run's final return (last {LAST} episodes); in bold, "
              "the setting that scores 1 there.", "", f"| objective | {' | '.join(envs)} |",
              "|" + "---|" * (len(envs) + 1)]
    for label in order:
        row = {env: means[(label, env)] for env in envs}
        cells = [f"**{report.fmt_return(m)}**" if m == best[env] else report.fmt_return(m) for env, m in row.items()]
        lines.append(f"| {label} | {' | '.join(cells)} |")

    def normalised(run, env):
        return (run["final_last100"] - random_returns[env]) / (best[env] - random_returns[env])

    matrices = {label: np.array([[normalised(by_label[label][env][s], env) for env in envs] for s in seeds[label]])
                for label in order}  # fmt: skip
    lines += ["", *table1_interval_lines(matrices, "clipping, eps = 0.2", reps)]
    if out:
        plot_table1_curves(by_label, envs, scores, os.path.join(out, "table1_curves.png"))
        lines += ["", "Per task, each objective family's best setting (by the score above): mean over seeds, "
                  "min-max band.", "", "![Table 1 curves](table1_curves.png)"]  # fmt: skip
    return lines + [""]


def table1_rank_lines(scores, paper):
    """How far our order of the settings is the paper's: Spearman's rank correlation of the two scores, over all
    settings and over those with a clip or a penalty (the unconstrained surrogate is far below in both)."""
    from scipy.stats import spearmanr

    every = [label for label in scores if label in paper]
    constrained = [label for label in every if label != "no clipping or penalty"]
    groups = [(every, "settings")]
    if len(constrained) < len(every):
        groups.append((constrained, "settings with a clip or a penalty"))
    lines = []
    for labels, what in groups:
        if len(labels) >= 3:
            rho = spearmanr([scores[label] for label in labels], [paper[label] for label in labels]).statistic
            lines.append(f"Spearman's rank correlation of ours with the paper's over the {len(labels)} {what}: "
                         f"{rho:.2f}.")  # fmt: skip
    return lines


def table1_interval_lines(matrices, baseline, reps):
    """Per setting, the IQM of its runs' normalised scores [runs, envs] and P(baseline > setting), both with
    95% stratified-bootstrap confidence intervals (rliable)."""
    from rliable import library as rly
    from rliable import metrics

    warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
    np.random.seed(0)  # rliable also draws from numpy's global generator: seeded, the intervals repeat
    point, interval = rly.get_interval_estimates(
        matrices, lambda x: np.array([metrics.aggregate_iqm(x)]), reps=reps, random_state=np.random.RandomState(0)
    )  # fmt: skip
    lines = [f"Per run: (final return - random policy) / (best setting's mean - random policy) on each env. IQM: the "
             f"mean of the middle 50% of runs x envs. P: the probability that a run of {baseline} scores above a run "
             f"of the setting on the same env. Brackets: 95% stratified-bootstrap CIs ({reps} resamples, rliable).", "",
             f"| objective | IQM [95% CI] | P({baseline} > it) [95% CI] |", "|---|---|---|"]  # fmt: skip
    for label, x in matrices.items():
        iqm, (low, high) = float(point[label][0]), interval[label][:, 0]
        if label == baseline or baseline not in matrices:
            lines.append(f"| {label} | {iqm:.2f} [{low:.2f}, {high:.2f}] | |")
            continue
        np.random.seed(0)
        p, ci = rly.get_interval_estimates({"p": (matrices[baseline], x)}, metrics.probability_of_improvement,
                                           reps=min(reps, 2000), random_state=np.random.RandomState(0))  # fmt: skip
        p_low, p_high = ci["p"].ravel()
        p = float(p["p"])
        lines.append(f"| {label} | {iqm:.2f} [{low:.2f}, {high:.2f}] | {p:.2f} [{p_low:.2f}, {p_high:.2f}] |")
    return lines


def plot_table1_curves(by_label, envs, scores, path):
    """Per task, one line per objective family: the family's setting with the best score."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    families = defaultdict(list)
    for label in scores:
        families[label.split(",")[0]].append(label)
    chosen = [max(labels, key=lambda label: scores[label]) for _, labels in sorted(families.items())]
    cols = min(4, len(envs))
    rows = (len(envs) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4.5 * cols, 3.4 * rows), squeeze=False)
    for ax, env in zip(axes.flat, envs):
        for i, label in enumerate(chosen):
            grid, mean, low, high = report.curve_band(list(by_label[label][env].values()), "episode_steps")
            ax.fill_between(grid, low, high, alpha=0.15, color=f"C{i}")
            ax.plot(grid, mean, color=f"C{i}", label=label)
        ax.set_title(env)
        ax.set_xlabel("steps")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(envs) :]:
        ax.axis("off")
    axes.flat[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def check_objectives(runs):
    """One line naming the fix, unless the runs hold two objectives or more, each run under one set of flags."""
    flag_sets = defaultdict(set)
    for run in runs:
        label = table1_run_label(run)
        if label:
            flag_sets[label].add(" ".join(run["flags"]))
    if len(flag_sets) < 2:
        found = f"only {next(iter(flag_sets))}" if flag_sets else "no run that names its objective with --loss"
        fail(f"Table 1 compares objectives, and these runs of ppo_continuous.py hold {found}: pass the runs of "
             "`sweep.py --preset table1` (or runs that differ by --loss)")
    mixed = sorted(label for label in flag_sets if len(flag_sets[label]) > 1)
    if mixed:  # one objective run with other flags too (another step size, say): its average would mix them
        fail(f"the runs of {mixed[0]} differ in other flags ({' | '.join(sorted(flag_sets[mixed[0]]))}); report "
             "each protocol's runs from a runs directory of its own (sweep.py --runs-dir)")


def main():
    args, runs, reference = report.read_options(__doc__.split("\n\n")[0], "table1.md and table1_curves.png",
                                                "the runs directory of a Table 1 sweep, e.g. "
                                                "benchmark/sweeps/ppo2/ppo_continuous")
    out = args.out
    check_objectives(runs)
    envs, below = table1_envs(mean_finals(runs), reference.get("random_policy", {}))
    if not envs:
        none_above = f" (on {', '.join(below)} no objective is above the random policy)" if below else ""
        fail(f"no env can be scored{none_above}: each needs every objective's runs, a random policy's return in "
             "--reference (random_policy) and an objective above it; run every objective on the same envs, longer")
    report.make_out(out)
    lines = table1_lines(runs, reference, out, reps=args.bootstrap_reps)
    with open(os.path.join(out, "table1.md"), "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {out}")


if __name__ == "__main__":
    report.run_main(main)

"""Result tables and learning curves from a sweep's runs (benchmark/sweep.py), whichever backend ran them.

    python benchmark/report.py benchmark/runs                      # writes benchmark/runs/report/
    python benchmark/report.py benchmark/runs --out benchmark/results

For each script it writes <script>.md: a table per env with the final return (mean +- std over seeds of
each run's mean of its last 10 training episodes), steps, wall time and steps per second, beside the
published numbers in benchmark/reference.json; and <script>__<variant>__steps.png / __walltime.png:
return against steps and against wall time, one panel per env, the mean over seeds with a min-max band.
Runs of ppo_continuous.py that differ by --loss (the `table1` preset) also get table1.md: the paper's
normalised score (random policy = 0, best variant = 1 on each env, averaged over envs).
"""

import argparse
import json
import os
import warnings
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LAST = 10  # episodes averaged for a run's final return


def read_events(events_dir):
    """{tag: (steps, wall_times, values)} for every scalar tag of one run's tensorboard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(events_dir, size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = (np.array([e.step for e in events]), np.array([e.wall_time for e in events]), np.array([e.value for e in events]))
    return out


def load_runs(runs_dir, include_unfinished=False, skipped=None):
    """Every run under runs_dir (a directory with run.json), with what the report needs from its events.
    A run left out is appended to `skipped` as (path, reason): not finished, failed, no events, or
    events that cannot be read; never reported as a result."""
    runs, skipped = [], [] if skipped is None else skipped
    for path, dirs, files in os.walk(runs_dir):
        if "run.json" not in files:
            continue
        dirs[:] = []
        finished = os.path.exists(os.path.join(path, "done"))
        if os.path.exists(os.path.join(path, "failed")):
            skipped.append((path, "failed (see its log.txt)"))
            continue
        if not finished and not include_unfinished:
            skipped.append((path, "not finished (no `done` file; --include-unfinished reports it)"))
            continue
        with open(os.path.join(path, "run.json")) as f:
            run = json.load(f)
        event_dirs = [os.path.join(path, "runs", d) for d in sorted(os.listdir(os.path.join(path, "runs")))] if os.path.isdir(os.path.join(path, "runs")) else []
        if not event_dirs:
            skipped.append((path, "no tensorboard events"))
            continue
        try:
            scalars = read_events(event_dirs[-1])
        except Exception as e:  # a truncated or corrupt file: say so, do not guess
            skipped.append((path, f"its events cannot be read ({type(e).__name__}: {(str(e).splitlines() or [''])[0]})"))
            continue
        if "charts/episodic_return" not in scalars:
            skipped.append((path, "no finished episode in its events"))
            continue
        steps, walls, returns = scalars["charts/episodic_return"]
        start = min(w[0] for _, w, _ in scalars.values())
        wall_time = max(w[-1] for _, w, _ in scalars.values()) - start
        if finished:
            with open(os.path.join(path, "done")) as f:
                wall_time = json.load(f).get("wall_time", wall_time)
        run.update(
            path=path,
            episode_steps=steps,
            episode_walls=walls - start,
            episode_returns=returns,
            final=float(np.mean(returns[-LAST:])),
            steps=int(max(s[-1] for s, _, _ in scalars.values())),
            wall_time=float(wall_time),
            sps=float(scalars["charts/SPS"][2][-1]) if "charts/SPS" in scalars else float("nan"),
        )
        runs.append(run)
    return runs


def group(runs):
    """{script: {env_id: {variant: [runs sorted by seed]}}}"""
    out = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for run in sorted(runs, key=lambda r: (r["script"], r["env_id"], r["variant"], r["seed"])):
        out[run["script"]][run["env_id"]][run["variant"]].append(run)
    return out


def fmt_steps(steps):
    return f"{steps / 1e6:.2f}M" if steps >= 1e5 else f"{steps / 1e3:g}k" if steps >= 1e3 else str(steps)


def script_tables(script, envs, reference):
    """Markdown: one table per env, our variants first, then the published numbers."""
    lines = [f"## {script}", ""]
    sources = reference.get("sources", {})
    for env_id, variants in sorted(envs.items()):
        lines += [f"### {env_id}", "", "| run | seeds | return (mean ± std) | per seed | steps | wall time | SPS |", "|---|---|---|---|---|---|---|"]
        for variant, runs in sorted(variants.items()):
            finals = [r["final"] for r in runs]
            lines.append(
                f"| ours: {variant} | {', '.join(str(r['seed']) for r in runs)} | {np.mean(finals):.2f} ± {np.std(finals):.2f} "
                f"| {', '.join(f'{x:.1f}' for x in finals)} | {fmt_steps(int(np.mean([r['steps'] for r in runs])))} "
                f"| {np.mean([r['wall_time'] for r in runs]) / 60:.1f} min | {np.mean([r['sps'] for r in runs]):.0f} |"
            )
        for ref in reference.get(script, {}).get(env_id, []):
            std = f" ± {ref['std']:.2f}" if "std" in ref else ""
            lines.append(f"| {sources.get(ref['source'], ref['source'])} | | {ref['return']:.2f}{std} | | {fmt_steps(ref['steps'])} | | |")
        lines.append("")
    return lines


def curve_band(runs, x_key, points=200):
    """Mean, min and max over seeds of each run's return curve (a rolling mean of LAST episodes),
    interpolated onto a shared x grid; a run contributes only inside the x range it covers."""
    ends = [r[x_key][-1] for r in runs if len(r[x_key])]
    grid = np.linspace(0, max(ends), points)
    curves = []
    for r in runs:
        x, y = r[x_key], r["episode_returns"]
        smooth = np.convolve(y, np.ones(LAST), "valid") / LAST if len(y) >= LAST else np.cumsum(y) / np.arange(1, len(y) + 1)
        xs = x[len(x) - len(smooth) :]
        curve = np.interp(grid, xs, smooth)
        curve[(grid < xs[0]) | (grid > xs[-1])] = np.nan
        curves.append(curve)
    curves = np.array(curves)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # grid points no run covers stay NaN
        return grid, np.nanmean(curves, 0), np.nanmin(curves, 0), np.nanmax(curves, 0)


def plot(script, variant, envs, reference, x_key, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    env_ids = sorted(e for e in envs if variant in envs[e])
    cols = min(3, len(env_ids))
    rows = (len(env_ids) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.6 * rows), squeeze=False)
    for ax, env_id in zip(axes.flat, env_ids):
        runs = envs[env_id][variant]
        grid, mean, low, high = curve_band(runs, x_key)
        scale = 1 / 60 if x_key == "episode_walls" else 1
        ax.fill_between(grid * scale, low, high, alpha=0.25, color="C0", label="min-max over seeds")
        ax.plot(grid * scale, mean, color="C0", label=f"ours, mean of {len(runs)} seeds")
        for i, ref in enumerate(reference.get(script, {}).get(env_id, [])):
            ax.axhline(ref["return"], color=f"C{i + 1}", linestyle="--", linewidth=1, label=ref["source"])
        ax.set_title(env_id)
        ax.set_xlabel("wall time (min)" if x_key == "episode_walls" else "steps")
        ax.set_ylabel("episodic return")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(env_ids) :]:
        ax.axis("off")
    fig.suptitle(f"{script} ({variant})")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def table1_label(flags):
    """The paper's name for a run's objective, from its flags (None if it is not a Table 1 variant)."""
    values = {flags[i]: flags[i + 1] for i in range(len(flags) - 1) if flags[i].startswith("--")}
    loss = values.get("--loss")
    if loss == "none":
        return "no clipping or penalty"
    if loss == "clip":
        return f"clipping, eps = {float(values.get('--clip-coef', 0.2)):g}"
    if loss == "kl-adaptive":
        return f"adaptive KL, d_targ = {float(values.get('--kl-adaptive-target', 0.01)):g}"
    if loss == "kl-fixed":
        return f"fixed KL, beta = {float(values.get('--kl-beta', 1.0)):g}"
    return None


def table1_scores(finals, random_returns):
    """finals: {(label, env_id): final return}. Per env, random = 0 and the best label = 1; the score of a
    label is its mean over the envs (only envs where every label ran, and whose random return is known)."""
    labels = sorted({label for label, _ in finals})
    envs = sorted({env for _, env in finals if env in random_returns and all((label, env) in finals for label in labels)})
    scores = {}
    for label in labels:
        per_env = []
        for env in envs:
            best = max(finals[(other, env)] for other in labels)
            per_env.append((finals[(label, env)] - random_returns[env]) / (best - random_returns[env]))
        scores[label] = float(np.mean(per_env)) if per_env else float("nan")
    return scores, envs


def table1_lines(runs, reference):
    finals = defaultdict(list)
    for run in runs:
        label = table1_label(run["flags"]) if run["script"] == "ppo_continuous.py" else None
        if label:
            finals[(label, run["env_id"])].append(run["final"])
    if len({label for label, _ in finals}) < 2:
        return []
    scores, envs = table1_scores({k: float(np.mean(v)) for k, v in finals.items()}, reference.get("random_policy", {}))
    paper = reference.get("table1", {})
    lines = ["## The paper's Table 1: normalised score (random policy = 0, best objective = 1, averaged over envs)", ""]
    lines += [f"Envs: {', '.join(envs)}.", "", "| objective | ours | paper |", "|---|---|---|"]
    for label, score in sorted(scores.items(), key=lambda kv: list(paper).index(kv[0]) if kv[0] in paper else 99):
        lines.append(f"| {label} | {score:.2f} | {paper.get(label, float('nan')):.2f} |")
    return lines + [""]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dir")
    parser.add_argument("--out", help="where the tables and plots go (default: RUNS_DIR/report)")
    parser.add_argument("--reference", default=os.path.join(HERE, "reference.json"))
    parser.add_argument("--include-unfinished", action="store_true", help="also report runs without a `done` file")
    args = parser.parse_args()
    if not os.path.isdir(args.runs_dir):
        raise SystemExit(f"report.py: error: no directory {args.runs_dir}: pass the runs directory of a sweep (benchmark/sweep.py's --runs-dir, benchmark/runs by default)")
    out = args.out or os.path.join(args.runs_dir, "report")
    with open(args.reference) as f:
        reference = json.load(f)
    skipped = []
    runs = load_runs(args.runs_dir, args.include_unfinished, skipped)
    for path, reason in skipped:
        print(f"left out {os.path.relpath(path, args.runs_dir)}: {reason}")
    if not runs:
        raise SystemExit(f"report.py: error: no finished runs under {args.runs_dir}: run benchmark/sweep.py first (or pass --include-unfinished)")
    os.makedirs(out, exist_ok=True)
    for script, envs in group(runs).items():
        lines = script_tables(script, envs, reference)
        stem = script[: -len(".py")]
        for variant in sorted({v for variants in envs.values() for v in variants}):
            for x_key, kind in (("episode_steps", "steps"), ("episode_walls", "walltime")):
                name = f"{stem}__{variant}__{kind}.png"
                plot(script, variant, envs, reference, x_key, os.path.join(out, name))
                lines.append(f"![{script} {variant} {kind}]({name})")
            lines.append("")
        with open(os.path.join(out, f"{stem}.md"), "w") as f:
            f.write("\n".join(lines))
        print("\n".join(lines))
    table1 = table1_lines(runs, reference)
    if table1:
        with open(os.path.join(out, "table1.md"), "w") as f:
            f.write("\n".join(table1))
        print("\n".join(table1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

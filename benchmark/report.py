"""Result tables and learning curves from a sweep's runs (benchmark/sweep.py), whichever backend ran them.

    python benchmark/report.py benchmark/runs                      # writes benchmark/runs/report/
    python benchmark/report.py benchmark/runs --out benchmark/results

For each script it writes <script>.md: a table per env with the final return (mean +- std over seeds of
each run's mean of its last 10 training episodes), steps, wall time, steps per second and, where
benchmark/evaluate.py has run, the return of the final policy acting with its mean action, beside the
published numbers in benchmark/reference.json; and <script>__<variant>__steps.png / __walltime.png:
return against steps and against wall time, one panel per env, the mean over seeds with a min-max band.
The PPO paper's Table 1 from runs that differ by --loss (the `table1` preset) is benchmark/table1.py's.

aggregate.md and performance_profile.png report as Agarwal et al. 2021 ("Deep RL at the edge of the
statistical precipice") recommend, with the rliable package: per script and variant, the IQM and the
mean of normalised scores (random policy = 0, reference.json's `normalised_one` = 1 on each env) with
95% stratified-bootstrap confidence intervals, the probability that one improves on another, and the
performance profile. aggregate.md is written when some run's env has both figures in reference.json;
the performance profile shows the scripts and variants run on PROFILE_MIN_ENVS (3) envs or more, and is
not written when there are none; either omission is said in one line. summary.md sets each script's
default runs beside the published numbers, one row per env (the README's table), and lists the other
variants. runs.json lists every reported run's final returns, for use elsewhere.
"""

import argparse
import errno
import glob
import json
import math
import os
import re
import stat
import sys
import warnings
from collections import defaultdict

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
LAST = 10  # episodes averaged for a run's final return
SMALL = 1 << 20  # bytes: the most of a small JSON file read whole (read_json), or of a log's end read
LAST_TABLE1 = 100  # runs.json's final_last100 (the paper's Table 1 score, benchmark/table1.py): the last 100 episodes
BOOTSTRAP_REPS = 50000  # rliable's default number of bootstrap resamples
PROFILE_MIN_ENVS = 3  # a variant run on one or two envs (an ablation) stays out of the performance profile


def read_events(events_dir):
    """{tag: (steps, wall_times, values)} for every scalar tag of one run's tensorboard events."""
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.util import tb_logging

    # A resumed run logs again the steps after its last checkpoint; tensorboard drops the first run's copies of
    # them ("Purging expired events"), which is what the report wants, so its warning about it is not shown.
    tb_logging.get_logger().setLevel("ERROR")
    acc = EventAccumulator(events_dir, size_guidance={"scalars": 0})
    acc.Reload()
    out = {}
    for tag in acc.Tags()["scalars"]:
        events = acc.Scalars(tag)
        out[tag] = tuple(np.array([getattr(e, field) for e in events]) for field in ("step", "wall_time", "value"))
    return out


def running_clock(events_dir):
    """For a resumed run, which writes one events file per attempt: the seconds its attempts ran in all (each file's
    span, first event to last, summed), and a function from an event's wall time to the seconds run by then. The
    time between attempts, while the run was stopped, is not the run's. None for a run of one attempt."""
    from tensorboard.backend.event_processing import event_file_loader, io_wrapper

    files = [os.path.join(events_dir, name) for name in sorted(os.listdir(events_dir))]
    files = [f for f in files if io_wrapper.IsSummaryEventsFile(f)]  # the files read_events reads, and no others
    if len(files) < 2:  # one attempt: its file is not read again
        return None
    events = (event_file_loader.EventFileLoader(f).Load() for f in files)
    walls = ([e.wall_time for e in file if e.HasField("summary") and np.isfinite(e.wall_time)] for file in events)
    spans = sorted((min(w), max(w)) for w in walls if w)
    if len(spans) < 2:
        return None
    starts = np.array([first for first, _ in spans])
    before = np.cumsum([0.0] + [last - first for first, last in spans])  # seconds run before each attempt began

    def clock(walls):
        attempt = np.clip(np.searchsorted(starts, walls, side="right") - 1, 0, None)
        return before[attempt] + walls - starts[attempt]

    return before[-1], clock


def load_runs(runs_dir, include_unfinished=False, skipped=None):
    """Every run under runs_dir (a directory with run.json), with what the report needs from its events.
    A run left out is appended to `skipped` as (path, reason): not finished, failed, no events, events that
    cannot be read, or a second run of one script, variant, env and seed; never reported as a result."""
    runs, skipped = [], [] if skipped is None else skipped
    for path, dirs, files in os.walk(runs_dir):
        for name in [d for d in dirs if os.path.islink(os.path.join(path, d))]:  # not followed: it could loop
            skipped.append((os.path.join(path, name), "a symbolic link, not followed: pass its target's directory"))
        if "run.json" not in files + dirs:  # a directory named run.json is a run whose run.json cannot be read
            continue
        dirs[:] = []
        finished = os.path.exists(os.path.join(path, "done"))
        if os.path.exists(os.path.join(path, "failed")):
            skipped.append((path, "failed (see its log.txt)"))
            continue
        if not finished and not include_unfinished:
            skipped.append((path, "not finished (no `done` file; --include-unfinished reports it)"))
            continue
        try:
            run = read_json(os.path.join(path, "run.json"))
        except (OSError, ValueError, RecursionError):  # cut short, say
            skipped.append((path, "its run.json cannot be read: to run it again, move its directory away and run the "
                                  "sweep's command again"))
            continue
        fields = {"script": str, "env_id": str, "seed": int, "variant": str, "flags": list}
        if not isinstance(run, dict) or not all(type(run.get(k)) is t for k, t in fields.items()) or not (
            re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\.py", run["script"])
            and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_./:-]*", run["env_id"])  # a table's cell: no '|', no newline
            and re.fullmatch(r"[A-Za-z0-9_][A-Za-z0-9_.=-]*", run["variant"])
            and all(isinstance(f, str) for f in run["flags"])
        ):  # the names become file names under --out: one of ours, and one plain name
            skipped.append((path, f"its run.json is not a sweep's (a dict of {', '.join(fields)})"))
            continue
        events_root = os.path.join(path, "runs")
        event_dirs = [os.path.join(events_root, d) for d in sorted(os.listdir(events_root))] \
            if os.path.isdir(events_root) and not os.path.islink(events_root) else []  # fmt: skip
        event_dirs = [d for d in event_dirs if os.path.isdir(d) and not os.path.islink(d)  # links: not followed
                      and not re.search(r"-eval(-[0-9]+)?$", d)]  # --eval-checkpoint's log, made in the run's runs/
        if not event_dirs:
            skipped.append((path, "no tensorboard events (links are not followed)"))
            continue
        if not all(regular(os.path.join(event_dirs[-1], f)) for f in os.listdir(event_dirs[-1]) if "tfevents" in f):
            skipped.append((path, "its events are not all regular files (a link or a pipe): not read"))
            continue
        try:
            scalars, resumed = read_events(event_dirs[-1]), running_clock(event_dirs[-1])
        except Exception as e:  # a truncated or corrupt file: say so, do not guess
            first = (str(e).splitlines() or [""])[0]
            skipped.append((path, f"its events cannot be read ({type(e).__name__}: {first})"))
            continue
        if "charts/episodic_return" not in scalars:
            skipped.append((path, "no finished episode in its events"))
            continue
        logged, events_end = last_logged_step(path), int(max(s[-1] for s, _, _ in scalars.values()))
        if finished and logged is not None and events_end < logged:  # the writer stopped early: incomplete
            skipped.append((path, f"its events end at step {events_end} but its log.txt at step {logged}: cut short"))
            continue
        steps, walls, returns = scalars["charts/episodic_return"]
        if not np.isfinite(returns).all():
            skipped.append((path, "its events hold an episode's return that is not a finite number: not a result"))
            continue
        start = min(w[0] for _, w, _ in scalars.values())
        wall_time = max(w[-1] for _, w, _ in scalars.values()) - start
        if finished:
            try:
                timed = float(read_json(os.path.join(path, "done")).get("wall_time", wall_time))
                wall_time = timed if math.isfinite(timed) and timed >= 0 else wall_time
            except (OSError, ValueError, TypeError, AttributeError, RecursionError, OverflowError):  # an empty
                pass  # `done`: the span of the events
        if resumed:  # `done` times the last attempt only
            wall_time, clock = resumed
        run.update(
            path=path,
            episode_steps=steps,
            episode_walls=clock(walls) if resumed else walls - start,
            episode_returns=returns,
            final=float(np.mean(returns[-LAST:])),
            final_last100=float(np.mean(returns[-LAST_TABLE1:])),
            episodes=len(returns),
            steps=int(max(s[-1] for s, _, _ in scalars.values())),
            wall_time=float(wall_time),
            sps=float(scalars["charts/SPS"][2][-1]) if "charts/SPS" in scalars else float("nan"),
            eval=read_eval(path),
        )
        if resumed:  # the SPS the script logs counts its last attempt's steps only
            run["sps"] = run["steps"] / wall_time if wall_time > 0 else float("nan")
        runs.append(run)
    key, first = lambda run: (run["script"], run["variant"], run["env_id"], run["seed"]), {}  # noqa: E731
    for run in sorted(runs, key=lambda run: run["path"]):  # one run per key: two would count one seed twice
        first.setdefault(key(run), run["path"])
    for run in runs:
        if first[key(run)] != run["path"]:
            same = os.path.relpath(first[key(run)], runs_dir)
            skipped.append((run["path"], f"the same script, variant, env and seed as {same}: pass one sweep's runs "
                                         "directory"))
    return [run for run in runs if first[key(run)] == run["path"]]


def regular(path):
    """A regular file itself, not a link, a pipe or a device (whose read could block for ever): what a handed runs
    directory's files must be before they are read."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def read_json(path, limit=SMALL):
    """A small JSON file of a run's directory (run.json, a marker, eval.json): a regular file of at most `limit`
    bytes (a huge one would fill memory); OSError or ValueError otherwise. A link is not followed (a handed one
    could point anywhere), nor a pipe waited on, and the file is checked once open: one swapped in is checked too."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as e:
        raise OSError("a link, not followed" if e.errno == errno.ELOOP else e.strerror) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        with open(fd, "rb", closefd=False) as f:
            data = f.read(limit + 1)
    finally:
        os.close(fd)
    if len(data) > limit:
        raise OSError(f"larger than {limit} bytes")
    return json.loads(data, parse_int=whole_number)


def whole_number(digits):
    """A JSON integer, as json reads it, but one too long for int() is a ValueError that says so (Python's own
    message suggests raising its limit, which is no fix for a handed file)."""
    try:
        return int(digits)
    except ValueError:  # json hands over digits only: past sys.get_int_max_str_digits() is the one way to fail
        raise ValueError(f"a whole number of {len(digits.lstrip('-'))} digits") from None


def last_logged_step(path):
    """The last `global_step=N SPS=` line of the run's log.txt (the project's scripts print one an iteration,
    after its events are written), or None."""
    try:
        if not regular(os.path.join(path, "log.txt")):  # a pipe or a device would never end
            return None
        with open(os.path.join(path, "log.txt"), "rb") as f:
            f.seek(max(0, os.fstat(f.fileno()).st_size - SMALL))  # the last lines: a log can be huge, or sparse
            found = re.findall(rb"global_step=(\d+) SPS=", f.read())
    except OSError:
        return None
    return int(found[-1]) if found else None


def read_eval(path):
    """The mean return of benchmark/evaluate.py's episodes for this run (mean action, final checkpoint), or None."""
    try:
        mean = float(read_json(os.path.join(path, "eval.json"))["mean"])
    except (OSError, ValueError, KeyError, TypeError, RecursionError, OverflowError):
        return None
    return mean if math.isfinite(mean) else None  # no evaluation, rather than nan or inf in a table


def group(runs):
    """{script: {env_id: {variant: [runs sorted by seed]}}}"""
    out = defaultdict(lambda: defaultdict(lambda: defaultdict(list)))
    for run in sorted(runs, key=lambda r: (r["script"], r["env_id"], r["variant"], r["seed"])):
        out[run["script"]][run["env_id"]][run["variant"]].append(run)
    return out


def fmt_steps(steps):
    return f"{steps / 1e6:.2f}M" if steps >= 1e5 else f"{steps / 1e3:g}k" if steps >= 1e3 else str(steps)


def spread(values):
    """Mean ± std over seeds to two decimals; the mean alone for one seed, which has no spread to show."""
    return f"{np.mean(values):.2f}" + (f" ± {np.std(values):.2f}" if len(values) > 1 else "")


def script_tables(script, envs, reference):
    """Markdown: one table per env, our variants first, then the published numbers."""
    lines = [f"## {script}", ""]
    sources = reference.get("sources", {})
    for env_id, variants in sorted(envs.items()):
        acting = "sampled actions" if script.endswith("atari.py") else "mean action"  # as evaluate.py acts
        lines += [f"### {env_id}", "",
                  f"| run | seeds | return (mean ± std) | per seed | steps | wall time | SPS | eval, {acting} |",
                  "|---|---|---|---|---|---|---|---|"]  # fmt: skip
        for variant, runs in sorted(variants.items()):
            finals = [r["final"] for r in runs]
            evals = [r["eval"] for r in runs if r.get("eval") is not None]
            evaluated = spread(evals) if evals else ""
            evaluated += f" ({len(evals)} seeds)" if evals and len(evals) < len(runs) else ""
            seeds, per_seed = ", ".join(str(r["seed"]) for r in runs), ", ".join(f"{x:.1f}" for x in finals)
            steps = fmt_steps(int(np.mean([r["steps"] for r in runs])))
            minutes = np.mean([r["wall_time"] for r in runs]) / 60
            lines.append(
                f"| ours: {variant} | {seeds} | {spread(finals)} | {per_seed} | {steps} "
                f"| {minutes:.1f} min | {np.mean([r['sps'] for r in runs]):.0f} | {evaluated} |"
            )
        for ref in reference.get(script, {}).get(env_id, []):
            std = f" ± {ref['std']:.2f}" if "std" in ref else ""
            source = sources.get(ref["source"], ref["source"])
            lines.append(f"| {source} | | {ref['return']:.2f}{std} | | {fmt_steps(ref['steps'])} | | | |")
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
        if len(y) >= LAST:
            smooth = np.convolve(y, np.ones(LAST), "valid") / LAST
        else:
            smooth = np.cumsum(y) / np.arange(1, len(y) + 1)
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
        longest = max(r["steps"] for r in runs)
        published = reference.get(script, {}).get(env_id, [])
        for i, ref in enumerate(published):  # a figure at more steps than these runs took would only flatten them
            if ref.get("steps", 0) <= 1.1 * longest:  # a 1M-step run ends at 999,424 steps
                ax.axhline(ref["return"], color=f"C{i + 1}", linestyle="--", linewidth=1, label=ref["source"])
        later = sorted({ref["steps"] for ref in published if ref.get("steps", 0) > 1.1 * longest})
        ax.set_title(env_id + (f" (published at {', '.join(map(fmt_steps, later))} steps: not drawn)" if later else ""),
                     fontsize=10 if later else None)  # fmt: skip
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


def normalised_scores(runs, reference):
    """{label: (envs, scores [seeds, envs])} per script and variant: each run's final return with the random
    policy at 0 and reference.json's normalised_one at 1. An env enters only with both figures known;
    a group keeps the seeds that every one of its envs has, since a stratified bootstrap needs a full matrix.
    Also returns what was left out, as (label, reason)."""
    zero, one = reference.get("random_policy", {}), reference.get("normalised_one", {})
    groups, left_out = defaultdict(dict), []
    for run in runs:
        groups[f"{run['script']} ({run['variant']})"].setdefault(run["env_id"], {})[run["seed"]] = run["final"]
    out = {}
    for label, by_env in sorted(groups.items()):
        missing = sorted(env for env in by_env if env not in zero or env not in one)
        if missing:
            left_out.append((label, f"no random-policy or normalising figure for {', '.join(missing)}"))
        envs = sorted(env for env in by_env if env in zero and env in one)
        seeds = sorted(set.intersection(*(set(by_env[env]) for env in envs))) if envs else []
        if not seeds:
            continue
        dropped = sorted({s for env in envs for s in by_env[env]} - set(seeds))
        if dropped:
            left_out.append((label, f"seeds {', '.join(map(str, dropped))} (not run on every env of the group)"))
        scores = np.array([[(by_env[env][s] - zero[env]) / (one[env]["return"] - zero[env]) for env in envs]
                           for s in seeds])  # fmt: skip
        out[label] = (envs, scores)
    return out, left_out


def aggregate_lines(groups, reference, out, reps=BOOTSTRAP_REPS):
    """aggregate.md's lines, and performance_profile.png in `out`: rliable's interval estimates."""
    from rliable import library as rly
    from rliable import metrics

    # rliable hands its RandomState to arch's bootstrap, which warns that it prefers a Generator
    warnings.filterwarnings("ignore", category=FutureWarning, module="arch")
    sources = reference.get("sources", {})
    one = reference.get("normalised_one", {})
    lines = ["## Aggregate scores (Agarwal et al. 2021)", ""]
    lines += [
        f"Normalised score per run: (final return - random policy) / (reference - random policy), the final return the "
        f"mean of the run's last {LAST} training episodes. IQM: the mean of the middle 50% of all runs x envs. "
        f"Brackets: 95% stratified-bootstrap confidence intervals ({reps} resamples, rliable).", "",
        "| script (variant) | envs | seeds | IQM [95% CI] | mean [95% CI] |", "|---|---|---|---|---|",
    ]  # fmt: skip
    scores = {label: s for label, (_, s) in groups.items()}
    np.random.seed(0)  # rliable's bootstraps also draw from numpy's global generator: seeded, the intervals repeat
    point, interval = rly.get_interval_estimates(
        scores, lambda x: np.array([metrics.aggregate_iqm(x), metrics.aggregate_mean(x)]), reps=reps,
        random_state=np.random.RandomState(0),
    )  # fmt: skip
    for label, (envs, s) in groups.items():
        (iqm, mean), ((iqm_lo, mean_lo), (iqm_hi, mean_hi)) = point[label], interval[label]
        lines.append(f"| {label} | {len(envs)} | {s.shape[0]} | {iqm:.2f} [{iqm_lo:.2f}, {iqm_hi:.2f}] "
                     f"| {mean:.2f} [{mean_lo:.2f}, {mean_hi:.2f}] |")
    # each pair once: ties count a half, so P(Y > X) = 1 - P(X > Y); both ways doubled the slowest part of the report
    labels = list(groups)
    pairs = [(x, y) for i, x in enumerate(labels) for y in labels[i + 1:] if set(groups[x][0]) & set(groups[y][0])]
    if pairs:
        lines += ["", "Probability of improvement, P(X > Y), on the envs both ran (each run's normalised score); each "
                  "pair once, as P(Y > X) = 1 - P(X > Y):", ""]  # fmt: skip
        lines += ["| X | Y | envs | P(X > Y) [95% CI] |", "|---|---|---|---|"]
        for x, y in pairs:
            common = sorted(set(groups[x][0]) & set(groups[y][0]))
            pick = lambda label: groups[label][1][:, [groups[label][0].index(e) for e in common]]  # noqa: E731
            np.random.seed(0)
            p, ci = rly.get_interval_estimates(
                {"p": (pick(x), pick(y))}, metrics.probability_of_improvement, reps=min(reps, 2000),
                random_state=np.random.RandomState(0),
            )  # fmt: skip
            low, high = ci["p"].ravel()
            lines.append(f"| {x} | {y} | {len(common)} | {float(p['p']):.2f} [{low:.2f}, {high:.2f}] |")
    zero, envs = reference.get("random_policy", {}), sorted({env for envs, _ in groups.values() for env in envs})
    lines += ["", "| env | score 0: random policy | score 1 | source of score 1 |", "|---|---|---|---|"]
    for env in envs:
        source = sources.get(one[env]["source"], one[env]["source"])
        lines.append(f"| {env} | {zero[env]:g} | {one[env]['return']:g} | {source} |")
    suites = {label: s for label, s in scores.items() if s.shape[1] >= PROFILE_MIN_ENVS}
    if not suites:
        print(f"no performance_profile.png: no script and variant ran {PROFILE_MIN_ENVS} envs or more\n")
        return lines + [""]
    plot_profiles(suites, os.path.join(out, "performance_profile.png"))
    return lines + ["", f"The performance profile shows the groups that ran {PROFILE_MIN_ENVS} envs or more.", "",
                    "![performance profile](performance_profile.png)", ""]  # fmt: skip


def plot_profiles(scores, path):
    """The performance profile: the fraction of runs x envs whose normalised score exceeds tau, with 95% CIs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from rliable import library as rly
    from rliable import plot_utils

    top = max(1.5, max(float(s.max()) for s in scores.values()))
    taus = np.linspace(min(0.0, min(float(s.min()) for s in scores.values())), top, 101)
    profiles, cis = rly.create_performance_profile(scores, taus)
    fig, ax = plt.subplots(figsize=(7, 4))
    plot_utils.plot_performance_profiles(profiles, taus, performance_profile_cis=cis, ax=ax,
                                         xlabel="normalised score (tau)",
                                         ylabel="fraction of runs with score > tau")  # fmt: skip
    ax.legend(fontsize=7, loc="lower left")  # the profiles' lines carry their group's label
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# scripts tabled side by side
FAMILIES = (("ppo_continuous.py", "trpo_continuous.py"), ("ppo_discrete.py",), ("ppo_atari.py",))


def flag_groups(flags):
    """[[--flag, its values...], ...]: a flag's values are the words after it up to the next --flag."""
    groups = []
    for word in flags:
        if word.startswith("--") or not groups:
            groups.append([word])
        else:
            groups[-1].append(word)
    return groups


def flag_name(word):
    """A flag as tyro reads it: --total_timesteps=5 and --total-timesteps are both --total-timesteps."""
    return word.split("=")[0].replace("_", "-")


def is_default(flags):
    """A run with the script's defaults: no flag but --total-timesteps (--total-timesteps=N, --total_timesteps N)."""
    return all(flag_name(group[0]) == "--total-timesteps" and len(group) <= 2 for group in flag_groups(flags))


def effective_flags(flags):
    """The flags as a script reads them: a flag given twice (--x or --no-x, with '=' or '_' or not) keeps its last
    value, in the place of that last occurrence (tyro's rule)."""
    groups = flag_groups(flags)
    key = lambda word: re.sub(r"^--no-", "--", flag_name(word))
    last = {key(group[0]): i for i, group in enumerate(groups)}
    return [word for i, group in enumerate(groups) if last[key(group[0])] == i for word in group]


def fmt_return(mean, std=None):
    """A return to the precision that matters: whole numbers from 100 up, one decimal below."""
    digits = 0 if abs(mean) >= 100 else 1
    return f"{mean:.{digits}f}" + ("" if std is None else f" ± {std:.{digits}f}")


def over_seeds(runs):
    """summary.md's (training, eval) figures for one env and variant: mean ± std over seeds, with the
    number of seeds behind the eval where not every run has one."""
    finals, evals = [r["final"] for r in runs], [r["eval"] for r in runs if r.get("eval") is not None]
    std = lambda values: np.std(values) if len(values) > 1 else None  # one seed: no spread to show
    training = f"{fmt_return(np.mean(finals), std(finals))} ({len(runs)})" if runs else ""
    evaluated = fmt_return(np.mean(evals), std(evals)) if evals else ""
    evaluated += f" ({len(evals)})" if evals and len(evals) < len(runs) else ""
    return training, evaluated


def summary_lines(runs, reference):
    """summary.md: per family of scripts, one row per env, each script's default runs (training: mean ± std
    over seeds of the last LAST episodes; eval: the mean action) beside the published numbers; then every
    other variant, one line per env."""
    by_script = group(runs)
    lines = ["## Summary", "",
             f"training: mean ± std over seeds (count in brackets) of each run's last {LAST} training episodes; "
             "eval: the final policy's mean action (greedy in ppo_discrete.py, sampled in ppo_atari.py) over "
             "benchmark/evaluate.py's episodes; published: reference.json.", ""]  # fmt: skip
    used_sources = set()
    for family in FAMILIES:
        defaults = {script: {env: [r for v in variants.values() for r in v if is_default(r["flags"])]
                             for env, variants in by_script.get(script, {}).items()}
                    for script in family}  # fmt: skip
        envs = sorted({env for script in family for env, rs in defaults[script].items() if rs})
        if not envs:
            continue
        steps = sorted({fmt_steps(r["steps"]) for script in family for rs in defaults[script].values() for r in rs})
        family = [script for script in family if any(defaults[script].values())]  # none for one that did not run
        lines += [f"### {' and '.join(family)} ({', '.join(steps)} steps)", ""]
        header = ["env"] + [f"{script[:-3]}: {col}" for script in family for col in ("training", "eval", "published")]
        lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for env in envs:
            cells = [env]
            for script in family:
                cells += over_seeds(defaults[script].get(env, []))
                published = reference.get(script, {}).get(env, [])
                used_sources |= {ref["source"] for ref in published}
                cells.append("; ".join(f"{ref['source']} {fmt_return(ref['return'], ref.get('std'))}"
                                       for ref in published))  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    others = [(script, env, variant, rs) for script, envs in sorted(by_script.items())
              for env, variants in sorted(envs.items())
              for variant, rs in sorted(variants.items()) if not is_default(rs[0]["flags"])]  # fmt: skip
    if others:
        lines += ["### Other variants", ""]
        for script, env, variant, rs in others:
            training, evaluated = over_seeds(rs)
            evaluated = f", eval {evaluated}" if evaluated else ""
            lines.append(f"- {script} `{' '.join(effective_flags(rs[0]['flags']))}`, {env}: {training}{evaluated}")
        lines.append("")
    sources = reference.get("sources", {})
    if used_sources:  # none where no reported env has a published figure
        lines += ["Published sources:", ""] + [f"- {key}: {sources.get(key, key)}" for key in sorted(used_sources)]
    return lines + [""]


def runs_summary(runs):
    """runs.json: what each reported run ended with, one entry per run. A number that is not finite (the SPS of a
    run that logged none, an eval.json's nan) is null: JSON has no NaN, and a strict reader refuses one."""
    keys = ("script", "variant", "env_id", "seed", "flags", "final", "final_last100", "eval", "episodes", "steps",
            "wall_time", "sps")  # fmt: skip
    order = sorted(runs, key=lambda r: (r["script"], r["variant"], r["env_id"], r["seed"]))
    number = lambda v: None if isinstance(v, float) and not math.isfinite(v) else v  # noqa: E731
    return [{k: number(run[k]) for k in keys} for run in order]


def shown(text):
    """text as one line that any terminal prints as it is: a newline, an escape or a byte not UTF-8 (of a handed
    directory's name, say) shown escaped."""
    return re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", lambda c: ascii(c[0])[1:-1], text)


def fail(message, code=2):
    """A bad option: one line, headed by the program's name, and exit code 2 (or `code`, for a failure that is not
    a bad option). Every tool in benchmark/ fails through this function and parses with OneLineParser."""
    print(f"{os.path.basename(sys.argv[0])}: error: {shown(message)}", file=sys.stderr)
    sys.exit(code)


def reference_problem(reference):
    """What in a --reference file is not shaped as benchmark/reference.json is (a figure that is not a finite
    number, a section that is not an object, a normalising figure (nearly) equal to the random policy's), or None."""
    finite = lambda x: type(x) in (int, float) and abs(x) <= 1e308  # noqa: E731  (not nan; a bool is no figure)
    if not isinstance(reference, dict):
        return "not a JSON object"
    for key, section in reference.items():
        if key == "_about":
            continue
        if not isinstance(section, dict):
            return f"its {key[:80]} is not an object"
        for name, entry in section.items():
            if key == "sources":  # one cell of a markdown table
                fits = isinstance(entry, str) and not re.search(r"[|\x00-\x1f]", entry)
            elif key in ("random_policy", "table1"):
                fits = finite(entry)
            elif key == "normalised_one":
                fits = isinstance(entry, dict) and finite(entry.get("return")) and isinstance(entry.get("source"), str)
            else:  # a script's published figures on one env
                fits = isinstance(entry, list) and all(
                    isinstance(e, dict) and finite(e.get("return")) and finite(e.get("steps"))
                    and finite(e.get("std", 0.0)) and isinstance(e.get("source"), str) for e in entry)  # fmt: skip
            if not fits:
                shape = "one line without |" if key == "sources" else "a finite figure"
                return f"its {key[:80]} entry {name[:80]!r} is not {shape} as benchmark/reference.json has it"
    one, zero = reference.get("normalised_one", {}), reference.get("random_policy", {})
    for env in sorted(set(one) & set(zero)):
        if abs(one[env]["return"] - zero[env]) < 1e-6:  # no scale: 5e-324 apart, every score is infinite
            return f"its normalised_one and random_policy of {env[:80]} are equal or nearly: no scale between them"
    return None


def run_main(main):
    """A tool's main(), where a write that fails (no permission, a full disk, a directory where a file goes) ends
    in one line, not a traceback: the runs it reads were checked before anything was written."""
    try:
        main()
    except OSError as e:
        where = f" {e.filename}" if e.filename else ""
        fail(f"cannot write{where} ({e.strerror or e}): pass an --out you can write to, on a disk with free space")


class OneLineParser(argparse.ArgumentParser):
    def error(self, message):  # argparse's usage block and message, as one line
        fail(f"{message}: see `python benchmark/{self.prog} --help`")


def read_options(description, outputs, runs_dir_hint):
    """report.py's and table1.py's command line: the options checked (each bad one is a line and exit code 2),
    the reference read and the runs loaded, a line for each run left out. Returns (args, runs, reference)."""
    parser = OneLineParser(description=description)
    parser.add_argument("runs_dir")
    parser.add_argument("--out", help=f"where {outputs} go (default: RUNS_DIR/report)")
    parser.add_argument("--reference", default=os.path.join(HERE, "reference.json"),
                        help="published scores to compare with (default: benchmark/reference.json)")
    parser.add_argument("--include-unfinished", action="store_true", help="also report runs without a `done` file")
    parser.add_argument("--seeds", type=int, nargs="+", help="report only these seeds' runs (default: every seed)")
    parser.add_argument("--bootstrap-reps", type=int, default=BOOTSTRAP_REPS,
                        help=f"bootstrap resamples for the confidence intervals (default: {BOOTSTRAP_REPS})")
    args = parser.parse_args()
    if not os.path.isdir(args.runs_dir):
        fail(f"no directory {args.runs_dir}: pass {runs_dir_hint}")
    if args.bootstrap_reps < 1:
        fail(f"--bootstrap-reps {args.bootstrap_reps}: pass at least 1 (the default is {BOOTSTRAP_REPS})")
    args.out = args.out or os.path.join(args.runs_dir, "report")
    if os.path.exists(args.out) and not os.path.isdir(args.out):
        fail(f"cannot make the --out directory {args.out} (a file stands there): pass a directory")
    try:
        reference = read_json(os.path.realpath(args.reference), 16 * SMALL)  # not a pipe, nor a huge file
        problem = reference_problem(reference)
        if problem:
            raise ValueError(problem)
    except (OSError, ValueError, RecursionError) as e:
        fail(f"cannot read --reference {args.reference} ({getattr(e, 'strerror', None) or e}): pass a JSON file "
             "like benchmark/reference.json")
    skipped = []
    runs = load_runs(args.runs_dir, args.include_unfinished, skipped)
    for path, reason in skipped:
        print(shown(f"left out {os.path.relpath(path, args.runs_dir)}: {reason}"))
    if args.seeds and runs:
        others = [run for run in runs if run["seed"] not in args.seeds]
        runs = [run for run in runs if run["seed"] in args.seeds]
        print(f"left out {len(others)} runs of other seeds than --seeds {' '.join(map(str, args.seeds))}")
        if not runs:
            fail(f"no finished runs of --seeds {' '.join(map(str, args.seeds))} under {args.runs_dir}: pass seeds "
                 f"that ran ({', '.join(map(str, sorted({run['seed'] for run in others})))})")
    if not runs:
        fail(f"no runs under {args.runs_dir}: pass the runs directory of a sweep (benchmark/sweep.py --runs-dir)"
             if args.include_unfinished else
             f"no finished runs under {args.runs_dir}: run benchmark/sweep.py first (or pass --include-unfinished)")
    return args, runs, reference


def make_out(out):
    """The --out directory, made once the runs have passed their checks. A symbolic link at --out, or among its
    files, is refused: writing through it would write elsewhere (a handed runs directory's report/, say); so are a
    file there with other names (a hard link: its other names would change too) and a pipe or device (a write
    would block or go elsewhere)."""
    try:
        os.makedirs(out, exist_ok=True)
    except OSError as e:
        fail(f"cannot make the --out directory {out} ({e.strerror}): pass a directory that can be made")
    for path in [out] + glob.glob(os.path.join(glob.escape(out), "*")):
        info = os.lstat(path)
        if stat.S_ISLNK(info.st_mode):
            what = "a symbolic link"
        elif stat.S_ISREG(info.st_mode) and info.st_nlink > 1:
            what = "a file with other names (a hard link)"
        elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
            what = "not a regular file"
        else:
            continue
        fail(f"{path} is {what}, which the report would write through: remove it or pass another --out")


def main():
    args, runs, reference = read_options(__doc__.split("\n\n")[0], "the tables and plots",
                                         "the runs directory of a sweep (benchmark/sweep.py's --runs-dir, "
                                         "benchmark/runs by default)")
    out = args.out
    make_out(out)
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
    groups, left_out = normalised_scores(runs, reference)
    for label, reason in left_out:
        print(shown(f"aggregate: left out of {label}: {reason}"))
    if not groups:
        print("no aggregate.md: no run is on an env with both a random-policy figure and a normalised_one figure "
              "in --reference")
    else:
        lines = aggregate_lines(groups, reference, out, reps=args.bootstrap_reps)
        with open(os.path.join(out, "aggregate.md"), "w") as f:
            f.write("\n".join(lines))
        print("\n".join(lines))
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write("\n".join(summary_lines(runs, reference)))
    with open(os.path.join(out, "runs.json"), "w") as f:
        json.dump(runs_summary(runs), f, indent=1, allow_nan=False)
    print(f"wrote {out}")


if __name__ == "__main__":
    run_main(main)

"""Evaluate every finished run of a sweep as RL Zoo and sb3-contrib report their results: the run's final
checkpoint, acting with the mean action (the greedy one for discrete actions; Atari samples), over N
episodes on a fresh env seeded 0 (the script's own --eval-checkpoint seeds the env with its --seed, 1 unless
given: other episodes, so its mean differs a little from this one).

    python benchmark/evaluate.py benchmark/runs --episodes 10 --workers 2

Each run gets eval.json in its directory (the episodes' returns and their mean); a run that has one is
skipped, so the command resumes. benchmark/report.py shows the mean over seeds beside the training
figure. The training figure (the last training episodes, actions sampled) is the one CleanRL, Tianshou
and openai/baselines report; this one is RL Zoo's and sb3-contrib's.
"""

import glob
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from report import OneLineParser, fail, read_json, shown  # beside this file: one-line errors, as every tool here
from sweep import is_done, write_json  # beside this file: renamed into place, never written through a planted link

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ("ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py")  # all it ever runs


def finished_runs(runs_dir, unreadable, unfinished):
    """(run directory, run.json) of every run with a `done` file; a run.json that cannot be read (cut short,
    say) is appended to `unreadable` instead, and a run without `done` to `unfinished`."""
    out = []
    for path, dirs, files in os.walk(runs_dir):
        if "run.json" in files + dirs:  # a directory named run.json is a run whose run.json cannot be read
            dirs[:] = []
            if not is_done(path):  # as the sweep reads it: a link to nothing is not done
                unfinished.append(path)
            else:
                try:  # a regular file of at most 1 MiB: a pipe would never end, a huge one would fill memory
                    out.append((path, read_json(os.path.join(path, "run.json"))))
                except (OSError, ValueError, RecursionError):
                    unreadable.append(path)
    return sorted(out)


def final_checkpoint(path, run):
    """The checkpoint the run wrote at its end: runs/<run name>/<exp name>.pt in its directory."""
    exp_name = run["script"][: -len(".py")]
    flags = run.get("flags") if isinstance(run.get("flags"), list) else []
    if "--exp-name" in flags[:-1]:
        exp_name = str(flags[flags.index("--exp-name") + 1])
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", exp_name):  # one name: the glob stays in the run's directory
        return None
    found = sorted(glob.glob(os.path.join(glob.escape(os.path.abspath(path)), "runs", "*", f"{exp_name}.pt")))
    return found[-1] if found else None


def evaluate(path, run, episodes):
    """Runs the project's script that run.json names (by name: nothing else is ever run) with --eval-checkpoint
    on the run's checkpoint, in a scratch directory so that its eval log stays out of the run's own, and writes
    eval.json. The env is the checkpoint's: a `module:` env id in a handed file is never imported. Returns a
    line for the console."""
    if not isinstance(run, dict) or run.get("script") not in SCRIPTS:  # a name, never a path from the file
        return f"failed {path}: its run.json names no script of this project ({', '.join(SCRIPTS)})"
    checkpoint = final_checkpoint(path, run)
    if checkpoint is None:
        return f"skipped {path}: no checkpoint (run with --checkpoint-every 0, or it was removed)"
    with tempfile.TemporaryDirectory() as scratch:
        proc = subprocess.run(
            [sys.executable, os.path.join(ROOT, run["script"]),
             "--eval-checkpoint", checkpoint, "--eval-episodes", str(episodes), "--seed", "0"],
            cwd=scratch, capture_output=True, text=True, errors="replace",  # a path not UTF-8 in its lines
        )  # fmt: skip
    found = re.search(r"^episodes: (.*)$", proc.stdout, re.MULTILINE)
    if proc.returncode != 0 or not found:
        return f"failed {path}: {(proc.stderr.strip().splitlines() or ['no output'])[-1]}"
    returns = [float(x) for x in found.group(1).split(", ")]
    try:
        write_json(os.path.join(path, "eval.json"), {"episodes": len(returns), "returns": returns,
                                                     "mean": sum(returns) / len(returns),
                                                     "checkpoint": os.path.relpath(checkpoint, path)})  # fmt: skip
    except OSError as e:  # a read-only run, a full disk, a directory where the file goes
        return f"failed {path}: cannot write its eval.json ({e.strerror or e}): make the run's directory writable"
    return f"eval   {path}: {sum(returns) / len(returns):.1f} over {len(returns)} episodes"


def main():
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs_dir")
    parser.add_argument("--episodes", type=int, default=10,
                        help="episodes per run (default: 10; RL Zoo's benchmark uses 10 or more)")
    parser.add_argument("--workers", type=int, default=os.cpu_count(),
                        help="evaluations at a time (default: one per core)")
    args = parser.parse_args()
    if not os.path.isdir(args.runs_dir):
        fail(f"no directory {args.runs_dir}: pass the runs directory of a sweep")
    if args.episodes < 1 or args.workers < 1:
        fail("--episodes and --workers must be at least 1")
    unreadable, unfinished = [], []
    finished = list(finished_runs(args.runs_dir, unreadable, unfinished))
    if not (finished or unreadable or unfinished):  # no run.json at all: not a sweep's directory
        fail(f"no runs under {args.runs_dir}: pass the runs directory of a sweep (benchmark/sweep.py --runs-dir)")
    todo = [(path, run) for path, run in finished if not os.path.lexists(os.path.join(path, "eval.json"))]
    left = f" ({len(unfinished)} not finished, left out: the sweep's command finishes them)" if unfinished else ""
    print(f"{len(todo)} run{'' if len(todo) == 1 else 's'} to evaluate{left}", flush=True)
    failed = [f"failed {path}: its run.json cannot be read: move its directory away and run the sweep's command again"
              for path in sorted(unreadable)]  # fmt: skip
    print("".join(shown(line) + "\n" for line in failed), end="", flush=True)
    try:
        with ThreadPoolExecutor(args.workers) as pool:
            for line in pool.map(lambda item: evaluate(*item, args.episodes), todo):
                print(shown(line), flush=True)
                failed += [line] if line.startswith("failed") else []
    except KeyboardInterrupt:  # Ctrl-C reaches the evaluations too; map() cancels those not started
        print("interrupted: finished evaluations keep their eval.json; run the same command again to resume",
              flush=True)
        raise SystemExit(130)
    if failed:  # the others kept their eval.json; the exit code says that not all of them did
        print(f"{len(failed)} evaluations failed (above); the others are done", flush=True)
        raise SystemExit(1)


if __name__ == "__main__":
    main()

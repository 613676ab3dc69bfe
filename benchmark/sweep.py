"""Run a sweep: one script over env ids x seeds (x flag variants), on this machine or on a Slurm cluster.

    python benchmark/sweep.py --script ppo_continuous.py --env-ids HalfCheetah-v4 Hopper-v4 --seeds 1 2 3 \
        --workers 2 -- --total-timesteps 1000000
    python benchmark/sweep.py --preset mujoco
    python benchmark/sweep.py --preset table1 --backend slurm --slurm-cpus-per-task 1 --slurm-mem 4G \
        --slurm-time 4:00:00

Everything after `--` is passed to every run (except --env-id and --seed, which the sweep sets, --resume,
--eval-checkpoint, --help and tyro's --tyro-* flags); the project's four scripts' own checks read it, and each
env id, before any run starts, so that a bad value or a misspelt env id is one line, not every run failed.
Each run has its own directory, RUNS_DIR/<script>/<variant>/<env id>/seed<S>/, holding run.json (what runs),
log.txt (its output, headed by the command as a shell would take it back), the script's tensorboard events under
runs/, `done` once it exited with code 0 (`failed` otherwise), and .lock, which the process that runs it holds for
as long as it lives (run_task, and the training script, which inherits it): a run is alive exactly while its lock
is held, whoever started it. A sweep never touches a live run's directory, nor deletes a checkpoint: what an
attempt left that cannot be resumed moves to previous/, and so does all a run left, done or not, when its run.json
names other flags (a recipe edited since it ran). Running the same sweep again skips the runs that are done,
continues each interrupted run from the checkpoint it left (the scripts write one every --checkpoint-every
iterations and when stopped, and `--resume` continues it), and starts the others afresh, so a sweep killed at any
moment loses at most a few minutes of each run's work.
`python benchmark/report.py RUNS_DIR` reads the results, whichever backend produced them.
"""

import argparse
import contextlib
import fcntl
import glob
import hashlib
import importlib
import io
import json
import os
import platform
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time


def _stopped_early(sig, _frame):  # until the sweep's own handlers are set: the imports below take seconds
    if "--run-task" not in sys.argv:  # a worker ends without a word: the sweep it belongs to says it
        print("sweep.py: stopped; the same command goes on from where the runs are", file=sys.stderr, flush=True)
    os._exit(128 + sig)


for _sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP) if __name__ == "__main__" else ():  # not in evaluate.py
    signal.signal(_sig, _stopped_early)

# beside this file: a run's flags as its script reads them, and the one-line errors of every tool here
from report import OneLineParser, effective_flags, fail, flag_groups, read_json, regular

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Other projects' scripts, run as they are to be measured beside ours (--script cleanrl_ppo_atari.py); CleanRL's
# are written there by the command FETCH_BASELINES
BASELINES = os.path.join(ROOT, "benchmark", "baselines")
FETCH_BASELINES = "python benchmark/baselines/fetch.py"
# Experiments: a script of ours run a changed way, to measure one difference (--script wrapper_stack.py)
EXPERIMENTS = os.path.join(ROOT, "benchmark", "experiments")
# The nine MuJoCo tasks the PPO and TRPO references publish (Tianshou has all nine). CleanRL also publishes
# Pusher-v4, which gymnasium runs only on mujoco below 3 (the pins have 4).
MUJOCO = ["HalfCheetah-v4", "Hopper-v4", "Walker2d-v4", "Ant-v4", "Humanoid-v4", "Swimmer-v4", "Reacher-v4",
          "InvertedPendulum-v4", "InvertedDoublePendulum-v4"]  # fmt: skip
# The paper's Table 1 used these seven MuJoCo tasks (-v1 then; -v4 here), 1M steps, 3 seeds.
TABLE1_ENVS = ["HalfCheetah-v4", "Hopper-v4", "InvertedDoublePendulum-v4", "InvertedPendulum-v4", "Reacher-v4",
               "Swimmer-v4", "Walker2d-v4"]  # fmt: skip
ONE_M = ["--total-timesteps", "1000000"]
# The paper's Table 1 protocol (benchmark/README.md, "The PPO paper's Table 1"): Table 3's settings, and where
# Table 3 is silent, what the code released with the paper did: a constant step size, a value loss without
# clipping, raw rewards, advantages normalised over the batch, no gradient clipping.
TABLE1 = ONE_M + ["--no-anneal-lr", "--no-clip-vloss", "--no-scale-reward", "--norm-adv-batch", "--max-grad-norm", "0"]
# The same objectives under the protocol of ppo2 as first released (Nov 2017), whose 1M-step numbers are close to
# the paper's Figure 3: the script's defaults (reward scaling, value clipping, per-minibatch advantage
# normalisation, gradient clipping 0.5) with a constant step size.
PPO2 = ONE_M + ["--no-anneal-lr"]
OBJECTIVES = ([["--loss", "none"]] + [["--loss", "clip", "--clip-coef", eps] for eps in ("0.1", "0.2", "0.3")]
              + [["--loss", "kl-adaptive", "--kl-adaptive-target", d] for d in ("0.003", "0.01", "0.03")]
              + [["--loss", "kl-fixed", "--kl-beta", b] for b in ("0.3", "1", "3", "10")])  # fmt: skip
# Recipes for tasks outside the paper's MuJoCo settings, one per env: (script, flags). Each is RL Zoo's PPO
# hyperparameters for the task (hyperparams/ppo.yml) written as the scripts' flags: SB3's batch_size B is
# --num-minibatches = num_envs x num_steps / B; SB3 keeps the step size constant and clips no value loss. What
# Zoo uses and the scripts lack (gSDE on Pendulum and MountainCarContinuous) is said in benchmark/notes/recipes.md.
ZOO_LUNAR = ["--num-envs", "16", "--num-steps", "1024", "--num-minibatches", "256", "--update-epochs", "4",
             "--gamma", "0.999", "--gae-lambda", "0.98", "--ent-coef", "0.01", "--learning-rate", "3e-4"]
NO_SCHEDULE = ["--no-anneal-lr", "--no-clip-vloss"]
RECIPES = {
    "Pendulum-v1": ("ppo_continuous.py", ["--total-timesteps", "200000", "--num-envs", "4", "--num-steps", "1024",
                                          "--num-minibatches", "64", "--gamma", "0.9", "--learning-rate", "1e-3"]
                    + NO_SCHEDULE),
    "LunarLander-v3": ("ppo_discrete.py", ONE_M + ZOO_LUNAR + NO_SCHEDULE),
    "LunarLanderContinuous-v3": ("ppo_continuous.py", ONE_M + ZOO_LUNAR + NO_SCHEDULE),
    "BipedalWalker-v3": ("ppo_continuous.py", ["--total-timesteps", "5000000", "--num-envs", "32", "--num-steps",
                                               "2048", "--num-minibatches", "1024", "--gamma", "0.999",
                                               "--clip-coef", "0.18"] + NO_SCHEDULE),
    "MountainCarContinuous-v0": ("ppo_continuous.py", ["--total-timesteps", "100000", "--num-steps", "8",
                                                       "--num-minibatches", "1", "--gamma", "0.9999", "--gae-lambda",
                                                       "0.9", "--ent-coef", "0.00429", "--learning-rate", "7.77e-5",
                                                       "--clip-coef", "0.1", "--max-grad-norm", "5", "--vf-coef",
                                                       "0.19"] + NO_SCHEDULE),
}  # fmt: skip
PRESETS = {
    "mujoco": dict(script="ppo_continuous.py", env_ids=MUJOCO, seeds=[1, 2, 3], variants=[ONE_M]),
    "classic": dict(
        script="ppo_discrete.py", env_ids=["CartPole-v1", "Acrobot-v1", "MountainCar-v0", "LunarLander-v3"],
        seeds=[1, 2, 3],
        variants=[["--total-timesteps", "500000"]],
    ),  # fmt: skip
    "atari": dict(
        script="ppo_atari.py", env_ids=["BreakoutNoFrameskip-v4", "PongNoFrameskip-v4", "BeamRiderNoFrameskip-v4"],
        seeds=[1, 2, 3],
        variants=[["--total-timesteps", "10000000"]],
    ),  # fmt: skip
    "trpo-mujoco": dict(script="trpo_continuous.py", env_ids=MUJOCO, seeds=[1, 2, 3], variants=[ONE_M]),
    "table1": dict(script="ppo_continuous.py", env_ids=TABLE1_ENVS, seeds=[1, 2, 3],
                   variants=[objective + TABLE1 for objective in OBJECTIVES]),
    "table1-ppo2": dict(script="ppo_continuous.py", env_ids=TABLE1_ENVS, seeds=[1, 2, 3],
                        variants=[objective + PPO2 for objective in OBJECTIVES]),
    "recipes": dict(recipes=RECIPES, seeds=[1, 2, 3]),
}


def variant_name(flags):
    """A directory name for a list of flags: readable, and short enough for any filesystem."""
    if not flags:
        return "default"
    # a flag loses its dashes, a value keeps its sign: --init-logstd -0.5 and --init-logstd 0.5 differ
    name = re.sub(r"[^A-Za-z0-9_.=-]+", "_", "_".join(re.sub(r"^-+(?=[A-Za-z])", "", f) for f in flags))
    name = "_" + name if name in (".", "..") else name  # a directory of its own, never the one above
    return name if len(name) <= 80 else name[:60] + "_" + hashlib.sha1(name.encode()).hexdigest()[:8]


def plan(script, env_ids, seeds, variants, recipes=None):
    """Every run of the sweep as a dict: script, env_id, seed, flags, variant; seed by seed, so that the first
    seed of every env and variant runs before any second seed (a first complete table comes early).

    recipes (env id: (script, flags)) gives each env its own script and flags instead of `script`; a variant's flags
    come after the recipe's and override them, and a recipe shortened so gets its own directory (recipe_<flags>)."""

    def setup(env_id, flags):  # each flag once: a preset's value overridden after `--` leaves the run's name too
        if recipes is None:
            flags = effective_flags(flags)
            return dict(script=script, flags=flags, variant=variant_name(flags))
        own_script, own_flags = recipes[env_id]
        return dict(script=own_script, flags=effective_flags(own_flags + flags),
                    variant=variant_name(["recipe", *effective_flags(flags)]))

    return [dict(env_id=env_id, seed=seed, **setup(env_id, flags)) for seed in seeds for flags in variants
            for env_id in env_ids]  # fmt: skip


def run_dir(runs_dir, run):
    env_dir = run["env_id"].replace("/", "_")
    return os.path.join(runs_dir, run["script"][: -len(".py")], run["variant"], env_dir, f"seed{run['seed']}")


def is_done(path):
    return os.path.exists(os.path.join(path, "done"))


def write_json(path, value):
    """Written to a temporary file, then renamed: a reader never sees half a file. The temporary file is made
    anew (O_EXCL), so that a link or a file planted under its name is never written through."""
    with contextlib.suppress(FileNotFoundError):
        os.remove(path + ".tmp")  # what an interrupted write left; a link is removed, not what it points to
    with open(path + ".tmp", "x") as f:
        json.dump(value, f, indent=1)
    os.replace(path + ".tmp", path)


# A run's directory as the sweep and the script make it: what each of its own names must be
RUN_DIR_NAMES = {"previous": "a directory", "runs": "a directory", "run.json": "a file", "log.txt": "a file",
                 "done": "a file", "failed": "a file", ".lock": "a file", "run.json.tmp": "a file",
                 "done.tmp": "a file", "failed.tmp": "a file"}


def foreign_entry(path):
    """A handed run directory: one line naming what in it the sweep must not write through or into (a link,
    anywhere in it, would have the run's files written outside --runs-dir; one of the sweep's own names of
    the wrong kind would end it in a traceback), or None. wandb/ (a run with --track) is W&B's own: it makes links
    there itself, and only a --track on the sweep's command line has W&B write in it."""
    for top, dirs, files in os.walk(path):  # links to directories are listed, not followed
        if top == path or os.path.dirname(top) == os.path.join(path, "previous"):  # not walked into: W&B's folder,
            # or one set aside with an earlier attempt (a link there, in its place, is still refused)
            dirs[:] = [name for name in dirs if name != "wandb" or os.path.islink(os.path.join(top, name))]
        for name in dirs + files:
            if os.path.islink(os.path.join(top, name)):
                return (f"{os.path.join(top, name)} is a symbolic link: a sweep writes only inside --runs-dir; remove "
                        "the link")
    for name, kind in RUN_DIR_NAMES.items():
        entry = os.path.join(path, name)
        if os.path.lexists(entry) and os.path.isdir(entry) != (kind == "a directory"):
            return f"{entry} is not {kind}, which the sweep keeps there: move it away"
    return None


def planted(path):
    """A link at a run's directory or at one of the three folders above it inside --runs-dir, planted since the sweep
    looked (the run's files would be written elsewhere), as one line; or None."""
    above = path.rstrip(os.sep)
    for _ in range(4):  # RUNS_DIR/script/variant/env/seedN
        if os.path.islink(above):
            return f"{above} is a symbolic link: a sweep writes only inside --runs-dir; remove the link"
        above = os.path.dirname(above)
    return None


def checkpoint_format(script):
    """The checkpoint format the project's script writes now (run_management.py's CHECKPOINT_FORMAT, which all
    four scripts import), or None for a script that is not the project's."""
    if not os.path.isfile(os.path.join(ROOT, script)):
        return None
    try:
        with open(os.path.join(ROOT, "run_management.py")) as f:
            found = re.search(r"^CHECKPOINT_FORMAT = (\d+)", f.read(), re.M)
    except OSError:
        return None
    return int(found.group(1)) if found else None


def newest_checkpoint(path, script, run=None):
    """The newest checkpoint an attempt of this run of `script` left that is the run's (the scripts write one every
    --checkpoint-every iterations, when stopped and at the end), as (its absolute path, whether it is of the
    run's last iteration, its step); None if there is none. One is not the run's if it cannot be read, an older
    version of the script wrote it, or (given run.json's `run`) its flags are not the run's: copied in from another
    run, of another script, env, seed or total (--resume would refuse it, and the run would fail at every attempt,
    or a finished one would pass for this run's end)."""
    import torch

    found = glob.glob(os.path.join(glob.escape(path), "runs", "*", "*.pt"))  # escaped: a [ in --runs-dir is a name
    found = [p for p in found if regular(p)]  # a pipe would block
    written = checkpoint_format(script)  # the format the script writes now (None: not one of the four)
    expected = run_args(script, run) if run is not None and written is not None else None
    for checkpoint in sorted(found, key=os.path.getmtime, reverse=True):  # newest first: a damaged one is passed by
        try:
            state = torch.load(checkpoint, map_location="cpu", weights_only=True)
            saved = state["args"]
            iterations = saved["total_timesteps"] // (saved["num_envs"] * saved["num_steps"])
            finished, step = state["training"]["iteration"] >= iterations, int(state["training"]["global_step"])
            current = state.get("format") == written
        except Exception:  # unreadable, or no training state
            continue
        ours = run is None or expected is not None and all(
            name in saved and saved[name] == value for name, value in expected.items())  # fmt: skip
        if current and ours:
            return os.path.abspath(checkpoint), finished, step
    return None


def run_args(script, run):
    """The flags that decide a run of one of the project's scripts, as the script parses run.json's env, seed and
    flags: {name: value}, leaving out those a --resume may change but the total; None if they do not parse."""
    import dataclasses

    import tyro

    if ROOT not in sys.path:
        sys.path.insert(0, ROOT)
    module = importlib.import_module(script[: -len(".py")])  # one of the four: its main is not run
    flags = ["--env-id", str(run["env_id"]), "--seed", str(run["seed"]), *map(str, run["flags"])]
    try:
        with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
            args = tyro.cli(module.Args, args=flags, console_outputs=False)
    except (SystemExit, Exception):  # noqa: BLE001  (flags the script refuses: its run fails in one line)
        return None
    free = (module.run_management.MAY_CHANGE | module.MAY_CHANGE) - {"total_timesteps"}
    return {name: value for name, value in dataclasses.asdict(args).items() if name not in free}


def last_checkpoint(path, script):
    """The checkpoint to resume: the newest one, unless it is of a finished run (its `done` marker lost)."""
    newest = newest_checkpoint(path, script)
    return newest[0] if newest and not newest[1] else None


def hold(path):
    """The run's lock (an flock on its .lock), as a file descriptor, or None if a live process holds it. The
    descriptor goes to the training script too (pass_fds), so the lock lasts while either of them lives."""
    fd = os.open(os.path.join(path, ".lock"), os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def is_running(path):
    """Whether a process runs the run now: one holds its lock."""
    if not os.path.exists(os.path.join(path, ".lock")):
        return False
    try:
        fd = hold(path)
    except OSError:  # a link planted at .lock since the sweep looked: no process holds it; run_task says so
        return False
    if fd is None:
        return True
    os.close(fd)
    return False


def prepare(path, run):
    """Writes the run's run.json (atomically), unless it already describes this run: a sweep continued from another
    clone or machine leaves it, and the command it was first run with, as they were. Under the run's lock: a run
    that another process holds (a second sweep on the same directory, preparing or running it) is left to it. The
    rest of a new attempt's set-up happens in run_task, under the lock too. An earlier attempt's `failed` goes: a
    Slurm follower would read it as this attempt's."""
    os.makedirs(path, exist_ok=True)
    lock = hold(path)
    if lock is None:
        return
    try:
        try:
            kept = read_json(os.path.join(path, "run.json"))
            kept = {key: value for key, value in kept.items() if key != "command"} if isinstance(kept, dict) else None
            same = json.dumps(kept, sort_keys=True) == json.dumps(run, sort_keys=True)  # 1.0 or true is not 1
        except (OSError, ValueError, RecursionError):  # none yet, or unreadable: written anew
            same = False
        if not same:
            write_json(os.path.join(path, "run.json"), {**run, "command": command_of(run)})
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(path, "failed"))
    finally:
        os.close(lock)


def command_of(run):
    """The command that runs `run` (run.json's fields): one of the sweep's scripts by name, its env id, seed and
    flags; never a program or path that a run.json names (run_task reads run.json again when it starts)."""
    words, script = [run["env_id"], str(int(run["seed"])), *run["flags"]], run["script"]
    if not isinstance(run["flags"], list) or not all(isinstance(w, str) and "\0" not in w for w in words):
        raise TypeError("its env id and flags are not all text")
    if script not in own_scripts() + experiment_scripts() + baseline_scripts() or refused(run["flags"]):
        raise ValueError(f"script {script!r} with flags {run['flags']!r} is not a run the sweep makes")
    return [sys.executable, script_path(script), "--env-id", run["env_id"], "--seed", str(run["seed"]), *run["flags"]]


def refused(flags):
    """The first flag after `--` that the sweep does not pass on, as one line; or None."""
    for name in (flag.split("=")[0] for flag in flags):
        said = name.replace("_", "-").lower()
        if said in ("--env-id", "--seed"):  # tyro takes the last of a flag given twice: every seed would run one
            return f"{name} after `--`: the sweep sets each run's env and seed; pass --env-ids and --seeds"
        if said in ("--resume", "--eval-checkpoint"):  # every run would resume (or only evaluate) one checkpoint
            return f"{name} after `--`: the sweep resumes each run from its own checkpoint; leave {name} out"
        if said.startswith("--tyro"):  # tyro's own flags (shell completion) would write or print, in every run
            return f"{name} after `--`: a flag of tyro's own, not a run's; leave it out"
        if said == "--":  # the run's own flags after it (--resume, which the sweep adds) would not be flags
            return "`--` twice: the flags after the first `--` go to every run; give `--` once"
        if said in ("-h", "--help"):  # each run would print its help and be `done`
            return "--help after `--` would go to every run: for the flags a run takes, see `python SCRIPT --help`"
    return None


def set_aside(path, run_json=False):
    """Under the run's lock, when it has no checkpoint to resume: what an earlier attempt left (its log, an
    unreadable checkpoint) moves to previous/<time>/, so the run starts afresh and nothing is deleted. run_json:
    its run.json goes too (it names other flags than the run's now). Returns that folder, or None."""
    left = [name for name in os.listdir(path) if name not in (".lock", "previous") and (run_json or name != "run.json")]
    if left == ["run.json"] or not left:
        return None
    keep = os.path.join(path, "previous", time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}")
    os.makedirs(keep)
    for name in left:
        os.replace(os.path.join(path, name), os.path.join(keep, name))
    return keep


def ran_otherwise(path, run):
    """Whether the run's directory holds the work of other flags or another script than `run`'s (a recipe edited
    since it ran: its name stays `recipe`): its run.json says so. An unreadable run.json says nothing (a
    checkpoint beside it is resumed: the script refuses it in one line if its flags are not the run's)."""
    try:
        earlier = read_json(os.path.join(path, "run.json"))  # none yet, a pipe, a huge file: OSError
        script, flags = earlier["script"], effective_flags(earlier["flags"])
    except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):  # Recursion: nested too deep
        return False
    same = lambda a, b: sorted(map(tuple, flag_groups(a))) == sorted(map(tuple, flag_groups(b)))
    return script != run["script"] or not same(flags, run["flags"])


def script_path(script):
    """One of the project's scripts, an experiment in EXPERIMENTS, or a baseline's file in BASELINES (an
    interrupted experiment or baseline run starts afresh: its checkpoint format is not known here)."""
    for folder in (ROOT, EXPERIMENTS):
        if os.path.exists(os.path.join(folder, script)):
            return os.path.join(folder, script)
    return os.path.join(BASELINES, script)


def own_scripts():
    """The project's scripts, by name: the presets' and any ppo_*.py or trpo_*.py beside them."""
    beside = {f for f in os.listdir(ROOT) if f.startswith(("ppo_", "trpo_")) and f.endswith(".py")}
    return sorted({p["script"] for p in PRESETS.values() if "script" in p} | beside)


def experiment_scripts():
    return sorted(f for f in os.listdir(EXPERIMENTS) if f.endswith(".py"))


def baseline_scripts():
    if not os.path.isdir(BASELINES):
        return []
    return sorted(f for f in os.listdir(BASELINES) if f.endswith(".py") and "ppo" in f)


BUSY = 75  # run_task's exit code when another live process holds the run (EX_TEMPFAIL): left to it
STOPPED = (-signal.SIGTERM, -signal.SIGINT, 143, 130, 129, 138)  # the scripts' exits after a stop signal


def run_task(path):
    """Runs one prepared run (the local workers and each Slurm array task both come here) under its lock: its
    output goes to log.txt, and `done` or `failed` records how it ended. A run that is interrupted records
    nothing; the next attempt (the next sweep, or Slurm's requeue) continues it from its checkpoint. A run that
    another process holds is left to it (exit code BUSY)."""
    if planted(path) or not regular(os.path.join(path, "run.json")):  # nothing made where a sweep did not prepare
        print(planted(path) or f"{path}: no run.json: not a run the sweep prepared; not run", flush=True)
        return 2
    try:
        lock = hold(path)
    except OSError as e:  # a link planted at .lock since the sweep looked (O_NOFOLLOW), or the directory gone
        print(f"{path}: its .lock cannot be opened ({e.strerror}): not run; remove what stands there", flush=True)
        return 2
    if lock is None:
        print(f"{path}: another process runs it; left to it", flush=True)
        return BUSY
    if is_done(path):  # finished by another process since this sweep looked
        return 0
    problem = planted(path) or foreign_entry(path)  # the sweep looked before it started; this task may run days later
    if not problem:
        try:
            run = read_json(os.path.join(path, "run.json"))
            script, command = run["script"], command_of(run)
        except (OSError, ValueError, TypeError, KeyError, RecursionError) as e:
            reason = f"no {e}" if isinstance(e, KeyError) else e
            problem = f"{path}: its run.json cannot be read ({reason}): not run; the sweep's command writes it anew"
    if problem:
        print(problem, flush=True)
        return 2
    with contextlib.suppress(FileNotFoundError):  # an earlier attempt's failure: this attempt's marker is its own
        os.remove(os.path.join(path, "failed"))
    newest = newest_checkpoint(path, script, run)  # read once: (path, finished, step) or None
    if newest and newest[1]:  # its script finished after its task was killed
        write_json(os.path.join(path, "done"), {"returncode": 0, "note": "the script finished; its task had ended"})
        return 0
    if newest:
        command = command + ["--resume", newest[0]]
        print(f"{path}: goes on from its checkpoint at step {newest[2]}", flush=True)
    else:
        set_aside(path)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "PYTHONUNBUFFERED": "1"}
    log_path = os.path.join(path, "log.txt")
    if os.path.lexists(log_path) and (not regular(log_path) or os.lstat(log_path).st_nlink > 1):  # a link is not
        # written through (nor a hard link's other names); a pipe would block
        print(f"{path}: its log.txt is not a regular file of its own (a link or a pipe): not written to", flush=True)
        write_json(os.path.join(path, "failed"), {"returncode": 2, "error": "log.txt is not a regular file"})
        return 2
    with open(log_path, "a") as log:  # an attempt that resumes adds to the log
        begun = log.tell()  # where this attempt's part starts: a failure shows its own end, not an earlier one's
        log.write(shlex.join(command) + "\n")  # as a shell would run it, pasted back
        log.write(f"# on {machine()}\n")  # a seed repeats to the digit on the same kind of machine only
        log.flush()
        proc = subprocess.Popen(command, cwd=path, stdout=log, stderr=subprocess.STDOUT, env=env, pass_fds=(lock,))
        # stopping the task stops the run, whose own handler saves its checkpoint on the way out;
        # USR1 is Slurm's warning before the time limit (sbatch --signal): stop, then requeue. Ctrl-C in
        # the terminal reaches the run itself; the task ignores it and waits (a SIGINT passed on could
        # reach the run after it has saved and given its handlers back, and print a traceback)
        requeue = []
        signal.signal(signal.SIGTERM, lambda *_: proc.terminate())
        signal.signal(signal.SIGHUP, lambda *_: proc.terminate())
        signal.signal(signal.SIGINT, lambda *_: None)
        signal.signal(signal.SIGUSR1, lambda *_: requeue.append(True) or proc.terminate())
        start = time.time()
        code = proc.wait()
    if requeue and os.environ.get("SLURM_ARRAY_JOB_ID"):
        task = f"{os.environ['SLURM_ARRAY_JOB_ID']}_{os.environ['SLURM_ARRAY_TASK_ID']}"
        subprocess.run(["scontrol", "requeue", task], check=False)
    code = 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell says it (a task's exit code)
    if code in STOPPED:
        return code
    marker = os.path.join(path, "done" if code == 0 else "failed")
    try:
        write_json(marker, {"returncode": code, "wall_time": time.time() - start,
                            **({"log_from": begun} if code else {})})  # fmt: skip
    except OSError as e:  # its directory removed or made read-only while it ran
        print(f"{path}: its {os.path.basename(marker)} marker cannot be written ({e.strerror}): was its directory "
              "removed while it ran? The sweep's command runs it again", flush=True)
        return code or 1
    return code


def machine():
    """The CPU and the instruction set torch's kernels run on, for the log: MKL and torch pick their code for the CPU,
    so the same seed takes another path on another kind of machine (benchmark/notes/table1.md)."""
    import torch

    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration), open("/proc/cpuinfo") as f:  # Linux names the model there
        model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    return f"{model}, {os.cpu_count()} CPUs, torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})"


def latest_return(path):
    """The last `return(last 10)=` a running script printed, or None."""
    if not regular(os.path.join(path, "log.txt")):  # not yet written, or a link or a pipe: not read
        return None
    try:
        with open(os.path.join(path, "log.txt"), "rb") as f:
            f.seek(max(0, os.path.getsize(f.name) - 4096))
            found = re.findall(rb"return\(last 10\)=(\S+)", f.read())
    except OSError:
        return None
    return found[-1].decode() if found else None


def log_tail(path, lines=8):
    """The end of log.txt, of the last attempt's part only where its `failed` marker says where that starts."""
    if os.path.lexists(os.path.join(path, "log.txt")) and not regular(os.path.join(path, "log.txt")):
        return "(its log.txt is not a regular file: not read)\n"
    try:
        begun = read_json(os.path.join(path, "failed")).get("log_from")
    except (OSError, ValueError, AttributeError, RecursionError):  # none, or not a dict: the whole log's end
        begun = None
    try:
        with open(os.path.join(path, "log.txt"), "rb") as f:
            f.seek(begun if type(begun) is int and 0 <= begun <= os.fstat(f.fileno()).st_size else 0)
            return "".join(f.read().decode(errors="replace").splitlines(keepends=True)[-lines:])
    except OSError:
        return "(no log.txt: the run never started, or its directory was removed)\n"


class Progress:
    """Prints the sweep's state: a line when a run ends, and every `every` seconds the running runs."""

    def __init__(self, runs_dir, total, every):
        self.runs_dir, self.total, self.every, self.last = runs_dir, total, every, 0.0
        self.done, self.failed, self.left, self.stopped = [], [], [], []

    def finished(self, path, code):
        name = os.path.relpath(path, self.runs_dir)
        if code == 0:
            self.done.append(path)
            print(f"done   {name}", flush=True)
        elif code == BUSY:  # another process started it in the meantime
            self.left.append(path)
            print(f"left   {name}: another process runs it", flush=True)
        elif code in STOPPED:  # its run was stopped from outside the sweep: saved, no marker, resumed next time
            self.stopped.append(path)
            print(f"stopped {name} (exit code {code}): the same command runs it again, from its checkpoint if it "
                  "left one", flush=True)
        else:
            self.failed.append(path)
            print(f"FAILED {name} (exit code {code}); end of {os.path.join(path, 'log.txt')}:", flush=True)
            print("    " + log_tail(path).rstrip().replace("\n", "\n    "), flush=True)

    def show(self, running):
        if time.time() - self.last < self.every:
            return
        self.last = time.time()
        pending = self.total - len(self.done) - len(self.failed) - len(self.left) - len(self.stopped) - len(running)
        counts = f"done {len(self.done)} / running {len(running)} / failed {len(self.failed)} / pending {pending}"
        print(f"[{time.strftime('%H:%M:%S')}] {counts}", flush=True)
        for path in running:
            latest = latest_return(path) or "n/a"
            print(f"    {os.path.relpath(path, self.runs_dir)}: return(last 10) {latest}", flush=True)


CHECKED = ("ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py")  # the project's own


def check_runs(runs, flags):
    """Before anything is written, each run of one of the project's four scripts as that script checks it: its env id
    against gymnasium's registry (as the script's imports fill it) and, when flags follow `--`, its flags read by
    the script's own parser and checks (its Args, its ranges, the batch against its minibatches); a typo then ends
    the sweep in one line instead of failing every run. Only those four are imported here: any other script
    (an experiment, a baseline, a file of the user's) checks its own when it runs, as does an env id
    `module:Name`, whose module is imported from the run's directory."""
    sys.path.insert(0, ROOT)
    ours = {(run["script"], tuple(run["flags"])): run for run in runs if run["script"] in CHECKED}
    module = lambda script: importlib.import_module(script[: -len(".py")])  # noqa: E731  (its main is not run)
    for script, env_id in dict.fromkeys((run["script"], run["env_id"]) for run in runs if run["script"] in CHECKED):
        if ":" not in env_id or env_id.startswith(":"):  # no module to import: the script's line says so
            said_as(f"--env-ids {env_id}: {script}", module(script).run_management.check_env_id, env_id, True)
    for (script, its_flags), run in ours.items() if flags else ():
        manage, argv, sys.argv = module(script).run_management, sys.argv, [sys.argv[0], *its_flags]  # sweep.py's line
        recipe = f" (the recipe for {run['env_id']})" if run["variant"].startswith("recipe") else ""
        try:
            said_as(f"after `--`: {script}{recipe}", lambda: manage.check_args(manage.parse_args(module(script)),
                                                                               None, module(script)))  # fmt: skip
        finally:
            sys.argv = argv


def said_as(prefix, check, *args):
    """Runs one of a script's checks in an empty folder, as a run starts in its own (whose ./videos is its own). The
    one line it would end the script with ends the sweep, after prefix; so does a check that ends otherwise (it
    printed and exited 0, or raised): each run would end so too."""
    said = io.StringIO()
    try:
        with tempfile.TemporaryDirectory() as empty, contextlib.chdir(empty):
            with contextlib.redirect_stderr(said), contextlib.redirect_stdout(said):
                check(*args)
    except SystemExit as e:
        line = said.getvalue().strip().split(": error: ", 1)[-1]  # without the script's name: prefix has it
        fail(f"{prefix}: {line.replace('--env-id with', '--env-ids with')}" if e.code else
             f"{prefix}: the flags end the script before it trains (exit code {e.code}); leave that flag out")
    except Exception as e:  # noqa: BLE001  (whatever a check raises, each run would raise it too)
        fail(f"{prefix}: the script's checks fail on these flags ({type(e).__name__}: {e}); fix the flags after `--`")


def sweep_local(paths, runs_dir, workers, progress):
    """Runs `workers` tasks at a time. Ctrl-C, SIGTERM or SIGHUP to the sweep stops its runs, which save, and
    ends it with 130. The handler only records the signal, and the loop acts on it: an exception raised
    inside the handler could land in Popen.poll() while it holds its lock, and the wait() that follows
    would then never return."""
    pending, running, stop = list(paths), {}, []
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, lambda *_: stop.append(True))
    while (pending or running) and not stop:
        while pending and len(running) < workers:
            path = pending.pop(0)
            running[path] = subprocess.Popen([sys.executable, os.path.abspath(__file__), "--run-task", path])
        time.sleep(0.2)
        for path, proc in list(running.items()):
            if proc.poll() is not None:
                del running[path]
                progress.finished(path, proc.returncode)
        progress.show(running)
    if stop:
        for proc in running.values():
            proc.terminate()
        for proc in running.values():
            proc.wait()
        print("interrupted: finished runs are kept; run the same command again to resume", flush=True)
        raise SystemExit(130)


SBATCH = """#!/bin/bash
# Submitted as: {submitted}
# --requeue: a preempted task runs again; USR1, {grace} s before the time limit, makes the task save and
# requeue itself (run_task). Either way the next attempt continues from the run's checkpoint.
# One array task per run: line TASK_ID+1 of the manifest names its prepared directory. Every value below is
# quoted for the shell; the options are sbatch's arguments, never shell text.
RUN_DIR=$(sed -n "$((SLURM_ARRAY_TASK_ID + 1))p" {manifest})
exec {python} {sweep} --run-task "$RUN_DIR"
"""
QUEUE_TRIES = 10  # squeue calls in a row that may fail before the sweep stops following (the array goes on)


def check_slurm_options(args):
    """Values that go to sbatch: printable, one line each (sbatch reads its options one line at a time)."""
    for name in ("slurm_job_name", "slurm_mem", "slurm_time", "slurm_partition", "runs_dir"):
        value = getattr(args, name)
        if value is not None and not value.isprintable():
            fail(f"--{name.replace('_', '-')} {value!r}: a newline or control character cannot go to sbatch; remove it")


def sweep_slurm(paths, runs_dir, args, progress):
    """Submits the runs as one job array and, unless --no-wait, follows it like the local backend."""
    os.makedirs(os.path.join(runs_dir, "slurm"), exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}"  # two sweeps in one second: two names
    manifest = os.path.abspath(os.path.join(runs_dir, "slurm", f"manifest-{stamp}.txt"))
    with open(manifest, "x") as f:
        f.write("".join(os.path.abspath(p) + "\n" for p in paths))
    options = (("mem", args.slurm_mem), ("time", args.slurm_time), ("partition", args.slurm_partition))
    sbatch = ["sbatch", "--parsable", f"--job-name={args.slurm_job_name}",
              f"--array=0-{len(paths) - 1}" + (f"%{args.workers}" if args.workers else ""),
              f"--cpus-per-task={args.slurm_cpus_per_task}", f"--output={os.path.abspath(runs_dir)}/slurm/%A_%a.out",
              "--open-mode=append", "--requeue", f"--signal=B:USR1@{args.slurm_signal_grace}"]  # fmt: skip
    sbatch += [f"--{key}={value}" for key, value in options if value]
    script = os.path.abspath(os.path.join(runs_dir, "slurm", f"sweep-{stamp}.sbatch"))  # never read as an option
    quote = shlex.quote
    with open(script, "x") as f:
        f.write(SBATCH.format(submitted=shlex.join(sbatch + [script]), grace=args.slurm_signal_grace,
                              manifest=quote(manifest), python=quote(sys.executable),
                              sweep=quote(os.path.abspath(__file__))))  # fmt: skip
    try:
        out = subprocess.run(sbatch + [script], capture_output=True, text=True)
    except OSError as e:
        fail(f"cannot run sbatch ({e}): use --backend slurm where Slurm's commands are installed")
    if out.returncode != 0:
        reason = " ".join(line.replace("sbatch: error: ", "") for line in out.stderr.strip().splitlines())
        fail(f"sbatch refused the job array ({reason}): check the --slurm-* options, and that this machine can submit "
             f"jobs (sinfo), see {script}")
    job = out.stdout.strip().split(";")[0]
    print(f"submitted job array {job}: {len(paths)} tasks, script {script}", flush=True)
    if args.no_wait:
        return
    unfinished, failures, in_queue = set(paths), 0, True
    try:  # until every run has ended and the array has left the queue (a task that wrote its marker may still
        while unfinished or in_queue:  # hold the run's lock while it exits: a sweep started next would skip it)
            time.sleep(args.poll)
            # the user's jobs by array id (%F): a job Slurm has forgotten is absent, not an error as with -j
            queue = subprocess.run(["squeue", "-h", "-u", str(os.getuid()), "-o", "%F"], capture_output=True, text=True)
            if queue.returncode != 0:  # a failed query says nothing about the tasks: ask again
                failures += 1
                reason = queue.stderr.strip().replace("\n", " ") or f"exit code {queue.returncode}"
                print(f"squeue failed ({reason}); {QUEUE_TRIES - failures} more tries", flush=True)
                if failures >= QUEUE_TRIES:
                    print(f"stopped following: squeue failed {failures} times in a row; job array {job} goes on "
                          f"(run the same command again to follow what is left)", flush=True)  # fmt: skip
                    raise SystemExit(1)
                continue
            failures, in_queue = 0, job in queue.stdout.split()
            running = [p for p in paths if p in unfinished and os.path.exists(os.path.join(p, "log.txt"))]
            for path in sorted(unfinished):
                marker = next((m for m in ("done", "failed") if os.path.exists(os.path.join(path, m))), None)
                if marker or not in_queue:  # a task that left the queue without a marker was killed, or left it
                    # no marker, and the lock held: the task left, a process of another attempt runs it
                    code = 0 if marker == "done" else BUSY if not marker and is_running(path) else _failed_code(path)
                    unfinished.discard(path)
                    progress.finished(path, code)
            progress.show([p for p in running if p in unfinished])
    except KeyboardInterrupt:  # only the following stops: the job array goes on in Slurm
        print(f"stopped following; job array {job} goes on (scancel {job} stops it)", flush=True)
        raise SystemExit(130)


def _failed_code(path):
    try:
        return int(read_json(os.path.join(path, "failed"))["returncode"])
    except (OSError, ValueError, TypeError, KeyError, RecursionError):
        return "none: the Slurm task ended without finishing (see RUNS_DIR/slurm/*.out)"


def main(argv):
    flags = []
    if "--" in argv:
        argv, flags = argv[: argv.index("--")], argv[argv.index("--") + 1 :]
    parser = OneLineParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter,
                    usage="%(prog)s [options] [-- FLAGS FOR EVERY RUN]",
                    epilog="Flags after `--` go to every run, after a preset's own: `-- --total-timesteps 1000000`.\n"
                    "The sweep sets --env-id and --seed. Examples: benchmark/README.md.")
    parser.add_argument("--preset", choices=sorted(PRESETS),
                        help="a predefined sweep; the options below override its parts")
    parser.add_argument("--script",
                        help="the script to run, e.g. ppo_continuous.py, an experiment in benchmark/experiments/, "
                        f"or a baseline in benchmark/baselines/ (CleanRL's, after {FETCH_BASELINES})")
    parser.add_argument("--env-ids", nargs="+", help="env ids (default: the preset's)")
    parser.add_argument("--seeds", nargs="+", type=int, help="seeds (default: the preset's, or 1)")
    parser.add_argument("--runs-dir", default=os.path.join("benchmark", "runs"),
                        help="where the runs' directories go (default: benchmark/runs)")
    parser.add_argument("--workers", type=int, help="parallel runs (default: one per core locally; no limit on Slurm)")
    parser.add_argument("--backend", choices=["local", "slurm"], default="local",
                        help="run on this machine, or as one Slurm job array (default: local)")
    parser.add_argument("--status-every", type=float, default=30.0,
                        help="seconds between progress reports (default: 30)")
    parser.add_argument("--slurm-cpus-per-task", type=int, default=1, help="cores per task (default: 1)")
    parser.add_argument("--slurm-mem", help="memory per task, e.g. 4G")
    parser.add_argument("--slurm-time", help="time limit per task, e.g. 2:00:00")
    parser.add_argument("--slurm-partition", help="the partition to submit to (default: the cluster's)")
    parser.add_argument("--slurm-signal-grace", type=int, default=180,
                        help="seconds before the time limit at which a task saves its run and requeues itself "
                        "(default: 180)")
    parser.add_argument("--slurm-job-name", default="ppo-sweep", help="the job array's name (default: ppo-sweep)")
    parser.add_argument("--no-wait", action="store_true", help="Slurm: submit and return instead of following the job")
    parser.add_argument("--poll", type=float, default=5.0, help="Slurm: seconds between queue checks (default: 5)")
    parser.add_argument("--run-task", metavar="RUN_DIR", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_task:
        return run_task(args.run_task)

    preset = PRESETS.get(args.preset, {})
    recipes = preset.get("recipes", {})  # env id: (script, flags)
    if recipes and args.script:
        fail(f"--preset {args.preset} runs each env's own script: leave --script out (--env-ids picks envs)")
    script, env_ids = args.script or preset.get("script"), args.env_ids or preset.get("env_ids") or list(recipes)
    seeds = list(dict.fromkeys(args.seeds or preset.get("seeds") or [1]))  # a seed given twice runs once
    if not all(0 <= seed < 2**32 for seed in seeds):  # the scripts' own range: refused here, not in every run
        fail(f"--seeds {' '.join(str(s) for s in seeds if not 0 <= s < 2**32)}: a seed is a whole number in [0, 2**32)")
    own = not args.script or args.script == preset.get("script")  # the preset's variants go with its script only
    variants = [v + flags for v in preset.get("variants", [[]])] if own else [flags]
    if not (script or recipes) or not env_ids:
        fail("name a --preset, or a --script and its --env-ids")
    if recipes and not set(env_ids) <= set(recipes):
        fail(f"--env-ids {' '.join(e for e in env_ids if e not in recipes)}: --preset {args.preset} has no recipe for "
             f"it; its envs: {', '.join(recipes)}")
    if refused(flags):
        fail(refused(flags).replace("SCRIPT", script or "SCRIPT"))
    for env_id in env_ids:  # each names a directory under --runs-dir, which must stay there
        bad = any(part in ("", ".", "..") for part in env_id.split("/")) or env_id.startswith("-")
        if bad or not env_id.isprintable() or " " in env_id:  # a newline would shift the Slurm manifest's lines
            fail(f"--env-ids {env_id!r}: not an env id; pass ids such as HalfCheetah-v4")
    if not 0 < args.poll < 1e6 or not 0 <= args.status_every < 1e6:  # nan and inf too
        fail("--poll must be positive and --status-every 0 or more")
    dirs = {}
    for env_id in dict.fromkeys(env_ids):  # ALE/Pong-v5 and ALE_Pong-v5 would share a directory
        if dirs.setdefault(env_id.replace("/", "_"), env_id) != env_id:
            fail(f"--env-ids {dirs[env_id.replace('/', '_')]} and {env_id} would share a directory: run them apart")
    if len(set(env_ids)) < len(env_ids):
        print(f"--env-ids: {', '.join(sorted({e for e in env_ids if env_ids.count(e) > 1}))} given twice: run once",
              flush=True)  # fmt: skip
        env_ids = list(dict.fromkeys(env_ids))
    scripts = own_scripts()
    experiments, baselines = experiment_scripts(), baseline_scripts()
    runs = plan(script, env_ids, seeds, variants, recipes or None)
    for name in dict.fromkeys(run["script"] for run in runs):  # a recipe preset's scripts are the project's own
        if name.startswith("cleanrl_") and not baselines:
            fail(f"--script {name}: benchmark/baselines/ holds no CleanRL script yet: run {FETCH_BASELINES}")
        if name not in scripts + experiments + baselines:  # a name, not a path: run directories stay in --runs-dir
            fail(f"--script {name}: pick one of the project's scripts: {', '.join(scripts)}; or an experiment: "
                 f"{', '.join(experiments)}; "
                 + (f"or a baseline: {', '.join(baselines)}" if baselines
                    else f"or CleanRL's, after {FETCH_BASELINES}"))
    check_runs(runs, flags)
    if args.backend == "slurm" and not shutil.which("sbatch"):
        fail("--backend slurm needs Slurm's sbatch, which is not on PATH: run the sweep on a Slurm login node, "
             "or use --backend local")
    workers = args.workers if args.workers is not None else (os.cpu_count() if args.backend == "local" else None)
    if workers is not None and workers < 1:
        fail("--workers must be at least 1")
    args.workers = workers

    if args.backend == "slurm":
        check_slurm_options(args)
    if os.path.exists(args.runs_dir) and not os.path.isdir(args.runs_dir):
        fail(f"--runs-dir {args.runs_dir} is not a directory: pass a directory (it is made if missing)")
    paths = [run_dir(args.runs_dir, run) for run in runs]
    for path in paths:  # a handed runs directory: a link in it would have the sweep write (and lock) elsewhere
        inside = args.runs_dir
        for part in os.path.relpath(path, args.runs_dir).split(os.sep):
            inside = os.path.join(inside, part)
            if os.path.islink(inside):
                fail(f"{inside} is a symbolic link: a sweep writes only inside --runs-dir; remove the link")
            if os.path.lexists(inside) and not os.path.isdir(inside):  # a file, a pipe: no directory can be made
                fail(f"{inside} is not a directory, which the sweep makes there: move it away")
            if len(os.fsencode(part)) > 255:  # the longest name most filesystems keep
                fail(f"{part[:40]}...: a directory name over 255 bytes (from --env-ids): pass a shorter env id")
        problem = foreign_entry(path) if os.path.isdir(path) else None
        if problem:
            fail(problem)
    slurm_dir = os.path.join(args.runs_dir, "slurm")  # where the Slurm backend writes its scripts
    if args.backend == "slurm" and os.path.islink(slurm_dir):
        fail(f"{slurm_dir} is a symbolic link: a sweep writes only inside --runs-dir; remove the link")
    if args.backend == "slurm" and os.path.lexists(slurm_dir) and not os.path.isdir(slurm_dir):
        fail(f"{slurm_dir} is not a directory, which the sweep makes there for its Slurm scripts: move it away")
    for path, run in zip(paths, runs):  # its earlier work, done or not, is another run's: kept aside, it runs again
        lock = hold(path) if ran_otherwise(path, run) else None  # a live run is left to its process
        if lock is not None:
            kept = set_aside(path, run_json=True)
            os.close(lock)
            if kept:
                print(f"{path}: ran before with other flags; what it left moved to {kept}; it runs again", flush=True)
    todo = [(p, r) for p, r in zip(paths, runs) if not is_done(p)]
    busy = [p for p, _ in todo if is_running(p)]  # its lock is held: a live process runs it
    todo = [(p, r) for p, r in todo if p not in busy]
    done = len(runs) - len(todo) - len(busy)
    started = sum(os.path.exists(os.path.join(p, "log.txt")) for p, _ in todo)  # an earlier attempt wrote its log
    again = f", {started} of them started before (each goes on from the checkpoint it left, if any)" if started else ""
    print(f"{len(runs)} run{'s' * (len(runs) > 1)} in {args.runs_dir}: {done} already done, {len(todo)} to run "
          f"({args.backend}{f', {workers} worker' + 's' * (workers > 1) if workers else ''}){again}"
          + (f"; {len(busy)} in progress in another process, left to it" if busy else ""), flush=True)  # fmt: skip
    for path, run in todo:
        try:
            prepare(path, run)
        except OSError as e:  # a file where a directory goes, a name too long, no permission
            fail(f"cannot make {path} ({e.strerror}): pass a --runs-dir where the sweep can make directories")
    if not todo:  # the first line said it all: every run done, or left to the process that runs it
        return 0
    progress = Progress(args.runs_dir, len(todo), args.status_every)
    if args.backend == "local":
        sweep_local([p for p, _ in todo], args.runs_dir, workers, progress)
    else:
        sweep_slurm([p for p, _ in todo], args.runs_dir, args, progress)
        if args.no_wait:
            return 0
    failed = ", ".join(os.path.relpath(p, args.runs_dir) for p in progress.failed)
    print(f"finished: {len(progress.done)} done, {len(progress.failed)} failed"
          + (f", {len(progress.left)} left to another process" if progress.left else "")
          + (f", {len(progress.stopped)} stopped (the same command continues them)" if progress.stopped else "")
          + (f"; failed runs: {failed}" if failed else ""), flush=True)  # fmt: skip
    return 1 if progress.failed else 130 if progress.stopped else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

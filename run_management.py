"""Run management for the four scripts: flags, checks, checkpoints, resume, signals, locks, W&B, evaluation.

Nothing here is part of an algorithm. A script's main() reaches it through one object, `run = Run(args)`; the
script's own part (below its fence: its flags' ranges, its env, its policy's evaluation) is read off its module.
A run is runs/{run_name}/ (tensorboard events, the checkpoint {exp_name}.pt, the lock .lock) and, with
--capture-video, videos/{run_name}/. On --resume it is the directory that holds the checkpoint given.

Threat model: a checkpoint, a run directory or a run.json may come from a stranger. Reading one promises:
- Nothing is imported or executed: torch.load(weights_only=True) builds tensors and plain containers only, and
  a `module:EnvId` stored in a checkpoint is imported only when the same --env-id is on the command line.
- Nothing is written outside the run's own directories: the stored run name is not used, the stored exp_name
  must be one plain name, what this command does besides training (W&B, videos, the device, --eval-checkpoint)
  is decided by its command line alone, never by the file, and a link planted at the checkpoint's temporary
  name is not written through.
- Anything malformed (a stored flag of a type or range no command line gives (a whole number where a number goes
  is read as a float, as tyro reads it), training numbers that do not add up, weights, an optimiser, statistic or
  random state of another shape or range (nan included) or with a part missing (a weight's optimiser state),
  another script's checkpoint, an older format) ends the run in one line on stderr naming the cause and the fix,
  exit code 2, as does every bad input on the command line; --help exits 0. The file's values are data: braces in
  them are never read as a format string.

Stops: Ctrl-C (exit 130), SIGTERM (143), SIGHUP (129: a closed terminal or ssh session) or SIGUSR1 (138: Slurm's
warning before a time limit) is recorded and ends the run at its next step or minibatch, and the last finished
iteration is written to the checkpoint (atomically, by a rename), always after that iteration's scalars are in
the events file: a SIGKILL loses at most the iterations since the last checkpoint, and --resume drops the
events logged after it (tensorboard's purge_step) and redoes them. During start-up they end it in one line;
once the run has ended, without one (it saved already).

What --resume reproduces: every state of the learner bit for bit (weights, optimiser, statistics, KL
coefficient, the python, numpy, torch and rollout random streams, the episode statistics) and the envs' random
streams (each gymnasium env's np_random), from which the envs start new episodes. An episode in progress at the
checkpoint cannot be saved (the simulator's state is not the env's to give) and is cut, its return unlogged: a
resumed run equals the uninterrupted one bit for bit when every env's episode had just ended and the env's
reset draws no random number. ale-py's vector env keeps its random state in C++: its games restart from a seed
made of --seed and the step. A larger --total-timesteps extends a run; the annealed learning rate (and clip)
then run linearly from where the new schedule puts the resumed iteration to 0 at the new total (a line says so).
"""

import os
import signal
import sys

SCRIPTS = ("ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py")


def _stopped_during_start_up(sig, _frame):
    print(f"{os.path.basename(sys.argv[0])}: stopped during start-up: nothing was saved", file=sys.stderr, flush=True)
    os._exit(128 + sig)


# Imported by a script: a Ctrl-C during the slow imports below and the checks is one line, not a traceback
if os.path.basename(getattr(sys.modules.get("__main__"), "__file__", None) or "") in SCRIPTS:
    for _name in {"SIGINT", "SIGTERM", "SIGHUP", "SIGUSR1"} & set(dir(signal)):  # Windows lacks SIGHUP and SIGUSR1
        signal.signal(getattr(signal, _name), _stopped_during_start_up)

import contextlib  # noqa: E402
import copy  # noqa: E402
import dataclasses  # noqa: E402
import difflib  # noqa: E402
import errno  # noqa: E402
import glob  # noqa: E402
import io  # noqa: E402
import math  # noqa: E402
import random  # noqa: E402
import re  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import typing  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from collections import deque  # noqa: E402

import filelock  # noqa: E402
import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import tyro  # noqa: E402
import typeguard  # noqa: E402
from torch.utils.tensorboard import SummaryWriter  # noqa: E402

CHECKPOINT_FORMAT = 4  # raised whenever the saved training state changes shape: --resume refuses older ones
STOPS = {"SIGINT": 130, "SIGTERM": 143, "SIGHUP": 129, "SIGUSR1": 138}  # exit codes: 128 + the signal's number
RULES = {  # the ranges every script's flags share; a script's RULES adds its own flags to them
    "a whole number of at least 1": (lambda v: v >= 1, ("num_envs", "num_steps", "eval_episodes")),
    "a whole number in [1, 2**40]": (lambda v: 1 <= v <= 2**40, ("total_timesteps",)),  # past it, arrays too big
    "positive": (lambda v: v > 0, ()), "0 or more": (lambda v: v >= 0, ("checkpoint_every",)),
    "in (0, 1]": (lambda v: 0 < v <= 1, ("gamma",)), "in [0, 1]": (lambda v: 0 <= v <= 1, ("gae_lambda",)),
    "in (0, 1)": (lambda v: 0 < v < 1, ()), "a whole number in [0, 1024]": (lambda v: 0 <= v <= 1024, ()),
    "a whole number in [0, 2**32)": (lambda v: 0 <= v < 2**32, ("seed",)),  # numpy's seeds
}  # fmt: skip
# --resume: flags that this command line alone decides, never a checkpoint (a handed one could turn on W&B)
OWN = {"track", "wandb_project_name", "wandb_entity", "capture_video", "cuda", "eval_episodes", "compile",
       "eval_checkpoint"}  # fmt: skip
# --resume: flags every script lets differ from the run's own (none changes its results); its MAY_CHANGE adds more
MAY_CHANGE = OWN | {"total_timesteps", "checkpoint_every", "save_model", "resume"}
EVAL_MAX_STEPS = 10_000  # where an evaluation episode of an env without a time limit is cut
GIVEN_FLAGS = None  # the flags on the command line (parse_args), which --resume compares with the run's own
PROG = os.path.basename(sys.argv[0])  # the script's file name, that error lines begin with (set by Run)


def fail(message):
    """A bad input: one line that names the fix (a newline or a byte not UTF-8 in it shown escaped), exit code 2."""
    message = re.sub(r"[\x00-\x1f\x7f\ud800-\udfff]", lambda c: ascii(c[0])[1:-1], message)
    print(f"{PROG}: error: {message}", file=sys.stderr)
    sys.exit(2)


CAUSE, FIX = "\0cause\0", "\0fix\0"  # failing()'s places in a message: no path, repr or env id holds a NUL
FIXES = {errno.ENOSPC: "free disk space", errno.EDQUOT: "free disk space", UnicodeEncodeError: "give it a UTF-8 name",
         errno.ENAMETOOLONG: "pass a shorter --exp-name, or run from a shorter path",
         errno.EISDIR: "a directory stands where the file goes: move it away",
         errno.ENOTDIR: "a file stands where a directory goes (is 'runs' or 'videos' a file?): move it away",
         errno.EACCES: "run from a directory you can write to", errno.EROFS: "run from a directory you can write to",
         errno.ENOENT: "the directory was removed while the run was writing to it"}  # fmt: skip


@contextlib.contextmanager
def failing(message, errors=Exception):
    """An error of the kinds given, inside the block, ends the run with message, its CAUSE filled with the cause
    and FIX with what to do about a failed write, by its cause. The block's warnings are shown after it, or
    dropped with the error (torch's, say, about a damaged checkpoint's tensor where a dict goes)."""
    try:
        with warnings.catch_warnings(record=True) as held:
            yield
    except errors as e:
        lines = [line.strip() for line in str(e).splitlines() if line.strip()] or [""]
        first = " ".join(lines[:2]) if lines[0].endswith(":") else lines[0]  # "Error(s) in ...:" names no cause
        cause = e.strerror if isinstance(e, OSError) and e.strerror else f"{type(e).__name__}: {first}"
        fix = FIXES.get(e.errno if isinstance(e, OSError) else type(e), "check the directory")
        fail(message.replace(FIX, fix).replace(CAUSE, cause))
    for w in held:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)


# ---------------------------------------------------------------------------------------------------- flags
# tyro 1.0 cuts --help at each line of a field's docstring that wraps in the source: the lines are joined first
_field_docs = tyro._docstrings.parse_docstring_from_object
tyro._docstrings.parse_docstring_from_object = lambda cls: {k: " ".join(v.split()) for k, v in _field_docs(cls).items()}


def parse_args(script):
    """The script's Args from the command line (tyro). --help prints the help and exits 0. A bad flag ends in
    one line: tyro runs without its console output and, when it refuses, flag_error says why."""
    global GIVEN_FLAGS, PROG
    argv = sys.argv[1:]
    names = {arg.split("=")[0][2:].replace("-", "_") for arg in argv if arg.startswith("--")}
    GIVEN_FLAGS = names | {name[3:] for name in names if name.startswith("no_")}  # --no-anneal-lr: anneal_lr
    prog = PROG = os.path.basename(script.__file__)
    if {"-h", "--help"} & set(argv):
        return tyro.cli(script.Args, args=argv, prog=prog)
    try:  # tyro 1.0 still prints some errors without its console: discarded, flag_error says why in one line
        with contextlib.redirect_stderr(io.StringIO()):
            return tyro.cli(script.Args, args=argv, prog=prog, console_outputs=False)
    except SystemExit as e:
        if not e.code:
            raise
        fail(f"{flag_error(script.Args, argv)}: see `python {prog} --help`")


def flag_error(cls, argv):
    """What is wrong with argv for the dataclass cls: an unknown flag, a missing value, or the first value that
    tyro refuses when given alone."""
    flags = {"--" + name.replace("_", "-"): hint for name, hint in typing.get_type_hints(cls).items()}
    flags.update({"--no-" + flag[2:]: bool for flag, hint in list(flags.items()) if hint is bool})
    words = list(argv)
    while words:
        word = words.pop(0)
        flag, eq, value = word.partition("=")
        if flag not in flags:
            close = difflib.get_close_matches(flag, list(flags), n=2)
            what = f"unknown flag {word!r}" if word.startswith("-") else f"unexpected argument {word!r}"
            return what + (f" (did you mean {' or '.join(close)}?)" if close else "")
        if flags[flag] is bool and not eq:  # a switch is --x or --no-x; tyro refuses --x=false
            continue
        if not eq and (not words or words[0].startswith("--")):
            return f"{flag} needs a value"
        value = value if eq else words.pop(0)
        try:
            with contextlib.redirect_stderr(io.StringIO()):
                tyro.cli(cls, args=[flag, value], console_outputs=False)
        except SystemExit:
            return f"{flag} {value!r}: must be {describe(flags[flag])}"
    return "the flags could not be read"


def describe(hint):
    """A type hint in words, for a line that says what a flag takes."""
    if typing.get_origin(hint) is typing.Literal:
        return "one of " + ", ".join(map(str, typing.get_args(hint)))
    options = [a for a in typing.get_args(hint) if a is not type(None)] or [hint]
    return {int: "a whole number", float: "a number", str: "a string", bool: "a bare switch"}.get(options[0], "valid")


def check_args(args, saved, script):
    """Every numeric flag against the shared RULES and the script's, then the batch's size against the others."""
    rules = {rule: (holds, names + script.RULES.get(rule, ())) for rule, (holds, names) in RULES.items()}
    for name, value in dataclasses.asdict(args).items():
        if value is None or isinstance(value, (bool, str)):  # None: an optional limit left off
            continue
        stored = f" (as '{args.resume}' holds it: damaged)" if saved and name not in (GIVEN_FLAGS or ()) else ""
        flag = f"--{name.replace('_', '-')} {value}{stored}"
        if not abs(value) <= torch.finfo(torch.float32).max:  # nan, inf, or beyond float32, the tensors' numbers
            fail(f"{flag}: must be a finite number of at most 3.4e38 in size")
        for rule, (holds, names) in rules.items():
            if name in names and not holds(value):
                fail(f"{flag}: must be {rule}")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", args.exp_name):  # the checkpoint's name, in runs/
        fail(f"--exp-name {args.exp_name!r}: a run's name is one directory name of at most 100 letters, digits, "
             f"'.', '_' or '-', starting with a letter or digit: pass e.g. --exp-name my_run")
    for flag, value in (("--resume", args.resume), ("--eval-checkpoint", args.eval_checkpoint)):
        if value is not None and not value:
            fail(f"{flag} '': pass a checkpoint's path (runs/<run_name>/<exp_name>.pt)")
    if args.capture_video and os.path.exists("videos") and not os.path.isdir("videos"):
        fail("--capture-video: 'videos' is a file, where the videos' directory goes: move it away")
    if args.resume and args.eval_checkpoint:
        fail("--resume continues training and --eval-checkpoint only evaluates: pass one of them")
    if getattr(args, "compile", False):
        check_compiler()
    batch = args.num_envs * args.num_steps
    split = "num_minibatches" if hasattr(args, "num_minibatches") else "vf_num_minibatches"
    if batch % getattr(args, split):
        fail(f"the batch of {batch} samples (--num-envs {args.num_envs} x --num-steps {args.num_steps}) does not split "
             f"into {getattr(args, split)} minibatches: pick a --{split.replace('_', '-')} that divides {batch}")
    # advantages are normalised over a minibatch, or over the whole batch (TRPO; PPO with --norm-adv-batch)
    per_batch = getattr(args, "norm_adv_batch", False) or split == "vf_num_minibatches"
    per = batch if per_batch else batch // getattr(args, split)
    if args.norm_adv and per < 2:  # the std of one sample is nan, and so would be every advantage
        fail(f"advantages normalised over {per} sample have no spread: use more samples per minibatch (--num-steps, "
             f"--num-minibatches), or --no-norm-adv")
    if saved and saved["training"]["iteration"] >= args.total_timesteps // batch:  # before anything is written
        fail(f"the run in {args.resume} is at step {saved['training']['global_step']}, its --total-timesteps "
             f"{args.total_timesteps} done: pass a larger one to extend it")
    if args.total_timesteps < batch:
        fail(f"--total-timesteps {args.total_timesteps} is less than one batch of {batch} samples: raise it or "
             f"lower --num-steps")


def check_compiler():
    """--compile: the C++ compiler torch.compile's inductor will run ($CXX, or else g++) runs, as inductor checks."""
    cxx = os.environ.get("CXX", "clang++" if sys.platform == "darwin" else "g++")
    works = False
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        works = bool(cxx) and subprocess.run([cxx, "--version"], capture_output=True, timeout=30).returncode == 0
    if not works:
        fail(f"--compile: torch.compile builds C++ code with {cxx!r} ($CXX, or else g++), which does not run as a "
             "compiler: install g++ or set CXX to a C++ compiler, or leave --compile out")


def check_env_id(env_id, trusted):
    """A registered id, or gymnasium's `module:EnvId` form, whose module is imported (to register the user's
    env) only when `trusted`: given on the command line, never read from a file."""
    module, colon, name = env_id.rpartition(":")
    if colon and not module:
        fail(f"--env-id {env_id}: no module before ':': pass {name}, or my_module:{name} to import my_module first")
    if module and not trusted:
        fail(f"the checkpoint's env {env_id} needs its module '{module}' imported, which a checkpoint alone never "
             f"does: if you trust that module, pass --env-id {env_id}")
    if module:
        with failing(f"--env-id {env_id}: importing '{module}' failed ({CAUSE}): check `python -c 'import {module}'`"):
            __import__(module)
    if name not in gym.registry:
        close = difflib.get_close_matches(name, list(gym.registry), n=3)
        hint = f" (did you mean {', '.join(close)}?)" if close else " (see gymnasium.registry)"
        fail(f"unknown env id '{env_id}': pass --env-id with a registered environment{hint}")


def check_flat_env(args, action_space):
    """One env made before the run starts (the MLP scripts' check): an env that the installed packages cannot
    make, spaces that the script cannot handle, or (--capture-video) a machine that cannot render, each end the
    run in one line."""
    namespace, name, version = gym.envs.registration.parse_env_id(args.env_id.rpartition(":")[2])
    newest = gym.envs.registration.find_highest_version(namespace, name)
    # an old version (Hopper-v3 needs mujoco-py, Pusher-v4 mujoco below 3) is pointed at the newest registered one
    fix = "run `pip install -r requirements.txt`"
    if version is not None and newest is not None and newest > version:
        fix = f"use --env-id {gym.envs.registration.get_env_id(namespace, name, newest)}"
    made = f"{args.env_id} cannot be made with the installed packages ({CAUSE}): {fix}"  # warnings: its envs say it
    with warnings.catch_warnings(action="ignore"), failing(made, (gym.error.DependencyNotInstalled, ImportError)):
        env = gym.make(args.env_id, **(dict(render_mode="rgb_array") if args.capture_video else {}))
    obs_space, act_space = env.observation_space, env.action_space
    if not (isinstance(obs_space, gym.spaces.Box) and len(obs_space.shape) == 1):
        fail(f"{args.env_id} has a {obs_space} observation space; {PROG} needs a flat vector (a 1-D Box): "
             f"wrap the env in gymnasium's FlattenObservation, or for Atari pixels use ppo_atari.py")  # fmt: skip
    shape = act_space.shape or ()  # usable: a Discrete space, or a Box of one dimension with at least one entry
    flat = isinstance(act_space, gym.spaces.Discrete) or (len(shape) == 1 and shape[0] > 0)
    if not isinstance(act_space, action_space) or not flat:
        takes = {gym.spaces.Box: "ppo_continuous.py or trpo_continuous.py", gym.spaces.Discrete: "ppo_discrete.py"}
        other = next((script for space, script in takes.items() if isinstance(act_space, space) and flat), None)
        none = "no script here takes it (a 1-D Box: ppo_continuous.py; Discrete: ppo_discrete.py)"
        hint = f"use {other}" if other else none
        fail(f"{args.env_id} has a {act_space} action space; {PROG} needs a {action_space.__name__} one: {hint}")
    if isinstance(act_space, gym.spaces.Discrete) and act_space.start != 0:  # the policy's actions are 0..n-1
        fail(f"{args.env_id} has a {act_space} action space; {PROG} acts in 0..{act_space.n - 1}: wrap the env "
             f"so that its actions start at 0 (subtract {act_space.start} in the env)")
    with warnings.catch_warnings(), failing(f"the env failed at its reset ({CAUSE}): check {args.env_id}"):
        warnings.simplefilter("ignore")  # gymnasium's checker: the run's own envs give its warnings
        obs, _ = env.reset(seed=args.seed)
    if np.shape(obs) != obs_space.shape:
        fail(f"{args.env_id}'s reset returned an observation of shape {np.shape(obs)}, where its observation space "
             f"has {obs_space.shape}: check {args.env_id}")  # fmt: skip
    if args.capture_video:
        message = f"--capture-video: the env cannot render here ({CAUSE}): without a display, MUJOCO_GL=egl or osmesa"
        with warnings.catch_warnings(), failing(message):
            warnings.simplefilter("ignore")  # a trial render: the recorder's own renders give GL's warnings
            env.render()
    with failing(f"the env failed as it closed ({CAUSE}): check {args.env_id}"):
        env.close()


# ------------------------------------------------------------------------------------------------ the run
class Run(contextlib.AbstractContextManager):  # `with run:` is the run itself
    """What main does besides the algorithm, for the script module given, which provides: Args, RULES and
    MAY_CHANGE (its own flags' ranges, and those --resume may change), ACTION_SPACE or its own check_env(args),
    load_policy(state) and evaluate(*policy, env_id, eval_episodes, seed, capture_video, run_name).

    Run(args) checks the flags and the env and names the run (on --resume, the checkpoint's directory and the run's own
    flags); reset(envs) resets the envs (on --resume, onto their saved random streams); keep() names what a checkpoint
    holds and restores it on --resume; start(envs) claims the run's directory and opens the log; check() ends the run,
    between env steps or minibatches, after a stop signal; end_iteration() checks that training stayed finite and takes
    the snapshot that a checkpoint writes. Leaving `with run:` writes the last snapshot (at the end, unless
    --checkpoint-every 0 without --save-model; after a stop or an error, always) and closes everything."""

    def __init__(self, args):
        global PROG
        script = sys.modules[type(args).__module__]  # the script whose Args these are
        self.args, self.script, PROG = args, script, os.path.basename(script.__file__)
        self.rng, self.snapshot, self.code, self.wandb, self.wandb_id, self.envs, self.writer, self.lock = (None,) * 8
        self.pending, self.save_failed, self.previous, self.videos_sent = False, False, {}, set()
        given, env_id = GIVEN_FLAGS if GIVEN_FLAGS is not None else set(), args.env_id  # env_id: the caller's
        self.saved = read_resume(args, script, given) if args.resume else None
        self.wandb_id = (self.saved or {}).get("training", {}).get("wandb_id")  # kept by a resume without --track too
        # --eval-checkpoint without --env-id on the command line: the checkpoint's env (main(Args) has no such case)
        from_checkpoint = args.eval_checkpoint and GIVEN_FLAGS is not None and "env_id" not in given
        if not from_checkpoint:
            check_env_id(args.env_id, trusted=args.env_id == env_id)  # not trusted: an id read from the checkpoint
        if args.eval_checkpoint:
            self.policy_state = read_checkpoint(args.eval_checkpoint, "--eval-checkpoint")
            if from_checkpoint:  # the checkpoint names its env
                args.env_id = self.policy_state["env_id"]
                check_env_id(args.env_id, trusted=False)
        check_args(args, self.saved, script)
        # the script's own check (Atari's), or one env made, whose spaces must be flat and of its ACTION_SPACE
        getattr(script, "check_env", lambda args: check_flat_env(args, script.ACTION_SPACE))(args)
        if self.saved:  # the checkpoint's own directory, whatever it says
            self.dir = os.path.dirname(args.resume) or "."  # as given: tensorboard's path must be UTF-8 (see FIXES)
            self.name, self.path = os.path.basename(os.path.abspath(self.dir)), args.resume
            extended(args, self.saved)
            videos = os.path.join("videos", self.name)
            if args.capture_video and os.path.isdir(videos):  # before the recorder (main's envs) writes over them
                self.lock = lock_run(self.dir)
                with failing(f"cannot move {videos} aside ({CAUSE}): {FIX}", OSError):
                    os.replace(videos, f"{videos}-until-step-{self.saved['training']['global_step']}")
        else:  # one directory under runs/, whatever the flags say: the env id's '/' and ':' become '_'
            env = re.sub(r"[^A-Za-z0-9._-]", "_", args.env_id)
            self.name = f"{env}__{args.exp_name}__{args.seed}__{int(time.time())}"

    def evaluate(self):
        """--eval-checkpoint: evaluate the saved policy, print the mean and log eval/episodic_return."""
        args, state, script = self.args, self.policy_state, self.script
        if state["env_id"] != args.env_id:
            fail(f"'{args.eval_checkpoint}' holds a policy for {state['env_id']}, not {args.env_id}: "
                 f"pass --env-id {state['env_id']}, or leave --env-id out")
        with failing(f"'{args.eval_checkpoint}' does not fit this script's network ({CAUSE}): pass one it wrote"):
            policy = script.load_policy(state)  # the script's network (and statistics) with the saved weights
        # runs/<run_name>/x.pt is logged to runs/<run_name>-eval: the name of the run it evaluates (made a safe name)
        own = re.sub(r"[^A-Za-z0-9._-]", "_", os.path.basename(os.path.dirname(os.path.abspath(args.eval_checkpoint))))
        name = f"{own.lstrip('.')[:200] or self.name}-eval"
        with failing(f"'{args.eval_checkpoint}' holds a policy whose spaces do not fit {args.env_id} ({CAUSE}): pass "
                     f"the checkpoint of a run on it", (RuntimeError, ValueError, IndexError)):  # fmt: skip
            returns = script.evaluate(*policy, args.env_id, args.eval_episodes, args.seed, args.capture_video, name)
        if not np.isfinite(returns).all():  # e.g. weights so large that the policy's actions overflow
            fail(f"'{args.eval_checkpoint}' on {args.env_id} gave returns that are not finite: check both")
        # printed first: a log directory that cannot be written must not lose the episodes just played
        print(f"eval {args.eval_checkpoint}: mean return {np.mean(returns):.2f} +- {np.std(returns):.2f} over "
              f"{len(returns)} episodes\nepisodes: " + ", ".join(f"{r:.1f}" for r in returns), flush=True)  # fmt: skip
        with failing(f"could not write runs/{name} ({CAUSE}): the result is above; {FIX}", OSError):
            writer = SummaryWriter(os.path.join("runs", new_run_dir(name)))
            for i, episodic_return in enumerate(returns):
                writer.add_scalar("eval/episodic_return", episodic_return, i)
            writer.close()
        return returns

    def reset(self, envs):
        """envs.reset(seed=--seed); on --resume, new episodes drawn from the envs' saved random streams (gymnasium's
        vector envs), or (ale-py's) from a seed made of --seed and the checkpoint's step."""
        self.envs, failed = envs, f"the env failed at its reset ({CAUSE}): check {self.args.env_id}"
        top = 2**32 if hasattr(envs, "envs") else 2**31 - envs.num_envs  # ale-py's seeds, seed + index, are int32s
        with failing(failed):
            result = envs.reset(seed=self.args.seed % top)
        if self.saved and hasattr(envs, "envs"):
            with failing(f"'{self.args.resume}' does not fit this run ({CAUSE}): resume it with its own script"):
                for env, state in zip(envs.envs, self.saved["env_rng"], strict=True):
                    env.unwrapped.np_random.bit_generator.state = state
            with failing(failed):
                result = envs.reset()
        elif self.saved:
            with failing(failed):
                result = envs.reset(seed=(self.args.seed + self.saved["training"]["global_step"]) % top)
        check_finite_output(result[0], "observation", 0, self.args.env_id, self.holds)
        return result

    def keep(self, rng=None, **kept):
        """Objects (model, optimizers, statistics, arrays, deques) are saved by name and restored in place; the
        numbers are returned in the order given, as saved on --resume; rng: the rollout's generator."""
        numbers = [name for name, value in kept.items() if isinstance(value, (int, float))]
        self.rng, self.kept = rng, {name: value for name, value in kept.items() if name not in numbers}
        if not self.saved:
            return [kept[name] for name in numbers]
        with failing(f"'{self.args.resume}' does not fit this run ({CAUSE}): resume it with its own script"):
            for name, value in self.kept.items():
                restore(value, self.saved[name])
            set_rng_state(self.saved["rng"], rng)
            return [self.saved["training"][name] for name in numbers]  # their types checked by read_resume

    def start(self, envs):
        """Claims the run's directory, opens its tensorboard log, and W&B with --track (no account: one line).
        From here a stop signal is only recorded, and ends the run at its first check(); and an observation or
        reward that is not finite, or a failing env, ends it in one line naming the env as the cause."""
        self.envs, args, step, steps = envs, self.args, envs.step, [0]
        video = ", or run without --capture-video" if args.capture_video else ""
        cause_and_fix = f"({CAUSE}): check {args.env_id}, e.g. that its observations keep one shape{video}"

        def checked_step(actions):  # on every step: the message is only made when the env fails
            steps[0] += 1
            try:
                result = step(actions)
            except Exception:
                with failing(f"the env failed at its step {steps[0]} " + cause_and_fix):
                    raise
            for what, value in (("observation", result[0]), ("reward", result[1])):
                check_finite_output(value, what, steps[0], args.env_id, self.holds)
            if "final_obs" in result[4]:  # SAME_STEP: an episode ended; its last observation, None for the others
                final = [obs for obs in result[4]["final_obs"] if obs is not None]
                check_finite_output(final, "observation", steps[0], args.env_id, self.holds)
            return result

        envs.step = checked_step
        self.lock = self.lock or (self.saved and lock_run(self.dir))  # a second --resume of a live run: one line
        if args.track:  # before a new run's directory is made: a W&B that does not start leaves none behind
            self.start_wandb()
        if not self.saved:
            self.name = new_run_dir(self.name)
            self.dir = os.path.join("runs", self.name)
            self.path = os.path.join(self.dir, f"{args.exp_name}.pt")
            self.lock = lock_run(self.dir)

        def received(sig, _frame):
            self.code = self.code or STOPS[signal.Signals(sig).name]  # the first one counts

        for name in STOPS:
            if hasattr(signal, name):  # Windows has neither SIGHUP nor SIGUSR1
                self.previous[name] = signal.signal(getattr(signal, name), received)
        # on --resume, purge_step drops what the stopped run logged after its checkpoint: no step repeats
        purge_step = self.saved["training"]["global_step"] + 1 if self.saved else None
        with failing(f"cannot write {self.dir} ({CAUSE}): {FIX}", (OSError, UnicodeError)):
            self.writer = SummaryWriter(self.dir, purge_step=purge_step)
        resumed = f", resumed at step {self.saved['training']['global_step']}" if self.saved else ""
        shown = os.path.dirname(self.path) or "."  # the run's directory as the user names it (--resume's path)
        print(f"run {shown}{resumed}: checkpoint {self.path}; watch it with `tensorboard --logdir "
              f"{shlex.quote(os.path.dirname(shown) or '.')}`", flush=True)  # fmt: skip
        table = "\n".join(f"|{key}|{value}|" for key, value in vars(args).items())
        self.writer.add_text("hyperparameters", ("|param|value|\n|-|-|\n" + table).encode(errors="replace").decode())
        return self.writer

    def start_wandb(self):
        """W&B's own resume: the run's id is kept in its checkpoint, so --resume --track continues that W&B run."""
        import wandb
        self.wandb_id = self.wandb_id or uuid.uuid4().hex[:16]
        with failing(f"--track: Weights & Biases failed ({CAUSE}): run `wandb login`, or set WANDB_MODE=offline"):
            wandb.init(project=self.args.wandb_project_name, entity=self.args.wandb_entity, config=vars(self.args),
                       name=self.name, id=self.wandb_id, resume="allow", save_code=True, sync_tensorboard=True)
        self.wandb = wandb

    def send_videos(self):
        """--track --capture-video: each video the recorder wrote (whole, at an episode's end) goes to W&B once."""
        if self.wandb and self.args.capture_video:
            for path in sorted(set(glob.glob(os.path.join("videos", self.name, "*.mp4"))) - self.videos_sent):
                self.videos_sent.add(path)
                self.wandb.log({"videos": self.wandb.Video(path, format="mp4")}, commit=False)

    def end_iteration(self, losses, **numbers):
        """Checks that training stayed finite, takes the snapshot; the checkpoint is written at the next check()
        or on the way out, once this iteration's scalars are in the events file."""
        check_finite(self.kept["model"], numbers["iteration"], self.holds(), *losses)
        training, envs = dict(numbers, wandb_id=self.wandb_id), getattr(self.envs, "envs", [])
        self.snapshot = dict(script=PROG, format=CHECKPOINT_FORMAT, env_id=self.args.env_id,
                             args=dataclasses.asdict(self.args), training=training, rng=rng_state(self.rng),
                             env_rng=[env.unwrapped.np_random.bit_generator.state for env in envs],
                             **{name: state_copy(value) for name, value in self.kept.items()})  # fmt: skip
        self.pending = self.args.checkpoint_every and numbers["iteration"] % self.args.checkpoint_every == 0
        self.send_videos()

    def save(self):
        self.pending = False
        self.writer.flush()  # the iteration's scalars first: a kill after the checkpoint loses none of them
        self.save_failed = True  # until written: a save that failed is not tried again on the way out
        save_checkpoint(self.path, self.snapshot)
        self.save_failed = False

    def holds(self):
        """What the checkpoint written on the way out holds: the last finished iteration, or nothing."""
        last = self.snapshot or self.saved
        return f"the checkpoint keeps iteration {last['training']['iteration']}" if last else "nothing was saved"

    def check(self):
        """The signal handler only records the signal and the run ends here: exiting inside the handler would
        raise wherever the main thread is, say inside tensorboard's queue, whose close() could then hang."""
        if self.pending:
            self.save()
        if self.code is not None:
            sys.exit(self.code)

    def __exit__(self, kind, error, traceback):
        try:  # a run that ends early (a signal, an error) keeps its last finished iteration, whatever the flags
            keep = self.args.save_model or self.args.checkpoint_every or kind is not None
            if self.snapshot is not None and keep and not self.save_failed:
                self.save()
                print(f"model saved to {self.path}", flush=True)
                if self.code is not None and kind is not None:  # stopped by a signal: say where, and how to go on
                    again, argv = (sys.argv[0], sys.argv[1:]) if os.path.basename(sys.argv[0]) == PROG else (PROG, [])
                    argv = [w for i, w in enumerate(argv) if "--resume" not in (w.split("=")[0], ["", *argv][i])]
                    print(f"stopped at step {self.snapshot['training']['global_step']}: continue with `"  # as run
                          f"{shlex.join(['python', again, *argv, '--resume', self.path])}`", flush=True)
            elif self.snapshot is None and self.code:
                print(f"{PROG}: stopped before its first iteration finished: nothing was saved", file=sys.stderr)
        finally:
            with contextlib.suppress(Exception):  # a recorder whose render fails on close: the run is saved already
                self.envs.close()
            self.writer.close()
            if self.wandb:
                self.send_videos()
                self.wandb.finish()
            for name, handler in self.previous.items():  # not start-up's, which would say that nothing was saved
                signal.signal(getattr(signal, name), signal.SIG_DFL if handler is _stopped_during_start_up else handler)
            self.lock.release()
        if isinstance(error, OSError) and error.errno in (errno.ENOSPC, errno.EDQUOT):
            then = ", then --resume the run from its checkpoint" if os.path.exists(self.path) else ""
            fail(f"the disk is full ({error.strerror}): free some space{then}")
        compiler = kind and kind.__module__.startswith(("torch._inductor", "torch._dynamo"))
        if getattr(self.args, "compile", False) and compiler:  # a $CXX that is not a C++ compiler, say
            said = (str(error).strip().splitlines() or [""])[0][:160]
            fail(f"--compile: torch.compile failed ({kind.__name__}: {said}): check the C++ compiler it runs ($CXX, "
                 "or else g++), or run without --compile")


def extended(args, saved):
    """--resume with a larger --total-timesteps: one line on what happens to the annealed schedules."""
    before, schedules = saved["args"].get("total_timesteps"), (("learning rate", "anneal_lr"), ("clip", "anneal_clip"))
    annealed = [what for what, flag in schedules if getattr(args, flag, False)]
    if args.total_timesteps != before and annealed:
        frac = 1.0 - saved["training"]["iteration"] / (args.total_timesteps // (args.num_envs * args.num_steps))
        print(f"--total-timesteps {args.total_timesteps} (the run had {before}): the {' and '.join(annealed)} "
              f"{'anneals' if len(annealed) == 1 else 'anneal'} over the new total, from {frac:.3f} of the base value "
              f"at step {saved['training']['global_step']} to 0", flush=True)  # fmt: skip


def new_run_dir(run_name):
    """Claims runs/{run_name} (made atomically): a second run started in the same second with the same env,
    name and seed gets {run_name}-2, never the first one's directory."""
    for name in [run_name] + [f"{run_name}-{n}" for n in range(2, 1000)]:
        with failing(f"cannot write runs/{name} ({CAUSE}): {FIX}", OSError), contextlib.suppress(FileExistsError):
            os.makedirs(os.path.join("runs", name))
            return name
    fail(f"runs/{run_name} and 998 more like it exist: pass another --exp-name")


def lock_run(run_dir):
    """Holds run_dir for this process (filelock: an flock, or Windows' own lock, which the system drops when the
    process ends, however it ends): a second process resuming the same run is refused in one line."""
    lock = filelock.FileLock(os.path.join(run_dir, ".lock"), timeout=0)
    with failing(f"cannot write {run_dir} ({CAUSE}): {FIX}", OSError):
        try:
            lock.acquire()
        except filelock.Timeout:  # an OSError too: caught first
            fail(f"{run_dir} is in use by another process that runs it: wait for it to end, or stop it first")
    return lock


def check_finite_output(value, what, step, env_id, holds):
    """An env's observation or reward that is not finite ends the run in one line naming the env, and holds()."""
    if np.asarray(value).dtype.kind == "f" and not np.isfinite(value).all():  # frames are integers, always finite
        fail(f"the env returned a non-finite {what} (nan or inf) at its step {step}: check {env_id}; {holds()}")


def check_finite(agent, iteration, kept, *losses):
    """A loss or a weight that is not finite stops the run in one line saying what is `kept`: the checkpoint
    written on the way out is the last snapshot, taken after this check passed."""
    if not all(torch.isfinite(torch.as_tensor(x)).all() for x in [*losses, *agent.parameters()]):
        fail(f"training diverged at iteration {iteration} (a loss or a weight is not finite): try a smaller step "
             f"size; {kept}")


# -------------------------------------------------------------------------------------------- checkpoints
def state_copy(value):
    """A kept object as a checkpoint holds it: a copy that training cannot change."""
    if isinstance(value, np.ndarray):
        return torch.tensor(value)
    if isinstance(value, deque):
        return [float(x) for x in value]
    return copy.deepcopy({k: v.detach().cpu() if torch.is_tensor(v) else v for k, v in value.state_dict().items()})


def restore(value, saved):
    """Puts a saved copy back into value, in place. Refused: another shape or dtype (it would broadcast, or cast),
    and a number out of its range (nan, a negative variance or step size), which would read as a run that diverged."""
    if isinstance(value, np.ndarray):
        value[:] = check_tensor(saved, torch.from_numpy(value), "an array").numpy()
    elif isinstance(value, deque):  # a list of at most maxlen finite returns
        if type(saved) is not list or len(saved) > value.maxlen:
            raise ValueError(f"its recent returns are not a list of {value.maxlen} numbers or fewer")
        returns = torch.tensor(saved, dtype=torch.float64)  # bools and whole numbers are numbers too; lists are not
        value.extend(check_tensor(returns, torch.zeros(len(saved), dtype=torch.float64), "its recent returns").tolist())
    elif isinstance(value, torch.optim.Optimizer):  # its kernels trust the shapes: a wrong one corrupts memory
        params = [p for group in value.param_groups for p in group["params"]]
        for group, mine in zip(saved["param_groups"], value.state_dict()["param_groups"], strict=True):
            if repr({**group, "lr": 0}) != repr({**mine, "lr": 0}):  # repr: a 0 or tensor(False) is not False
                raise ValueError("the optimiser's settings differ from this run's")
            check_tensor(torch.tensor(group["lr"]), torch.tensor(0.0), "the optimiser's step size", low=0)
        # every weight's (Adam keeps each one's moments from the first step; a lost one would restart silently)
        for index, state in {**dict.fromkeys(range(len(params)), {}), **saved["state"]}.items():
            if set(state) != {"step", "exp_avg", "exp_avg_sq"}:
                raise ValueError(f"the optimiser's state of weight {index} holds {sorted(state)}")
            state["step"] = check_tensor(state["step"], torch.tensor(0.0), "the optimiser's step", low=0).clone()
            for key, low in (("exp_avg", -math.inf), ("exp_avg_sq", 0)):  # clones: no view, no shared tensor
                state[key] = check_tensor(state[key], params[index], f"the optimiser's {key}", low).clone()
        value.load_state_dict(saved)
    else:  # a model or statistic: each tensor keeps its shape (a variance is 0 or more), a number is a positive count
        for key, current in value.state_dict().items():
            if torch.is_tensor(current):
                check_tensor(saved[key], current, f"its {key}", low=0 if key == "var" else -math.inf)
            elif not (type(saved[key]) in (int, float) and 0 < float(saved[key]) < math.inf):
                raise ValueError(f"its {key} is out of range")
        value.load_state_dict(saved)


def check_tensor(saved, like, what, low=-math.inf):
    """saved, if it is a tensor of like's shape and dtype whose numbers are finite and at least low; else ValueError."""
    if not torch.is_tensor(saved) or (saved.shape, saved.dtype) != (like.shape, like.dtype):
        have = f"a {tuple(saved.shape)} {saved.dtype} tensor" if torch.is_tensor(saved) else "a " + type(saved).__name__
        raise ValueError(f"{what} is {have}, where this run has a {tuple(like.shape)} {like.dtype} tensor")
    if saved.is_floating_point() and not (saved.isfinite().all() and (saved >= low).all()):
        raise ValueError(f"{what} is out of range (nan, inf" + (f", or below {low})" if low > -math.inf else ")"))
    return saved


def rng_state(rng):
    """Every random stream of the run: python's, numpy's, torch's (and CUDA's), and the rollout's generator."""
    _, keys, pos, has_gauss, gauss = np.random.get_state()
    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else []
    return dict(python=random.getstate(), numpy=(torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
                torch=torch.get_rng_state(), cuda=cuda, rollout=rng and rng.bit_generator.state)  # fmt: skip


def set_rng_state(state, rng):
    keys, pos, has_gauss, gauss = state["numpy"]
    check_tensor(keys, torch.zeros(624, dtype=torch.int64), "numpy's key")  # numpy trusts pos and the key's size
    if not (type(pos) is int and 0 <= pos <= 624 and has_gauss in (0, 1) and type(gauss) is float):
        raise ValueError("numpy's random state is out of range")
    random.setstate(state["python"])
    np.random.set_state(("MT19937", keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    if rng is not None:
        rng.bit_generator.state = state["rollout"]


def save_checkpoint(path, state):
    """Serialised in memory, written to a new temporary file (a link, pipe or file at its name is unlinked, never
    written through), then renamed: a stop never leaves half a checkpoint; a full disk fails the write that met it."""
    torch.save(state, buffer := io.BytesIO())
    try:
        with failing(f"could not write the checkpoint {path} ({CAUSE}): {FIX}", OSError):
            with contextlib.suppress(OSError):
                os.remove(path + ".tmp")  # what a stopped write, or someone else, left there
            with open(path + ".tmp", "xb", opener=lambda p, flags: os.open(p, flags | os.O_NOFOLLOW, 0o666)) as f:
                f.write(buffer.getbuffer())
                f.flush()
                os.fsync(f.fileno())
            os.replace(path + ".tmp", path)
    finally:
        with contextlib.suppress(OSError):
            os.remove(path + ".tmp")


def read_checkpoint(path, flag):
    """The checkpoint at path, for --resume or --eval-checkpoint (flag), if this script wrote it; else one line.
    weights_only=True: the file can hold tensors and plain containers, nothing that runs code."""
    if not os.path.isfile(path):
        fail(f"no checkpoint at '{path}': pass the .pt file in the run's directory (runs/<run_name>/)")
    with failing(f"'{path}' is not a checkpoint written by {PROG}: pass one that is"):
        with warnings.catch_warnings():  # torch's warning about a plain pickle: the one line below says it all
            warnings.simplefilter("ignore")
            state = torch.load(path, map_location="cpu", weights_only=True)
        script = state["script"]  # not a dict, or no script: not a checkpoint
    if script != PROG and script in SCRIPTS:  # a name of ours, not a command from the file
        verb = "resume" if flag == "--resume" else "evaluate"
        fail(f"'{path}' was saved by {script}: {verb} it with `python {script} {flag} {shlex.quote(path)}`")
    with failing(f"'{path}' is not a checkpoint written by {PROG}: pass one that is"):
        if script != PROG:
            raise ValueError(f"saved by {script!r}")
        typeguard.check_type(state["env_id"], str)
        for value in typeguard.check_type(state["args"], dict).values():  # each one a single value, not just the first
            typeguard.check_type(value, typing.Union[int, float, str, None])
    return state


def read_resume(args, script, given):
    """--resume: the checkpoint, whose flags the run keeps; one given on the command line may differ only if it
    is in MAY_CHANGE. Each stored flag must have the type its field has."""
    state = read_checkpoint(args.resume, "--resume")
    if type(state.get("format")) is not int or state["format"] != CHECKPOINT_FORMAT or "training" not in state:
        fail(f"'{args.resume}' holds the training state of an older version of {PROG}, which --resume cannot "
             f"read: start the run anew (--eval-checkpoint still evaluates its policy)")
    hints = typing.get_type_hints(type(args))
    for field, value in state["args"].items():  # first: the numbers below use them
        if field in hints:
            with failing(f"'{args.resume}' is damaged: its --{field.replace('_', '-')} {value!r} is not "
                         f"{describe(hints[field])}: resume a checkpoint that {PROG} wrote"):  # fmt: skip
                typeguard.check_type(value, hints[field])
                if isinstance(value, bool) and hints[field] is not bool:
                    raise TypeError("a bool")
                if type(value) is int and float in (hints[field], *typing.get_args(hints[field])):  # as tyro gives it
                    state["args"][field] = float(value)  # an int past 2**63 would overflow the tensors' scalars
    with failing(f"'{args.resume}' does not fit this run ({CAUSE}): resume it with its own script"):
        training, saved = typeguard.check_type(state["training"], dict), state["args"]
        for field, kind in (("iteration", int), ("global_step", int), ("kl_beta", float)):  # as the scripts keep them
            if (field in training or field != "kl_beta") and type(training[field]) is not kind:  # a bool is an int
                raise TypeError(f"its {field} is a {type(training[field]).__name__}, not a {kind.__name__}")
        if not 0 <= training["iteration"] <= 2**40 or training["global_step"] != training["iteration"] * int(
                saved["num_envs"]) * int(saved["num_steps"]):  # fmt: skip
            raise ValueError(f"iteration {training['iteration']} at step {training['global_step']}")
        beta = torch.tensor(training.get("kl_beta", 0.0), dtype=torch.float64)  # a run's own may pass float32's max
        check_tensor(beta, beta.new_zeros(()), "its KL beta", low=0)
        if training.get("wandb_id") is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", training["wandb_id"]):
            raise ValueError("a W&B run id of other characters than W&B's")
    may_change = MAY_CHANGE | script.MAY_CHANGE
    defaults = dataclasses.asdict(type(args)())
    for field, value in dataclasses.asdict(args).items():
        if field not in saved or value == saved[field]:
            continue
        flag_given = value != defaults[field] or field in given  # on the command line, or set other than default
        if flag_given and field not in may_change:
            allowed = ", ".join("--" + n.replace("_", "-") for n in sorted(may_change - {"resume", "eval_checkpoint"}))
            fail(f"--{field.replace('_', '-')} {value}: the run was started with {saved[field]}, and --resume keeps "
                 f"it (only {allowed} may change)")
        if not flag_given and field not in OWN:
            setattr(args, field, saved[field])  # the run's own value
    return state


def episodes(make_env, env_id, capture_video, run_name, sizes, act, eval_episodes, seed):
    """The returns of eval_episodes episodes of the script's env with the action act(obs, action_space). The
    policy's sizes (observation, action) must be the env's: other ones would still run, to no purpose. An env
    without a time limit gets one of EVAL_MAX_STEPS, and a line says so (or a good policy would never end)."""
    env = make_env(env_id, 0, capture_video, run_name)()
    space = env.action_space
    fits = (env.observation_space.shape[0], int(space.n) if isinstance(space, gym.spaces.Discrete) else space.shape[0])
    if sizes != fits:
        raise ValueError(f"the policy takes {sizes[0]} numbers, acts in {sizes[1]}; the env: {fits[0]} and {fits[1]}")
    if env.spec is None or env.spec.max_episode_steps is None:
        print(f"{env_id} has no time limit: each evaluation episode is cut at {EVAL_MAX_STEPS} steps", flush=True)
        env = gym.wrappers.TimeLimit(env, EVAL_MAX_STEPS)
    obs, _ = env.reset(seed=seed)
    episodic_returns, episodic_return = [], 0.0
    while len(episodic_returns) < eval_episodes:
        obs, reward, terminated, truncated, _ = env.step(act(obs, space))
        episodic_return += float(reward)
        if terminated or truncated:
            episodic_returns.append(episodic_return)
            episodic_return = 0.0
            obs, _ = env.reset()
    env.close()
    return episodic_returns


def cli(args_class):
    """`python script.py ...` (args_class's script): parse, run main; no memory, or a closed output, is one line."""
    sys.stdout.reconfigure(errors="surrogateescape")  # a path's bytes that are not UTF-8 are printed as they are
    args = parse_args(script := sys.modules[args_class.__module__])
    try:
        script.main(args)
    except MemoryError:
        fail("out of memory for the rollout's storage: lower --num-steps or --num-envs")
    except BrokenPipeError:  # stdout's reader ended; leaving `with run:` saved the run, as after a stop signal
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # the exit's own flush goes nowhere
        fail("its output closed (e.g. `| head` ended): stopped, last iteration saved; send it to a file (`> log.txt`)")


if __name__ == "__main__":  # `python run_management.py ...`: it has no command line of its own
    fail(f"this module is imported by the scripts, not run: run one of them, e.g. `python {SCRIPTS[0]} --help`")

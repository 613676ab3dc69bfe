"""Experiment (issue 20): CleanRL's ppo_atari.py and ours in lockstep, on the same games and the same draws.

Both scripts run here, one after the other, in this process, for a few iterations from the same seed, on
CleanRL's wrappers (ours through wrapper_stack.py's default, whose hidden steps at a lost life are the
wrappers' own). CleanRL's script (benchmark/baselines/cleanrl_ppo_atari.py) runs first, as it is, and what it
draws is recorded: each step's actions and each epoch's minibatch order. Ours then runs with those draws put
in place of its own (its torch.multinomial and torch.randperm return them) and with CleanRL's constant clip
(--no-anneal-clip). The two then see the same frames and take the same minibatches, so any difference in what
they compute (the losses, their clipping, the advantages, the schedules, the optimiser) shows in the
parameters. Compared after every optimiser step: the distance between the two parameter vectors, relative to
how far CleanRL's have moved from their shared start. As the yardstick of float rounding, ours runs a second
time on 2 torch threads (the same sums in another order, nothing else changed; ours also runs the CNN
channels-last and with a fused Adam, CleanRL's does neither): training amplifies rounding from step to step,
so the distance grows over the iterations either way, and what tells a real difference is the distance
between the two scripts against the yardstick's.

    python benchmark/experiments/lockstep.py [--iterations 4] [--seed 1] [-- FLAG...]

Flags after `--` go to ours only (e.g. `-- --vf-coef 0.51`, to see how large a small real difference looks).
Prints a table: per iteration, whether the frames and rewards were the same, and the largest relative distance
over its optimiser steps, CleanRL's against ours and ours against ours on 2 threads.
"""

import argparse
import contextlib
import os
import runpy
import sys
import tempfile
from unittest import mock

import gymnasium as gym
import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wrapper_stack  # noqa: E402  (puts the project's root and benchmark/baselines on sys.path, or exits)
import ppo_atari  # noqa: E402
import run_management  # noqa: E402

CLEANRL = os.path.join(wrapper_stack.BASELINES, "cleanrl_ppo_atari.py")
DEFAULTS = ppo_atari.Args()  # the batch's shape, the same in CleanRL's script


def patched(*replacements):
    """(object, attribute, value) set for the block, then put back."""
    stack = contextlib.ExitStack()
    for obj, name, value in replacements:
        stack.enter_context(mock.patch.object(obj, name, value))
    return stack


def flat(params):
    return torch.cat([p.detach().reshape(-1).clone() for p in params])


def recording(trace):
    """Replacements that record, into trace, the parameters before the first optimiser step and after each, and
    every step's frames and rewards as the vector env returns them."""
    adam_step, env_step = torch.optim.Adam.step, gym.vector.SyncVectorEnv.step

    def step(self, *a, **kw):
        params = [p for group in self.param_groups for p in group["params"]]
        if not trace["params"]:
            trace["params"].append(flat(params))
        out = adam_step(self, *a, **kw)
        trace["params"].append(flat(params))
        return out

    def vector_step(self, actions):
        result = env_step(self, actions)
        trace["frames"].append(np.array(result[0]))
        trace["rewards"].append(np.sign(result[1]))  # CleanRL's wrappers clip; ours clips in the loop
        return result

    return [(torch.optim.Adam, "step", step), (gym.vector.SyncVectorEnv, "step", vector_step)]


def run_cleanrl(iterations, seed):
    """CleanRL's script, as it is: its trace, and the draws it made (actions per step, minibatch orders)."""
    trace, draws = {"params": [], "frames": [], "rewards": []}, {"actions": [], "orders": []}
    sample, shuffle = torch.distributions.Categorical.sample, np.random.shuffle

    def recorded_sample(self, *a, **kw):
        action = sample(self, *a, **kw)
        draws["actions"].append(action.clone())
        return action

    def recorded_shuffle(x):
        shuffle(x)
        draws["orders"].append(np.array(x))

    total = str(iterations * DEFAULTS.num_envs * DEFAULTS.num_steps)
    argv = [CLEANRL, "--seed", str(seed), "--total-timesteps", total, "--no-cuda"]
    with patched(*recording(trace), (torch.distributions.Categorical, "sample", recorded_sample),
                 (np.random, "shuffle", recorded_shuffle), (sys, "argv", argv)):  # fmt: skip
        runpy.run_path(CLEANRL, run_name="__main__")
    return trace, draws


def run_ours(iterations, seed, draws, flags=()):
    """ppo_atari.py's loop on CleanRL's wrappers, its random draws replaced by CleanRL's."""
    trace = {"params": [], "frames": [], "rewards": []}
    actions, orders = iter(draws["actions"]), iter(draws["orders"])

    def multinomial(probs, num_samples):
        return next(actions).reshape(-1, 1)

    def randperm(n, device=None):
        return torch.as_tensor(next(orders), device=device)

    total = str(iterations * DEFAULTS.num_envs * DEFAULTS.num_steps)
    argv = ["ppo_atari.py", "--seed", str(seed), "--total-timesteps", total, "--no-anneal-clip", "--checkpoint-every",
            "0", "--num-threads", "1", *flags]  # fmt: skip
    # parse_args records the flags given (GIVEN_FLAGS, which --resume reads) and the program's name: put back
    # afterwards, as the rest
    with patched(*recording(trace), (torch, "multinomial", multinomial), (torch, "randperm", randperm),
                 (ppo_atari, "make_envs", wrapper_stack.make_envs), (sys, "argv", argv),
                 (run_management, "GIVEN_FLAGS", run_management.GIVEN_FLAGS),
                 (run_management, "PROG", run_management.PROG)):  # fmt: skip
        ppo_atari.main(run_management.parse_args(ppo_atari))
    return trace


def distances(a, b, start):
    """Per optimiser step: |a - b| / |a - start| of two runs' parameter vectors (start: the shared one)."""
    return [float((x - y).norm() / (x - start).norm()) for x, y in zip(a["params"][1:], b["params"][1:], strict=True)]


def lockstep(iterations=4, seed=1, flags=(), yardstick=("--torch-threads", "2")):
    """Rows per iteration: frames equal, rewards equal, and the largest relative distance over its optimiser
    steps between CleanRL's parameters and ours (run with flags), and between ours and ours again with the
    yardstick's flags (2 torch threads: float sums in another order, nothing else changed)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # both scripts on one thread: the same order of float sums
    # each script writes runs/ in the folder; their progress lines go to stderr
    try:
        with tempfile.TemporaryDirectory() as d, contextlib.chdir(d), contextlib.redirect_stdout(sys.stderr):
            theirs, draws = run_cleanrl(iterations, seed)
            ours = run_ours(iterations, seed, draws, flags)
            again = run_ours(iterations, seed, draws, [*flags, *yardstick])
    finally:
        torch.set_num_threads(threads)
    start = theirs["params"][0]
    assert torch.equal(start, ours["params"][0]), "the two networks start from different parameters"
    gap, rounding = distances(theirs, ours, start), distances(ours, again, start)
    steps, rows = DEFAULTS.num_minibatches * DEFAULTS.update_epochs, []  # optimiser steps an iteration
    for i in range(iterations):
        span = slice(i * DEFAULTS.num_steps, (i + 1) * DEFAULTS.num_steps)
        frames = all((a == b).all() for a, b in zip(theirs["frames"][span], ours["frames"][span], strict=True))
        rewards = all((a == b).all() for a, b in zip(theirs["rewards"][span], ours["rewards"][span], strict=True))
        rows.append((bool(frames), bool(rewards), max(gap[i * steps : (i + 1) * steps]),
                     max(rounding[i * steps : (i + 1) * steps])))  # fmt: skip
    return rows


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("flags", nargs="*", help="after --: flags for ppo_atari.py only")
    cli = parser.parse_args()
    if cli.iterations < 1:
        parser.exit(2, "lockstep.py: error: --iterations must be at least 1\n")
    if not os.path.isfile(CLEANRL):
        parser.exit(2, "lockstep.py: error: no benchmark/baselines/cleanrl_ppo_atari.py: run python "
                       "benchmark/baselines/fetch.py\n")
    print("| iteration | frames equal | rewards equal | CleanRL against ours | ours against ours on 2 threads |")
    print("|---|---|---|---|---|")
    for i, (frames, rewards, gap, rounding) in enumerate(lockstep(cli.iterations, cli.seed, cli.flags), 1):
        print(f"| {i} | {frames} | {rewards} | {gap:.2e} | {rounding:.2e} |")

"""Steps per second of our scripts against CleanRL's, measured alternately in one run on one machine.

    python benchmark/sps.py                      # ppo_continuous.py vs CleanRL's ppo_continuous_action.py
    python benchmark/sps.py --atari              # ppo_atari.py vs CleanRL's ppo_atari.py
    python benchmark/sps.py --atari --cuda       # the same, the networks on the GPU
    python benchmark/sps.py --atari --baseline PATH   # against another ppo_atari-style script (an older copy of ours)

Continuous: HalfCheetah-v4, 1 env, 2048 steps, 10 epochs, 32 minibatches. Atari: BreakoutNoFrameskip-v4,
the scripts' defaults (8 envs x 128 steps, 4 epochs of 4 minibatches). End to end, each run's SPS is the
one the script itself prints after its last iteration (env steps / wall time since the first reset).

With --atari, two more measurements: the rollout alone (the environments and the forward pass that
picks the action, no storage and no update) and the environments alone (uniform random actions, no
network). On a machine with few cores the CNN takes most of an Atari run's time and hides how fast
the environments step; these show it.

The baselines default to CleanRL's scripts in benchmark/baselines/, which `python benchmark/baselines/fetch.py`
writes there (CleanRL's at a pinned commit, adapted to run on our requirements); without them, ours is measured
alone.
"""

import argparse
import importlib.util
import inspect
import os
import re
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from report import OneLineParser, fail  # beside this file: one-line errors, as every tool here

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BASELINES = os.path.join(HERE, "baselines")  # CleanRL's scripts, written by FETCH_BASELINES
FETCH_BASELINES = "python benchmark/baselines/fetch.py"
TASKS = {  # ours, the baseline's file name, default env and steps per run
    "continuous": ("ppo_continuous.py", "cleanrl_ppo_continuous_action.py", "HalfCheetah-v4", 20480),
    "atari": ("ppo_atari.py", "cleanrl_ppo_atari.py", "BreakoutNoFrameskip-v4", 20480),
}


def run_checked(cmd, cwd=None):
    """The stdout of cmd, run on one thread; if it fails, the run ends with the command and the last line it printed."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}  # one core each, as the sweeps run them
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or proc.stdout.strip().splitlines() or ["no output"])[-1]
        shown = " ".join(os.path.basename(c) if c.endswith(".py") else c for c in cmd[1:])
        if "No module named 'run_management'" in last:  # a copy of one of our scripts, alone in its folder
            last += ": put its commit's run_management.py beside it (git archive COMMIT SCRIPT run_management.py)"
        fail(f"{shown} exited {proc.returncode}: {last}", code=2 if proc.returncode == 2 else 1)
    return proc.stdout


def measure(script, steps, env_id, extra=(), log=None):
    """Runs one training job in a scratch directory; returns the last SPS it printed. log: a file that keeps the
    command and what it printed (each iteration's SPS; the compile time a --compile run reports)."""
    cmd = [sys.executable, script, "--env-id", env_id, "--total-timesteps", str(steps), *extra]
    with tempfile.TemporaryDirectory() as cwd:
        out = run_checked(cmd, cwd)
    if log:
        with open(log, "w") as f:
            f.write(shlex.join(cmd) + "\n" + out)
    found = re.findall(r"SPS(?:=|: )(\d+)", out)  # ours print SPS=N, CleanRL's SPS: N
    if not found:
        fail(f"{os.path.basename(script)} printed no SPS: pass a training script that prints SPS=N or SPS: N")
    return int(found[-1])


def rollout_sps(script, env_id, num_envs, steps, cuda, random_actions=False):
    """Environments + action selection only, with the script's own env construction and Agent
    (with random_actions, the environments alone).

    Works with ppo_atari.py (make_envs: ale-py's vector env) and with scripts that build one gymnasium
    env per actor with make_env(env_id, idx, capture_video, run_name), as CleanRL's ppo_atari.py does.
    """
    import gymnasium as gym
    import numpy as np
    import torch

    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # CleanRL's imports its wrappers from beside it
    spec = importlib.util.spec_from_file_location("measured", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the scripts train only under `if __name__ == "__main__"`
    if hasattr(module, "make_envs"):
        envs = module.make_envs(env_id, num_envs)
    else:
        thunks = [module.make_env(env_id, i, False, "sps") for i in range(num_envs)]
        envs = gym.vector.SyncVectorEnv(thunks, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    takes_envs = "envs" in inspect.signature(module.Agent).parameters  # CleanRL: Agent(envs)
    device = torch.device("cuda" if cuda else "cpu")
    agent = (module.Agent(envs) if takes_envs else module.Agent(int(envs.single_action_space.n))).to(device)
    obs, _ = envs.reset(seed=1)
    rng = np.random.default_rng(1)
    for i in range(-10, steps // num_envs):  # 10 steps of warm-up, then the timed ones
        if i == 0:
            start = time.perf_counter()
        if random_actions:
            obs, *_ = envs.step(rng.integers(0, envs.single_action_space.n, num_envs))
            continue
        with torch.no_grad():
            action = agent.get_action_and_value(torch.as_tensor(obs, device=device))[0]
        obs, *_ = envs.step(action.cpu().numpy())
    sps = (steps // num_envs) * num_envs / (time.perf_counter() - start)
    envs.close()
    return sps


def bare_env_sps(env_id, steps):
    """Steps per second of gymnasium.make(env_id) alone, with uniform random actions: the ceiling of a script."""
    import warnings

    import gymnasium as gym

    with warnings.catch_warnings():  # -v4 is out of date, gymnasium warns; the scripts say why they use it
        warnings.simplefilter("ignore", DeprecationWarning)
        env = gym.make(env_id)
    env.reset(seed=1)
    env.action_space.seed(1)
    actions = [env.action_space.sample() for _ in range(1000)]
    start = time.perf_counter()
    for i in range(steps):
        _, _, terminated, truncated, _ = env.step(actions[i % 1000])
        if terminated or truncated:
            env.reset()
    sps = steps / (time.perf_counter() - start)
    env.close()
    return sps


def rollout_in_subprocess(script, env_id, steps, cuda, random_actions=False):
    cmd = [sys.executable, __file__, "--rollout-of", script, "--env-id", env_id, "--steps", str(steps)]
    cmd += (["--cuda"] if cuda else []) + (["--random-actions"] if random_actions else [])
    return float(re.findall(r"rollout SPS=([\d.]+)", run_checked(cmd))[-1])


def find_baseline(name):
    path = os.path.join(BASELINES, name)
    return path if os.path.isfile(path) else None


def report(rows, what, baseline):
    """rows: [(label, [SPS of each run])], the baseline's among them: medians, and each row's ratio to the baseline's
    (baseline: its runs, empty when it was not measured)."""
    rows = [(label, runs) for label, runs in rows if runs]
    print(f"\n{what}, median of {len(rows[0][1])}" + (", ratio to the baseline:" if baseline else ":"))
    base, width = statistics.median(baseline) if baseline else None, max(len(label) for label, _ in rows)
    for label, runs in rows:
        ratio = f"{statistics.median(runs) / base:6.2f}x" if base else ""
        each = ", ".join(f"{x:.0f}" for x in runs)
        print(f"  {label:<{width}} {statistics.median(runs):8.0f} SPS {ratio}   runs: {each}")


def main():
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--atari", action="store_true", help="measure ppo_atari.py (default: ppo_continuous.py)")
    parser.add_argument("--env-id", default=None,
                        help="default: HalfCheetah-v4, or BreakoutNoFrameskip-v4 with --atari")
    parser.add_argument("--steps", type=int, default=None, help="env steps per measured run (default 20480)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script, alternating")
    parser.add_argument("--baseline", default=None, help="the script to compare with (default: CleanRL's, if found)")
    parser.add_argument("--cuda", action="store_true", help="pass --cuda to both scripts (the networks on the GPU)")
    parser.add_argument("--no-end-to-end", action="store_true", help="with --atari: time the rollout only")
    parser.add_argument("--no-compile", action="store_true", help="leave out the runs of ours with --compile")
    parser.add_argument("--logs", metavar="DIR", default=None,
                        help="keep each end-to-end run's output in DIR/run<N>-<ours|compile|baseline>.log")
    parser.add_argument("--script", choices=["ppo_continuous.py", "trpo_continuous.py"], default=None,
                        help="ours, when not --atari (trpo_continuous.py has no --compile; compare it with --baseline)")
    # --rollout-of: the worker process of rollout_in_subprocess
    parser.add_argument("--rollout-of", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--random-actions", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rollout_of:
        sps = rollout_sps(args.rollout_of, args.env_id, 8, args.steps, args.cuda, args.random_actions)
        print(f"rollout SPS={sps:.1f}")
        return

    if args.steps is not None and args.steps < 1 or args.repeats < 1:
        fail("--steps and --repeats must be at least 1")
    if args.baseline is not None and not os.path.isfile(args.baseline):
        fetch = f" (CleanRL's: {FETCH_BASELINES} writes them)" if "cleanrl_" in os.path.basename(args.baseline) else ""
        fail(f"--baseline {args.baseline}: no such file; pass the path of a script to compare with{fetch}")
    ours_name, baseline_name, default_env, default_steps = TASKS["atari" if args.atari else "continuous"]
    if args.script and args.atari:
        fail("--script picks a continuous script: leave it out with --atari")
    if args.no_end_to_end and not args.atari:
        fail("--no-end-to-end leaves only the rollout measurements, which are --atari's: add --atari or leave it out")
    ours_name = args.script or ours_name
    if args.logs:
        try:
            os.makedirs(args.logs, exist_ok=True)
        except OSError as e:
            fail(f"--logs {args.logs}: cannot make it ({e.strerror}): pass a directory you can write to")
    log = lambda i, what: args.logs and os.path.join(args.logs, f"run{i + 1}-{what}.log")  # noqa: E731
    args.no_compile = args.no_compile or ours_name == "trpo_continuous.py"
    env_id, steps = args.env_id or default_env, args.steps or default_steps
    ours_script = os.path.join(ROOT, ours_name)
    baseline = os.path.abspath(args.baseline) if args.baseline else find_baseline(baseline_name)  # run elsewhere
    if baseline is None:
        print(f"(no benchmark/baselines/{baseline_name}: measuring ours only; {FETCH_BASELINES} writes it)")
    # CleanRL's scripts default to the GPU, so theirs get --no-cuda on the CPU; ours default to the CPU
    ours_extra, theirs_extra = ["--cuda"] if args.cuda else [], ["--cuda" if args.cuda else "--no-cuda"]
    if baseline and "cleanrl" not in os.path.basename(baseline) and "cleanrl" not in baseline:
        theirs_extra = ours_extra  # another copy of one of our scripts
    print(f"{env_id}, {steps} steps per run; ours: {ours_script}; baseline: {baseline}")

    ours, compiled, theirs, bare, ours_roll, theirs_roll, ours_env, theirs_env = [], [], [], [], [], [], [], []
    for i in range(args.repeats):
        if not args.no_end_to_end:
            ours.append(measure(ours_script, steps, env_id, ours_extra, log(i, "ours")))
            print(f"run {i + 1}: {ours_name} end to end {ours[-1]} SPS", flush=True)
            if not args.no_compile:  # compilation included, as a user's run pays it
                compiled.append(measure(ours_script, steps, env_id, ours_extra + ["--compile"], log(i, "compile")))
                print(f"run {i + 1}: {ours_name} --compile end to end {compiled[-1]} SPS", flush=True)
            if not args.atari:
                bare.append(bare_env_sps(env_id, steps))
                print(f"run {i + 1}: gymnasium.make({env_id}) alone {bare[-1]:.0f} SPS", flush=True)
            if baseline:
                theirs.append(measure(baseline, steps, env_id, theirs_extra, log(i, "baseline")))
                print(f"run {i + 1}: baseline end to end {theirs[-1]} SPS", flush=True)
        if args.atari:
            ours_roll.append(rollout_in_subprocess(ours_script, env_id, steps, args.cuda))
            print(f"run {i + 1}: {ours_name} rollout only {ours_roll[-1]:.0f} SPS", flush=True)
            if baseline:
                theirs_roll.append(rollout_in_subprocess(baseline, env_id, steps, args.cuda))
                print(f"run {i + 1}: baseline rollout only {theirs_roll[-1]:.0f} SPS", flush=True)
            ours_env.append(rollout_in_subprocess(ours_script, env_id, steps, args.cuda, random_actions=True))
            print(f"run {i + 1}: {ours_name} envs only {ours_env[-1]:.0f} SPS", flush=True)
            if baseline:
                theirs_env.append(rollout_in_subprocess(baseline, env_id, steps, args.cuda, random_actions=True))
                print(f"run {i + 1}: baseline envs only {theirs_env[-1]:.0f} SPS", flush=True)

    label = os.path.relpath(baseline, ROOT) if baseline else ""
    if ours:
        rows = [(f"gymnasium.make({env_id}), random actions", bare), (ours_name, ours)]
        report(rows + [(f"{ours_name} --compile", compiled), (label, theirs)], "end to end", theirs)
    if ours_roll:
        report([(ours_name, ours_roll), (label, theirs_roll)], "rollout only (envs + action selection)", theirs_roll)
        report([(ours_name, ours_env), (label, theirs_env)], "envs only (8 envs, random actions)", theirs_env)


if __name__ == "__main__":
    main()

"""Steps per second of ppo_continuous.py, and of CleanRL's ppo_continuous_action.py when it is beside it.

Both scripts run the same settings (HalfCheetah-v4, 1 env, 2048 steps, 10 epochs, 32 minibatches), one
at a time, alternating, so the ratio is measured on one machine in one run. Each run's SPS is the one
the script itself reports after its last iteration (env steps / wall time since the first reset).

    python benchmark/sps.py                      # ours only
    python benchmark/sps.py --cleanrl PATH       # also CleanRL's script (default: benchmark/cleanrl/ppo_continuous_action.py)

CleanRL's file is not part of this repository; copy it to benchmark/cleanrl/ (git-ignored) to compare.
It must be a version for gymnasium 1.x (SAME_STEP autoreset).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def measure(script, pattern, steps, env_id, extra=()):
    """Runs one training job in a scratch directory; returns the last SPS it printed."""
    cmd = [sys.executable, script, "--env-id", env_id, "--total-timesteps", str(steps), *extra]
    with tempfile.TemporaryDirectory() as cwd:
        out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=True).stdout
    return int(re.findall(pattern, out)[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env-id", default="HalfCheetah-v4")
    parser.add_argument("--steps", type=int, default=20480, help="env steps per measured run (10 iterations)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of each script, alternating")
    parser.add_argument("--cleanrl", default=os.path.join(HERE, "cleanrl", "ppo_continuous_action.py"))
    args = parser.parse_args()

    ours_script = os.path.join(ROOT, "ppo_continuous.py")
    have_cleanrl = os.path.isfile(args.cleanrl)
    if not have_cleanrl:
        print(f"(no CleanRL script at {args.cleanrl}: measuring ours only)")
    ours, theirs = [], []
    for i in range(args.repeats):
        ours.append(measure(ours_script, r"SPS=(\d+)", args.steps, args.env_id))
        print(f"run {i + 1}: ppo_continuous.py {ours[-1]} SPS", flush=True)
        if have_cleanrl:
            theirs.append(measure(args.cleanrl, r"SPS: (\d+)", args.steps, args.env_id))
            print(f"run {i + 1}: cleanrl ppo_continuous_action.py {theirs[-1]} SPS", flush=True)

    print(f"\n{args.env_id}, {args.steps} steps per run, median of {args.repeats}:")
    print(f"ppo_continuous.py              {statistics.median(ours):6.0f} SPS")
    if have_cleanrl:
        print(f"cleanrl ppo_continuous_action  {statistics.median(theirs):6.0f} SPS")
        print(f"ratio                          {statistics.median(ours) / statistics.median(theirs):6.2f}x")


if __name__ == "__main__":
    main()

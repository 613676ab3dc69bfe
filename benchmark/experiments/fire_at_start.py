"""Experiment (issue 20): ppo_atari.py as it is, but ale-py's vector env presses FIRE at a game's start.

This was ppo_atari.py's default until Breakout measured it (benchmark/README.md, "Breakout learning"): the
env presses FIRE on a game's first frame and takes 0-28 no-op frames after it, so the agent first sees a
ball already in flight for a varying time. ppo_atari.py leaves FIRE to the agent, at a game's start as
after every lost life. Everything else is ppo_atari.make_envs's (`use_fire_reset=True` is the only change).

    python benchmark/sweep.py --script fire_at_start.py --env-ids BreakoutNoFrameskip-v4 --seeds 1 2 3 -- \\
        --total-timesteps 500000 --torch-threads 1 --num-threads 1
"""

import os
import sys

import ale_py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
import ppo_atari  # noqa: E402
import run_management  # noqa: E402

VectorEnv = ale_py.vector_env.AtariVectorEnv


def with_fire_reset(*args, **kwargs):
    return VectorEnv(*args, **{**kwargs, "use_fire_reset": True})


if __name__ == "__main__":
    ale_py.vector_env.AtariVectorEnv = with_fire_reset  # make_envs looks it up at each call
    run_management.cli(ppo_atari.Args)

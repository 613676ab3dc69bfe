"""Experiment (issue 20): ppo_atari.py as it is, but ale-py's vector env does not press FIRE at a game's start.

A game then starts with 0-29 no-op frames and waits for the agent to launch the ball itself, as it does after
every lost life; by default the env presses FIRE on the first frame and takes 0-28 no-ops after it, so the
agent first sees a ball already in flight for a varying time. Everything else is ppo_atari.make_envs's
(`use_fire_reset=False` is the only change).

    python benchmark/sweep.py --script agent_fires.py --env-ids BreakoutNoFrameskip-v4 --seeds 1 2 3 -- \\
        --total-timesteps 500000 --torch-threads 1 --num-threads 1
"""

import os
import sys

import ale_py

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
import ppo_atari  # noqa: E402

VectorEnv = ale_py.vector_env.AtariVectorEnv


def without_fire_reset(*args, **kwargs):
    return VectorEnv(*args, **{**kwargs, "use_fire_reset": False})


if __name__ == "__main__":
    ale_py.vector_env.AtariVectorEnv = without_fire_reset  # make_envs looks it up at each call
    ppo_atari.main(ppo_atari.parse_args())

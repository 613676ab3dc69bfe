"""Experiment (issue 20): each checkpoint's policy on both env stacks, ale-py's vector env and CleanRL's wrappers
(as wrapper_stack.py builds them, with --life-reset none), actions sampled: is either stack harder to play?

    python benchmark/experiments/cross_eval.py runs/*/ppo_atari.pt [--games 48]

Prints per checkpoint the mean whole-game return over the first N games on 8 envs (seed 100) and its standard
error, and the mean game length in agent steps, for each stack.
"""

import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import wrapper_stack  # noqa: E402  (puts the project's root on sys.path)
import ppo_atari  # noqa: E402

wrapper_stack.LIFE_RESET = "none"  # a lost life as the vector env leaves it: the stacks differ in nothing else


def play(agent, envs, games, seed=100):
    frames, _ = envs.reset(seed=seed)
    torch.manual_seed(seed)
    stats, ended = ppo_atari.GameStats(envs.num_envs), []
    while len(ended) < games:
        with torch.no_grad():
            action = agent.get_action_and_value(torch.as_tensor(np.asarray(frames)))[0].numpy()
        frames, reward, game_over, truncated, _ = envs.step(action)
        ended += stats.update(reward, game_over | truncated)
    envs.close()
    returns, lengths = np.array(ended[:games]).T
    return f"{returns.mean():.1f} ± {returns.std() / np.sqrt(games):.1f} (length {lengths.mean():.0f})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("checkpoints", nargs="+")
    parser.add_argument("--games", type=int, default=48)
    args = parser.parse_args()
    torch.set_num_threads(1)
    for path in args.checkpoints:
        (agent,) = ppo_atari.load_policy(torch.load(path, map_location="cpu", weights_only=False))
        vector = play(agent, ppo_atari.make_envs("BreakoutNoFrameskip-v4", 8, num_threads=1), args.games)
        wrappers = play(agent, wrapper_stack.make_envs("BreakoutNoFrameskip-v4", 8), args.games)
        print(f"{path}: vector env {vector}; wrappers {wrappers}", flush=True)


if __name__ == "__main__":
    main()

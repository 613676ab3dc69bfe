"""Ant-v4's reward terms under zero-mean Gaussian actions of a given log-std, clipped to the action
space as the scripts clip them: the control cost a policy pays for its exploration noise alone, beside
the healthy reward of staying up.

    python benchmark/experiments/ant_control_cost.py --logstds 0 -0.5 -1 --steps 20000
"""

import argparse

import gymnasium as gym
import numpy as np

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--logstds", type=float, nargs="+", default=[0.0, -0.5, -1.0])
parser.add_argument("--steps", type=int, default=20000)
parser.add_argument("--seed", type=int, default=0)
args = parser.parse_args()

rng = np.random.default_rng(args.seed)
print("| log-std | control cost per step | healthy reward per step | episodes ended |")
print("|---|---|---|---|")
for logstd in args.logstds:
    env = gym.make("Ant-v4")
    env.reset(seed=args.seed)
    low, high = env.action_space.low, env.action_space.high
    ctrl, healthy, episodes = [], [], 0
    for _ in range(args.steps):
        action = np.clip(np.exp(logstd) * rng.standard_normal(env.action_space.shape), low, high)
        _, _, terminated, truncated, info = env.step(action)
        ctrl.append(-info["reward_ctrl"])
        healthy.append(info["reward_survive"])
        if terminated or truncated:
            env.reset()
            episodes += 1
    print(f"| {logstd:g} | {np.mean(ctrl):.2f} | {np.mean(healthy):.2f} | {episodes} |")

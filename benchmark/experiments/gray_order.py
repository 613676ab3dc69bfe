"""Experiment (issue 20): on one Breakout screen, ALE's grayscale (the vector env's) against OpenCV's grayscale
of the RGB frame (CleanRL's wrappers), and gray-then-resize against resize-then-gray at 84x84 (INTER_AREA both).

    python benchmark/experiments/gray_order.py [--steps 62]
"""

import argparse

import ale_py
import cv2
import gymnasium as gym
import numpy as np

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("--steps", type=int, default=62, help="frames played (FIRE twice, then no-ops) before the screen")
args = parser.parse_args()
gym.register_envs(ale_py)
env = gym.make("BreakoutNoFrameskip-v4")
env.reset(seed=0)
for action in ([1, 1] + [0] * args.steps)[: args.steps]:
    env.step(action)
ale = env.unwrapped.ale
rgb, gray = ale.getScreenRGB(), ale.getScreenGrayscale()
full = np.abs(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(int) - gray.astype(int))
small_gray_first = cv2.resize(gray, (84, 84), interpolation=cv2.INTER_AREA)
small_rgb_first = cv2.cvtColor(cv2.resize(rgb, (84, 84), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)
small = np.abs(small_gray_first.astype(int) - small_rgb_first.astype(int))
print(f"210x160: ALE gray against OpenCV's gray of RGB: max difference {full.max()}")
print(f"84x84: gray then resize against resize then gray: max difference {small.max()}, mean {small.mean():.4f}")

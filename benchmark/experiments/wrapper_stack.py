"""Experiment (issue 20): ppo_atari.py as it is, but stepping CleanRL's wrapper stack instead of ale-py's vector env.

The algorithm is untouched: only make_envs is replaced. The games run in gymnasium's SyncVectorEnv through
CleanRL's own wrappers (../shared/baselines/cleanrl_atari_wrappers.py, imported as a measuring instrument,
not copied): 1-30 no-ops at a game's start, a skip of 4 with a max over the last two RGB frames, FIRE and
a step after a lost life as after a new game, a resize of the RGB frame to 84x84, then grayscale, and a
stack of 4 restarted (the first frame repeated) at each lost life. An adapter on top gives the loop the
vector env's contract: terminated means game over, a lost life shows only as `lives` going down, and the
observation after it is the one the wrappers' hidden reset (no-op, FIRE, RIGHT) returns.

    python benchmark/sweep.py --script wrapper_stack.py --env-ids BreakoutNoFrameskip-v4 --seeds 1 2 3 -- \\
        --total-timesteps 500000 --torch-threads 1 --num-threads 1 [--life-reset none] [--no-anneal-clip]

or on its own, e.g. `python benchmark/experiments/wrapper_stack.py --total-timesteps 500000` (it writes
runs/ in the working directory, as ppo_atari.py does). --life-reset MODE (taken
off the command line before the script's flags are read) says what happens at a lost life, the rest of the
stack staying the same: `full` (the default) as above; `none` as the vector env does (no hidden steps, the
stack goes on; `--no-life-reset` is the same); `fire` the hidden no-op, FIRE and RIGHT, the stack going on;
`restack` no hidden steps, the stack restarted with the newest frame repeated.
"""

import os
import sys

import gymnasium as gym
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path[:0] = [ROOT, os.path.join(os.path.dirname(ROOT), "shared", "baselines")]
import ppo_atari  # noqa: E402
from cleanrl_atari_wrappers import EpisodicLifeEnv, FireResetEnv, MaxAndSkipEnv, NoopResetEnv  # noqa: E402


MODES = ("full", "none", "fire", "restack")
LIFE_RESET = "none" if "--no-life-reset" in sys.argv else "full"
if "--life-reset" in sys.argv:
    at = sys.argv.index("--life-reset")
    LIFE_RESET = (sys.argv[at + 1 : at + 2] or [""])[0]
    if LIFE_RESET not in MODES:
        print(f"wrapper_stack.py: --life-reset {LIFE_RESET!r}: pass one of {', '.join(MODES)}", file=sys.stderr)
        sys.exit(2)
    del sys.argv[at : at + 2]
sys.argv = [a for a in sys.argv if a != "--no-life-reset"]


class LifeLossAdapter(gym.Wrapper):
    """terminated = game over only; at a lost life the wrappers' reset runs here, out of the loop's sight."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, {**info, "lives": self.env.unwrapped.ale.lives()}  # FireResetEnv's reset returns no info

    def step(self, action):
        obs, reward, terminated, truncated, info = self.env.step(action)
        game_over = self.env.get_wrapper_attr("was_real_done")
        if terminated and not game_over:  # a lost life; the game goes on
            stack = self.env  # FrameStackObservation
            if LIFE_RESET == "full":  # EpisodicLifeEnv: a no-op step; FireResetEnv: FIRE, RIGHT; the stack restarts
                obs, _ = stack.reset()
            elif LIFE_RESET == "fire":  # the same hidden steps below the stack, whose newest frame they give
                frame, _ = stack.env.reset()
                stack.obs_queue.append(frame)
                obs = np.stack(list(stack.obs_queue))
            elif LIFE_RESET == "restack":  # the newest frame repeated
                stack.obs_queue.extend([obs[-1]] * len(stack.obs_queue))
                obs = np.stack(list(stack.obs_queue))
            terminated = False
        return obs, reward, terminated, truncated, {**info, "lives": self.env.unwrapped.ale.lives()}


def make_env(env_id):
    env = gym.make(env_id)
    env = NoopResetEnv(env, noop_max=30)
    env = MaxAndSkipEnv(env, skip=4)
    env = EpisodicLifeEnv(env)
    if "FIRE" in env.unwrapped.get_action_meanings():
        env = FireResetEnv(env)
    env = gym.wrappers.ResizeObservation(env, (84, 84))
    env = gym.wrappers.GrayscaleObservation(env)
    env = gym.wrappers.FrameStackObservation(env, 4)
    return LifeLossAdapter(env)


def make_envs(env_id, num_envs, num_threads=0):  # ppo_atari.make_envs's signature; the envs step in this thread
    return gym.vector.SyncVectorEnv([lambda: make_env(env_id) for _ in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)  # fmt: skip


if __name__ == "__main__":
    ppo_atari.make_envs = make_envs
    ppo_atari.main(ppo_atari.parse_args())

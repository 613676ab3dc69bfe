"""Experiment (issue 20): ppo_atari.py as it is, but stepping CleanRL's wrapper stack instead of ale-py's vector env.

The algorithm is untouched: only make_envs is replaced. The games run in gymnasium's SyncVectorEnv through
CleanRL's own wrappers (benchmark/baselines/cleanrl_atari_wrappers.py, which `python benchmark/baselines/fetch.py`
writes; imported as a measuring instrument, not copied): 1-30 no-ops at a game's start, a skip of 4 with a max
over the last two RGB frames, FIRE and a step after a lost life as after a new game, a resize of the RGB frame
to 84x84, then grayscale, and a stack of 4 restarted (the first frame repeated) at each lost life. An adapter
on top gives the loop the vector env's contract: terminated means game over, a lost life shows only as `lives`
going down, and the observation after it is the one the wrappers' hidden reset (no-op, FIRE, RIGHT) returns.

    python benchmark/sweep.py --script wrapper_stack.py --env-ids BreakoutNoFrameskip-v4 --seeds 1 2 3 -- \\
        --total-timesteps 500000 --torch-threads 1 --num-threads 1 [--life-reset none] [--anneal-clip]

or on its own, e.g. `python benchmark/experiments/wrapper_stack.py --total-timesteps 500000` (it writes
runs/ in the working directory, as ppo_atari.py does). --life-reset MODE (taken
off the command line before the script's flags are read) says what happens at a lost life, the rest of the
stack staying the same: `full` (the default) as above; `none` as the vector env does (no hidden steps, the
stack goes on; `--no-life-reset` is the same); `fire` the hidden no-op, FIRE and RIGHT, the stack going on;
`restack` no hidden steps, the stack restarted with the newest frame repeated. Three more switches turn the
other differences to the vector env's way, one at a time: `--start vector` (FIRE and then 0-28 no-op frames at
a game's start, in place of 1-30 no-op frames and then FIRE and RIGHT; needs --life-reset none or restack, as
the wrappers' FIRE after a lost life goes with their start), `--padding zero` (the stack starts with three
zero frames, not the first frame repeated), `--max-on gray` (ALE's grayscale frames, the max over the last two
taken on them, then the resize; in place of the max on RGB, the resize, then the grayscale). With all four
the stack gives the vector env's observations, rewards and lives, frame for frame (tests/test_benchmark.py),
with the env's FIRE at a game's start as fire_at_start.py configures it: ppo_atari.py leaves that FIRE to the
agent, which no switch here reproduces.
"""

import os
import sys

import gymnasium as gym
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BASELINES = os.path.join(ROOT, "benchmark", "baselines")
if not os.path.isfile(os.path.join(BASELINES, "cleanrl_atari_wrappers.py")):  # before the import would fail
    print(f"{os.path.basename(sys.argv[0])}: no CleanRL wrappers in benchmark/baselines/: run python "
          "benchmark/baselines/fetch.py", file=sys.stderr)  # the program run: this one, or lockstep.py importing it
    sys.exit(2)
sys.path[:0] = [ROOT, BASELINES]
import ppo_atari  # noqa: E402
import run_management  # noqa: E402
from cleanrl_atari_wrappers import EpisodicLifeEnv, FireResetEnv, MaxAndSkipEnv, NoopResetEnv  # noqa: E402


SWITCHES = {  # flag: its values, the wrappers' own way first
    "--life-reset": ("full", "none", "fire", "restack"),
    "--start": ("wrappers", "vector"),
    "--padding": ("repeat", "zero"),
    "--max-on": ("rgb", "gray"),
}


def refuse(message):
    print(f"{os.path.basename(sys.argv[0])}: {message}", file=sys.stderr)
    sys.exit(2)


def take_switches(argv):
    """This experiment's flags, taken off argv (the rest are ppo_atari.py's) as {flag: value}; a bad value or
    combination is one line and exit 2."""
    chosen = {flag: values[0] for flag, values in SWITCHES.items()}
    if "--no-life-reset" in argv:
        chosen["--life-reset"] = "none"
        argv.remove("--no-life-reset")
    for flag, values in SWITCHES.items():
        if flag in argv:
            at = argv.index(flag)
            chosen[flag] = (argv[at + 1 : at + 2] or [""])[0]
            if chosen[flag] not in values:
                refuse(f"{flag} {chosen[flag]!r}: pass one of {', '.join(values)}")
            del argv[at : at + 2]
    if chosen["--start"] == "vector" and chosen["--life-reset"] in ("full", "fire"):
        refuse("--start vector presses FIRE at a game's start only: pass --life-reset none or restack")
    return chosen


LIFE_RESET, START, PADDING, MAX_ON = take_switches(sys.argv).values()


class VectorStart(gym.Wrapper):
    """A game's start as the vector env makes it, on single frames: FIRE, then 0-28 no-ops (its draw of 0-29,
    less the FIRE; a game without FIRE gets 0-29). `noops` fixes the count (tests)."""

    noops = None

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        fire = [1] if self.unwrapped.get_action_meanings()[1] == "FIRE" else []
        noops = self.np_random.integers(0, 30) - len(fire) if self.noops is None else self.noops
        for action in fire + [0] * noops:
            obs, _, terminated, truncated, info = self.env.step(action)
            if terminated or truncated:
                obs, info = self.env.reset()
        return obs, info


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
    env = gym.make(env_id, obs_type="grayscale" if MAX_ON == "gray" else "rgb")
    env = VectorStart(env) if START == "vector" else NoopResetEnv(env, noop_max=30)
    env = MaxAndSkipEnv(env, skip=4)
    env = EpisodicLifeEnv(env)
    if START == "wrappers" and "FIRE" in env.unwrapped.get_action_meanings():
        env = FireResetEnv(env)
    env = gym.wrappers.ResizeObservation(env, (84, 84))
    if MAX_ON == "rgb":
        env = gym.wrappers.GrayscaleObservation(env)
    env = gym.wrappers.FrameStackObservation(env, 4, padding_type="zero" if PADDING == "zero" else "reset")
    return LifeLossAdapter(env)


def make_envs(env_id, num_envs, num_threads=0):  # ppo_atari.make_envs's signature; the envs step in this thread
    return gym.vector.SyncVectorEnv([lambda: make_env(env_id) for _ in range(num_envs)],
                                    autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)  # fmt: skip


if __name__ == "__main__":
    ppo_atari.make_envs = make_envs
    run_management.cli(ppo_atari.Args)

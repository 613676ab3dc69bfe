"""A user's own environments, registered on import: `--env-id toy_envs:ToyReach-v0` (gymnasium's
module:EnvId form) makes a script import this module first. ToyReach-v0 (Box actions) and
ToyChoice-v0 (Discrete actions) are learnable in a few thousand steps; the rest have spaces that the
MLP scripts refuse."""

import gymnasium as gym
import numpy as np


class ToyReach(gym.Env):
    """Move a point on a line towards 0; the reward is minus the distance. 20 steps an episode."""

    def __init__(self, discrete=False, observation_space=None, action_space=None):
        self.discrete = discrete
        self.observation_space = observation_space or gym.spaces.Box(-10, 10, (1,), np.float32)
        self.action_space = action_space or (gym.spaces.Discrete(2) if discrete else gym.spaces.Box(-1, 1, (1,), np.float32))

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = float(self.np_random.uniform(-2, 2))
        return self.observation_space.sample() if self.observation_space.shape != (1,) else np.array([self.x], np.float32), {}

    def step(self, action):
        move = (2 * int(action) - 1) * 0.5 if self.discrete else float(np.clip(np.asarray(action).reshape(-1)[0], -1, 1)) * 0.5
        self.x = float(np.clip(self.x + move, -10, 10))
        obs = np.array([self.x], np.float32) if self.observation_space.shape == (1,) else self.observation_space.sample()
        return obs, -abs(self.x), False, False, {}


gym.register("ToyReach-v0", entry_point=ToyReach, max_episode_steps=20)
gym.register("ToyChoice-v0", entry_point=lambda: ToyReach(discrete=True), max_episode_steps=20)
gym.register("ToyDict-v0", entry_point=lambda: ToyReach(observation_space=gym.spaces.Dict({"x": gym.spaces.Box(-1, 1, (1,))})), max_episode_steps=20)
gym.register("ToyImage-v0", entry_point=lambda: ToyReach(observation_space=gym.spaces.Box(0, 255, (3, 8, 8), np.uint8)), max_episode_steps=20)
gym.register("ToyMultiDiscrete-v0", entry_point=lambda: ToyReach(action_space=gym.spaces.MultiDiscrete([2, 3])), max_episode_steps=20)


class NoDisplay(ToyReach):
    """Like a MuJoCo env on a machine without a display: rendering fails."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None, discrete=False):
        super().__init__(discrete)
        self.render_mode = render_mode

    def render(self):
        raise RuntimeError("an OpenGL platform library has not been loaded\nmore detail")


gym.register("ToyNoDisplay-v0", entry_point=NoDisplay, max_episode_steps=20)
gym.register("ToyNoDisplayChoice-v0", entry_point=NoDisplay, kwargs=dict(discrete=True), max_episode_steps=20)


class FixedStart(ToyReach):
    """Every episode starts at x = 1, whatever the seed: resets are deterministic (for the resume tests)."""

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = 1.0
        return np.array([self.x], np.float32), {}


gym.register("ToyFixedStart-v0", entry_point=FixedStart, max_episode_steps=16)
gym.register("ToyFixedStartChoice-v0", entry_point=FixedStart, kwargs=dict(discrete=True), max_episode_steps=16)


gym.register("ToyScalarAction-v0", entry_point=lambda: ToyReach(action_space=gym.spaces.Box(-1, 1, (), np.float32)), max_episode_steps=20)
gym.register("ToyEmptyAction-v0", entry_point=lambda: ToyReach(action_space=gym.spaces.Box(-1, 1, (0,), np.float32)), max_episode_steps=20)


class SlowStart(ToyReach):
    """Takes a minute to make, and says when it starts (for a Ctrl-C during a run's start-up)."""

    def __init__(self):
        import os
        import time

        super().__init__(discrete=True)
        open(os.environ.get("TOY_SLOW_MARKER", "slow_start_began"), "w").close()
        time.sleep(60)


gym.register("ToySlowStart-v0", entry_point=SlowStart, max_episode_steps=20)
gym.register("ToyEndlessChoice-v0", entry_point=lambda: ToyReach(discrete=True))  # no time limit: never ends


class NonFinite(ToyReach):
    """Returns a NaN reward (or observation, with what="observation") at its 40th step."""

    def __init__(self, what="reward"):
        super().__init__()
        self.what, self.steps = what, 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.steps += 1
        if self.steps == 40:
            obs, reward = (obs * np.nan, reward) if self.what == "observation" else (obs, float("nan"))
        return obs, reward, terminated, truncated, info


gym.register("ToyNanReward-v0", entry_point=NonFinite, max_episode_steps=20)
gym.register("ToyNanObservation-v0", entry_point=lambda: NonFinite("observation"), max_episode_steps=20)


class GrowingObservation(ToyReach):
    """Its observations gain an entry at its 30th step."""

    def __init__(self):
        super().__init__()
        self.steps = 0

    def step(self, action):
        obs, reward, terminated, truncated, info = super().step(action)
        self.steps += 1
        return (np.append(obs, 0.0) if self.steps >= 30 else obs), reward, terminated, truncated, info


gym.register("ToyGrowing-v0", entry_point=GrowingObservation, max_episode_steps=20)


class BrokenReset(ToyReach):
    """Its reset fails (how="raise"), or returns an observation of the wrong shape (how="shape")."""

    def __init__(self, how):
        super().__init__()
        self.how = how

    def reset(self, seed=None, options=None):
        obs, info = super().reset(seed=seed)
        if self.how == "raise":
            raise OSError("the simulator's licence file is missing")
        return np.append(obs, 0.0).astype(np.float32), info


gym.register("ToyResetRaises-v0", entry_point=lambda: BrokenReset("raise"), max_episode_steps=20)
gym.register("ToyResetShape-v0", entry_point=lambda: BrokenReset("shape"), max_episode_steps=20)


class RenderFails(ToyReach):
    """Renders frames for its first 30 calls, then its renderer fails (a lost GL context, say)."""

    metadata = {"render_modes": ["rgb_array"], "render_fps": 30}

    def __init__(self, render_mode=None, discrete=True):
        super().__init__(discrete=discrete)
        self.render_mode, self.renders = render_mode, 0

    def render(self):
        self.renders += 1
        if self.renders > 30:
            raise RuntimeError("GL context lost")
        return np.zeros((16, 16, 3), np.uint8)


gym.register("ToyRenderFails-v0", entry_point=RenderFails, max_episode_steps=20)
gym.register("ToyStartAtOne-v0", entry_point=lambda: ToyReach(action_space=gym.spaces.Discrete(2, start=1)),
             max_episode_steps=20)  # fmt: skip

"""Tests for ppo_atari.py: each wrapper's behaviour, the rollout's bootstrapping, then the whole script.

GAE and the losses are checked on this script's copy in test_shared_pieces.py.
"""

import os
import subprocess
import sys

import cv2
import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import count_env, only_run, read_scalars, record_gae_inputs

import ppo_atari as A

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BREAKOUT = "BreakoutNoFrameskip-v4"


# --- our wrappers, on a scripted fake game ------------------------------------------------------------


class FakeGame(gym.Env):
    """3 lives, one lost every 4 steps, reward 5 a step; records the actions it receives and its resets."""

    observation_space = gym.spaces.Box(0, 255, (1,), np.uint8)
    action_space = gym.spaces.Discrete(4)

    def __init__(self):
        self.ale, self.resets, self.actions = self, 0, []

    def lives(self):
        return self._lives

    def get_action_meanings(self):
        return ["NOOP", "FIRE", "RIGHT", "LEFT"]

    def reset(self, seed=None, options=None):
        self.resets, self.t, self._lives = self.resets + 1, 0, 3
        return np.array([0], np.uint8), {}

    def step(self, action):
        self.actions.append(int(action))
        self.t += 1
        if self.t % 4 == 0:
            self._lives -= 1
        return np.array([self.t], np.uint8), 5.0, self._lives == 0, False, {}


def test_episodic_life_ends_the_training_episode_but_not_the_game():
    game = FakeGame()
    env = A.EpisodicLifeEnv(game)
    env.reset(seed=0)
    ends = []
    for _ in range(3):
        steps = 0
        while True:
            _, _, terminated, truncated, _ = env.step(2)
            steps += 1
            if terminated:
                break
        ends.append((steps, game.lives()))
        env.reset()
        assert game.actions[-1] == 0 or game.lives() == 3  # a no-op past the lost life, not a restart
    # lives lost at game steps 4 and 8 (the no-op after each loss is a game step too), game over at 12
    assert ends == [(4, 2), (3, 1), (3, 0)]
    assert game.resets == 2  # the game restarted once, after the last life, not after each


def test_fire_on_reset():
    game = FakeGame()
    env = A.FireResetEnv(game)
    env.reset(seed=0)
    assert game.actions == [1]
    env = A.FireResetEnv(A.EpisodicLifeEnv(FakeGame()))  # and after every lost life, as make_env stacks them
    env.reset(seed=0)
    terminations = [env.step(2)[2] for _ in range(3)]
    assert terminations == [False, False, True]  # FIRE was game step 1; the life goes at step 4
    env.reset()
    assert env.unwrapped.actions[-2:] == [0, 1]  # the no-op past the life, then FIRE


# --- the whole stack, on the real game ------------------------------------------------------------------


def test_stack_shape_dtype_and_fire_only_where_the_game_needs_it():
    env = A.make_env(BREAKOUT, 0, False, "t")()
    obs, _ = env.reset(seed=0)
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8 and env.observation_space.shape == (4, 84, 84)
    assert env.observation_space.dtype == np.uint8
    names = lambda e: {type(w).__name__ for w in iter_wrappers(e)}  # noqa: E731
    assert "FireResetEnv" in names(env) and "EpisodicLifeEnv" in names(env)
    assert "FireResetEnv" not in names(A.make_env("FreewayNoFrameskip-v4", 0, False, "t")())  # NOOP, UP, DOWN
    # the game's statistics are recorded inside the life-loss and reward-clipping wrappers: whole games, raw rewards
    order = [type(w).__name__ for w in iter_wrappers(env)]
    assert order.index("TransformReward") < order.index("EpisodicLifeEnv") < order.index("RecordEpisodeStatistics")


def iter_wrappers(env):
    while hasattr(env, "env"):
        yield env
        env = env.env


def test_noop_starts_take_1_to_30_noops():
    env = A.make_env(BREAKOUT, 0, False, "t")()
    noops = []
    for seed in range(60):
        env.reset(seed=seed)
        noops.append(env.unwrapped.ale.getEpisodeFrameNumber() - 4)  # minus the FIRE step's 4 frames
    assert min(noops) >= 1 and max(noops) <= 30
    assert len(set(noops)) >= 15 and min(noops) <= 5 and max(noops) >= 25


def test_frames_are_the_max_of_the_last_two_skipped_frames():
    """Replays the stack's no-ops, FIRE and actions on a raw ALE game and max-pools frames 3 and 4 itself."""
    env = A.make_env(BREAKOUT, 0, False, "t")()
    raw = gym.make(BREAKOUT)
    env.reset(seed=7)
    raw.reset(seed=7)
    ale = raw.unwrapped.ale
    for _ in range(raw.unwrapped.np_random.integers(1, 31)):  # the same draw AtariPreprocessing made
        raw.step(0)
    for _ in range(4):
        raw.step(1)
    differs = 0
    for action in np.random.default_rng(0).integers(0, 4, size=40):
        obs, *_ = env.step(action)
        frames = []
        for _ in range(4):
            raw.step(action)
            frames.append(ale.getScreenGrayscale())
        pooled = np.maximum(frames[2], frames[3])
        np.testing.assert_array_equal(obs[-1], cv2.resize(pooled, (84, 84), interpolation=cv2.INTER_AREA))
        differs += not np.array_equal(pooled, frames[3])
        if env.unwrapped.ale.lives() < 5:
            break
    assert differs > 0  # the ball moves between the two frames, so pooling is visible


def test_life_loss_ends_training_episodes_while_the_game_return_keeps_counting():
    env = A.make_env(BREAKOUT, 0, False, "t")()
    env.reset(seed=8)
    rng = np.random.default_rng(8)  # random play that scores in two of the five lives
    life_returns, life_return, game = [], 0.0, None
    while game is None:
        _, reward, terminated, truncated, info = env.step(rng.integers(0, 4))
        assert reward in (-1.0, 0.0, 1.0)  # sign-clipped for training
        life_return += reward
        if "episode" in info:
            game = info["episode"]
        if terminated or truncated:
            life_returns.append(life_return)
            life_return = 0.0
            env.reset()
    assert len(life_returns) == 5  # Breakout's five lives are five training episodes, one game
    assert game["r"] >= sum(life_returns) > max(life_returns)  # unclipped, over the whole game


# --- the rollout: truncation vs termination -----------------------------------------------------------------


def frames(t):
    return np.full((4, 84, 84), 40 * t, np.uint8)


FRAMES = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
gym.register("FakeNoFrameskip", entry_point=lambda: count_env(False, FRAMES, gym.spaces.Discrete(3), frames))


@pytest.mark.parametrize("terminate", [False, True])
def test_rollout_bootstraps_truncation_with_the_final_observation(terminate, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = lambda: gym.wrappers.RecordEpisodeStatistics(count_env(terminate, FRAMES, gym.spaces.Discrete(3), frames))  # noqa: E731
    monkeypatch.setattr(A, "make_env", lambda *a: env)
    calls = record_gae_inputs(A, monkeypatch, probe=torch.as_tensor(np.stack([frames(k) for k in range(6)])))
    A.main(A.Args(env_id="FakeNoFrameskip", num_envs=2, num_steps=12, num_minibatches=2, update_epochs=1, total_timesteps=48))
    assert len(calls) == 2
    for i, call in enumerate(calls):
        v = call["v"]
        ends = np.zeros((12, 2), bool)
        ends[[t for t in range(12) if (12 * i + t) % 5 == 4], :] = True
        np.testing.assert_array_equal(call["dones"], ends)
        np.testing.assert_array_equal(call["terminations"], ends if terminate else 0 * ends)
        for t in range(12):
            k = (12 * i + t) % 5  # step count of s_t
            np.testing.assert_allclose(call["values"][t], v[k], atol=1e-5)
            if not terminate or k != 4:  # s_{t+1}: the final frame (5) at a truncation, never the reset one
                np.testing.assert_allclose(call["next_values"][t], v[k + 1], atol=1e-5)


# --- the whole script ---------------------------------------------------------------------------------------


def test_end_to_end_writes_tags_and_checkpoint_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = dict(env_id=BREAKOUT, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1, total_timesteps=256, seed=2)
    A.main(A.Args(**args, save_model=True, exp_name="br"))
    run = only_run(tmp_path, "br__")
    scalars = read_scalars(run)
    for tag in ("charts/learning_rate", "charts/SPS", "losses/value_loss", "losses/policy_loss", "losses/entropy",
                "losses/approx_kl", "losses/clipfrac", "losses/explained_variance"):  # fmt: skip
        assert len(scalars[tag]) == 2, tag
    assert scalars["charts/learning_rate"][1] == pytest.approx(2.5e-4 / 2)
    agent = A.load_checkpoint(str(run / "br.pt"), BREAKOUT)
    returns = A.main(A.Args(env_id=BREAKOUT, eval_checkpoint=str(run / "br.pt"), eval_episodes=1, exp_name="br"))
    assert len(returns) == 1 and read_scalars(only_run(tmp_path, "-eval"))["eval/episodic_return"] == pytest.approx(returns)
    assert A.evaluate(agent, BREAKOUT, 1, seed=A.Args().seed) == returns  # the saved weights, evaluated again


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(env_id="ALE/Breakout-v5"), "needs an ALE id without frame skip: pass --env-id e.g. BreakoutNoFrameskip-v4"),
        (dict(env_id="CartPole-v1"), "needs an ALE id without frame skip"),
        (dict(env_id="BreakoutNoFrameskip-v9"), "did you mean BreakoutNoFrameskip-v4"),
        (dict(num_minibatches=3), "does not split into 3 minibatches: pick a --num-minibatches that divides 1024"),
        (dict(eval_checkpoint="missing.pt"), "no checkpoint at 'missing.pt'"),
    ],
)
def test_bad_input_one_line_exit_2(kw, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        A.main(A.Args(**kw))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_checkpoint_from_another_script_is_refused(tmp_path):
    import ppo_discrete as D

    D.save_checkpoint(str(tmp_path / "d.pt"), D.Agent(4, 2), None, D.Args())
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "ppo_atari.py"), "--eval-checkpoint", "d.pt"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith(("A.L.E", "[Powered"))]
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert "was saved by ppo_discrete.py: evaluate it with `python ppo_discrete.py --eval-checkpoint d.pt`" in lines[0]

"""Tests for ppo_discrete.py: the categorical policy, the rollout on a toy env, then the whole script.

GAE and the losses are checked on this script's copy in test_shared_pieces.py.
"""

import os
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import count_env, only_run, read_scalars, record_gae_inputs, write_checkpoint

import ppo_discrete as D

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

TAGS = [
    "charts/episodic_return",
    "charts/episodic_length",
    "charts/learning_rate",
    "charts/SPS",
    "losses/value_loss",
    "losses/policy_loss",
    "losses/entropy",
    "losses/old_approx_kl",
    "losses/approx_kl",
    "losses/clipfrac",
    "losses/explained_variance",
]


# --- the categorical policy ----------------------------------------------------------------------------


def test_categorical_helpers_match_torch_distributions():
    torch.manual_seed(0)
    agent = D.Agent(4, 3)
    with torch.no_grad():
        agent.actor.layers[2].weight.mul_(300)  # far from uniform, so the checks mean something
    x, actions = torch.randn(6, 4), torch.tensor([0, 1, 2, 2, 1, 0])
    _, logprob, entropy, value, logps = agent.get_action_and_value(x, actions)
    dist = torch.distributions.Categorical(logits=agent.actor(x))
    torch.testing.assert_close(logprob, dist.log_prob(actions))
    torch.testing.assert_close(entropy, dist.entropy())
    torch.testing.assert_close(value, agent.critic(x)[:, 0])
    dist2 = torch.distributions.Categorical(logits=torch.randn(6, 3))
    torch.testing.assert_close(D.categorical_kl(logps, dist2.logits), torch.distributions.kl_divergence(dist, dist2))


STATES = np.random.default_rng(1).normal(size=(2, 4)).astype(np.float32)
SEEN = []  # (state, action) of every step a TwoStates env takes


class TwoStates(gym.Env):
    """Shows one of two fixed observations, drawn afresh each step, and records the action taken in each."""

    observation_space, action_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.state = int(self.np_random.integers(2))
        return STATES[self.state].copy(), {}

    def step(self, action):
        SEEN.append((self.state, int(action)))
        self.state = int(self.np_random.integers(2))
        return STATES[self.state].copy(), 0.0, False, False, {}


gym.register("TwoStates-v0", entry_point=TwoStates, max_episode_steps=100)


def test_rollout_sampling_follows_the_policy(tmp_path, monkeypatch):
    """main's rollout (Gumbel-max on a numpy copy of the actor) draws each action from softmax of the actor's
    logits: over one rollout of 6000 steps, the frequencies of the actions in each state match the torch actor's
    probabilities there, for an actor made far from uniform."""
    monkeypatch.chdir(tmp_path)
    probs = []

    class SharpAgent(D.Agent):
        def __init__(self, *shape):
            super().__init__(*shape)
            with torch.no_grad():
                self.actor.layers[2].weight.mul_(300)
                probs.append(torch.softmax(self.actor(torch.as_tensor(STATES)), -1).numpy())

    monkeypatch.setattr(D, "Agent", SharpAgent)
    SEEN.clear()
    D.main(D.Args(env_id="TwoStates-v0", num_envs=2, num_steps=3000, total_timesteps=6000, update_epochs=1,
                  exp_name="sampling"))  # fmt: skip
    (p,) = probs
    assert p.min() < 0.15 and p.max() > 0.5 and not np.allclose(p[0], p[1]), p
    seen = np.array(SEEN)
    assert len(seen) == 6000
    for state in (0, 1):
        actions = seen[seen[:, 0] == state, 1]
        n = len(actions)
        assert n > 2500
        np.testing.assert_allclose(np.bincount(actions, minlength=3) / n, p[state], atol=4 * np.sqrt(0.25 / n))


# --- the training loop on a toy env: truncation vs termination --------------------------------------------


def vector_count(t):
    return np.array([t], np.float32)


BOX = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
gym.register("DiscreteCountTruncated-v0", entry_point=lambda: count_env(False, BOX, gym.spaces.Discrete(2), vector_count))
gym.register("DiscreteCountTerminated-v0", entry_point=lambda: count_env(True, BOX, gym.spaces.Discrete(2), vector_count))


@pytest.mark.parametrize("env_id, bootstrap", [("DiscreteCountTruncated-v0", True), ("DiscreteCountTerminated-v0", True), ("DiscreteCountTruncated-v0", False)])
def test_rollout_bootstraps_truncation_with_the_final_observation(env_id, bootstrap, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    calls = record_gae_inputs(D, monkeypatch, probe=torch.arange(6, dtype=torch.float32)[:, None])
    D.main(D.Args(env_id=env_id, num_envs=2, num_steps=10, num_minibatches=2, update_epochs=1, total_timesteps=40, bootstrap_truncation=bootstrap))
    assert len(calls) == 2
    for call in calls:
        v = call["v"]
        ends = np.zeros((10, 2), bool)
        ends[[4, 9], :] = True
        np.testing.assert_array_equal(call["rewards"], np.ones((10, 2)))  # raw rewards: no scaling here
        np.testing.assert_array_equal(call["dones"], ends)
        # --no-bootstrap-truncation: a truncation is treated as a termination
        np.testing.assert_array_equal(call["terminations"], ends if env_id == "DiscreteCountTerminated-v0" or not bootstrap else 0 * ends)
        for t in range(10):
            np.testing.assert_allclose(call["values"][t], v[t % 5], atol=1e-5)
            # s_{t+1} of an episode's last step is the final observation (5), never the reset one (0)
            np.testing.assert_allclose(call["next_values"][t], v[t % 5 + 1], atol=1e-5)


# --- the whole script ---------------------------------------------------------------------------------------


def short_args(**kw):
    defaults = dict(num_steps=64, total_timesteps=768, seed=3)
    return D.Args(**{**defaults, **kw})


def test_end_to_end_writes_tags_and_is_deterministic(tmp_path, monkeypatch):
    losses = []
    for i in range(2):
        monkeypatch.chdir(tmp_path)
        D.main(short_args(exp_name=f"det{i}"))
        scalars = read_scalars(only_run(tmp_path, f"det{i}"))
        for tag in TAGS:
            assert tag in scalars, tag
        assert len(scalars["losses/policy_loss"]) == 3
        losses.append([scalars[t] for t in ("losses/policy_loss", "losses/value_loss", "losses/approx_kl", "charts/episodic_return")])
    assert losses[0] == losses[1]


def test_kl_variants_log_beta_and_adapt_it_around_kl_adaptive_target(tmp_path, monkeypatch):
    """Section 4's rule against d_targ = --kl-adaptive-target: with a tiny one every update's KL is above 1.5 d_targ
    and beta doubles each iteration; with a huge one every KL is below d_targ / 1.5 and beta halves. The fixed
    variant keeps its beta. (test_flags_reach_the_code.py places d_targ either side of each threshold.)"""
    monkeypatch.chdir(tmp_path)
    for name, target, factor in (("tiny", 1e-9, 2.0), ("huge", 100.0, 0.5)):
        D.main(short_args(loss="kl-adaptive", exp_name=name, kl_beta=1.0, kl_adaptive_target=target))
        assert read_scalars(only_run(tmp_path, name))["losses/kl_beta"] == [factor, factor**2, factor**3], name
    D.main(short_args(loss="kl-fixed", exp_name="klf", kl_beta=3.0))
    assert read_scalars(only_run(tmp_path, "klf"))["losses/kl_beta"] == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("env_id", ["Acrobot-v1", "MountainCar-v0", "LunarLander-v3"])
def test_other_classic_envs_run_unchanged(env_id, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    D.main(short_args(env_id=env_id, exp_name="other", total_timesteps=512))
    assert len(read_scalars(only_run(tmp_path, "other"))["losses/value_loss"]) == 2


def test_learns_cartpole_and_checkpoint_reproduces_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    D.main(D.Args(env_id="CartPole-v1", total_timesteps=TIMESTEPS, seed=1, save_model=True, exp_name="cp"))
    run = only_run(tmp_path, "cp__")
    last20 = read_scalars(run)["charts/episodic_return"][-20:]
    assert np.mean(last20) >= 475, f"mean of the last 20 training episodes {np.mean(last20)}: a random policy gets about 22"
    returns = D.main(D.Args(env_id="CartPole-v1", eval_checkpoint=str(run / "cp.pt"), eval_episodes=5, exp_name="cp"))
    assert len(returns) == 5 and np.mean(returns) >= 475
    assert read_scalars(only_run(tmp_path, "-eval"))["eval/episodic_return"] == pytest.approx(returns)
    # the saved weights, evaluated again, give the same greedy episodes
    policy = D.load_policy(torch.load(str(run / "cp.pt"), weights_only=True))
    assert D.evaluate(*policy, "CartPole-v1", 5, seed=D.Args().seed) == returns


TIMESTEPS = 500000


# --- bad input ------------------------------------------------------------------------------------------------


def test_continuous_env_is_refused_with_one_line(tmp_path):
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "ppo_discrete.py"), "--env-id", "Pendulum-v1"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert "needs a Discrete one: use ppo_continuous.py" in lines[0]


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(env_id="CartPole-v9"), "did you mean CartPole-v1"),
        (dict(num_minibatches=3), "does not split into 3 minibatches: pick a --num-minibatches that divides 512"),
        (dict(eval_checkpoint="missing.pt"), "no checkpoint at 'missing.pt'"),
    ],
)
def test_bad_input_one_line_exit_2(kw, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        D.main(D.Args(**kw))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_checkpoint_from_another_script_or_env_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    import ppo_continuous as P

    other_script, other_env = tmp_path / "c.pt", tmp_path / "e.pt"
    write_checkpoint(P, other_script, P.Agent(4, 1), "CartPole-v1", obs_rms=P.RunningMeanStd(4).state_dict())
    write_checkpoint(D, other_env, D.Agent(6, 3), "Acrobot-v1")
    cases = [
        (other_script, "was saved by ppo_continuous.py: evaluate it with `python ppo_continuous.py --eval-checkpoint"),
        (other_env, "holds a policy for Acrobot-v1, not CartPole-v1: pass --env-id Acrobot-v1"),
    ]
    for path, expected in cases:
        with pytest.raises(SystemExit) as exc:
            D.main(D.Args(env_id="CartPole-v1", eval_checkpoint=str(path)))
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and expected in err[0], err

"""Tests for ppo_continuous.py: each piece against an independent computation, then the whole script."""

import os
import subprocess
import sys
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import count_env, only_run, read_scalars, record_gae_inputs, write_checkpoint

import ppo_continuous as P

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


# GAE, the losses and the beta rule are tested on every script's copy in test_shared_pieces.py.


# --- the Gaussian policy ----------------------------------------------------------------------------------


def test_gaussian_helpers_match_torch_distributions():
    torch.manual_seed(0)
    mean, logstd = torch.randn(5, 3), torch.randn(1, 3)
    mean2, logstd2 = torch.randn(5, 3), torch.randn(1, 3)
    action = torch.randn(5, 3)
    dist = torch.distributions.Normal(mean, logstd.exp())
    dist2 = torch.distributions.Normal(mean2, logstd2.exp())
    torch.testing.assert_close(P.gaussian_log_prob(mean, logstd, action), dist.log_prob(action).sum(1))
    torch.testing.assert_close(P.gaussian_entropy(logstd).expand(5), dist.entropy().sum(1))
    torch.testing.assert_close(P.gaussian_kl(mean, logstd, mean2, logstd2), torch.distributions.kl_divergence(dist, dist2).sum(1))


def test_numpy_rollout_actor_matches_torch_actor():
    torch.manual_seed(0)
    agent = P.Agent(17, 6)
    x = np.random.default_rng(0).normal(size=(8, 17)).astype(np.float32)
    with torch.no_grad():
        expected = agent.actor_mean(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(P.numpy_mlp(P.mlp_to_numpy(agent.actor_mean), x), expected, rtol=1e-5, atol=1e-6)


# --- normalisation ------------------------------------------------------------------------------------


def test_running_mean_std_matches_numpy():
    rng = np.random.default_rng(0)
    batches = [rng.normal(3.0, 2.0, size=(n, 4)) for n in (1, 7, 1, 30)]
    rms = P.RunningMeanStd(4, epsilon=0.0)
    rms.count = 0.0
    for b in batches:
        rms.update(b)
    data = np.concatenate(batches)
    np.testing.assert_allclose(rms.mean, data.mean(0), rtol=1e-10)
    np.testing.assert_allclose(rms.var, data.var(0), rtol=1e-10)
    assert rms.count == len(data)


def test_reward_scaling_restarts_the_return_at_episode_ends():
    rms, ret = P.RunningMeanStd(), np.zeros(2)
    P.scale_reward(np.array([1.0, 1.0]), ret, rms, 0.9, np.array([False, False]))
    P.scale_reward(np.array([1.0, 1.0]), ret, rms, 0.9, np.array([True, False]))
    np.testing.assert_allclose(ret, [0.0, 1.9])
    scaled = P.scale_reward(np.array([50.0, -50.0]), ret, rms, 0.9, np.array([False, False]))
    np.testing.assert_allclose(scaled, np.clip(np.array([50.0, -50.0]) / np.sqrt(rms.var + 1e-8), -10, 10))


# --- the training loop on a toy env: truncation vs termination ------------------------------------------


def vector_count(t):
    return np.array([t], np.float32)


BOX = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
gym.register("CountTruncated-v0", entry_point=lambda: count_env(False, BOX, gym.spaces.Box(-1.0, 1.0, (1,), np.float32), vector_count))
gym.register("CountTerminated-v0", entry_point=lambda: count_env(True, BOX, gym.spaces.Box(-1.0, 1.0, (1,), np.float32), vector_count))


@pytest.mark.parametrize("env_id, bootstrap", [("CountTruncated-v0", True), ("CountTerminated-v0", True), ("CountTruncated-v0", False)])
def test_rollout_bootstraps_truncation_with_the_final_observation(env_id, bootstrap, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(P, "normalize_obs", lambda obs, rms, clip=10.0, epsilon=1e-8: obs.astype(np.float32))
    calls = record_gae_inputs(P, monkeypatch, probe=torch.arange(6, dtype=torch.float32)[:, None])
    P.main(P.Args(env_id=env_id, num_envs=2, num_steps=10, num_minibatches=2, update_epochs=1, total_timesteps=40, bootstrap_truncation=bootstrap))
    assert len(calls) == 2
    for call in calls:
        v = call["v"]
        # episodes are 5 steps long and rollouts 10: steps 4 and 9 end one in every env
        ends = np.zeros((10, 2), bool)
        ends[[4, 9], :] = True
        np.testing.assert_array_equal(call["dones"], ends)
        # --no-bootstrap-truncation: a truncation is treated as a termination
        np.testing.assert_array_equal(call["terminations"], ends if env_id == "CountTerminated-v0" or not bootstrap else 0 * ends)
        for t in range(10):
            obs_t, obs_next = t % 5, t % 5 + 1  # raw obs = step count (identity normalisation here)
            np.testing.assert_allclose(call["values"][t], v[obs_t], atol=1e-5)
            # s_{t+1} of an episode's last step is the final observation (5), never the reset one (0)
            np.testing.assert_allclose(call["next_values"][t], v[obs_next], atol=1e-5)


# --- the whole script -----------------------------------------------------------------------------------


def short_args(**kw):
    defaults = dict(env_id="HalfCheetah-v4", num_steps=256, num_minibatches=4, update_epochs=2, total_timesteps=768, seed=3)
    return P.Args(**{**defaults, **kw})


def test_end_to_end_writes_tags_and_is_deterministic(tmp_path, monkeypatch):
    losses = []
    for i in range(2):
        monkeypatch.chdir(tmp_path)
        P.main(short_args(exp_name=f"det{i}", num_steps=512, total_timesteps=1536))
        scalars = read_scalars(only_run(tmp_path, f"det{i}"))
        for tag in TAGS:
            assert tag in scalars, tag
        assert len(scalars["losses/policy_loss"]) == 3
        assert all(np.isfinite(scalars["losses/approx_kl"]))
        losses.append([scalars[t] for t in ("losses/policy_loss", "losses/value_loss", "losses/approx_kl", "charts/episodic_return")])
    assert losses[0] == losses[1]


def test_kl_variants_log_beta_and_adapt_it_around_kl_adaptive_target(tmp_path, monkeypatch):
    """Section 4's rule against d_targ = --kl-adaptive-target: with a tiny one every update's KL is above 1.5 d_targ
    and beta doubles each iteration; with a huge one every KL is below d_targ / 1.5 and beta halves. The fixed
    variant keeps its beta. (test_flags_reach_the_code.py places d_targ either side of each threshold.)"""
    monkeypatch.chdir(tmp_path)
    for name, target, factor in (("tiny", 1e-9, 2.0), ("huge", 100.0, 0.5)):
        P.main(short_args(loss="kl-adaptive", exp_name=name, kl_beta=1.0, kl_adaptive_target=target))
        assert read_scalars(only_run(tmp_path, name))["losses/kl_beta"] == [factor, factor**2, factor**3], name
    P.main(short_args(loss="kl-fixed", exp_name="klf", kl_beta=3.0))
    assert read_scalars(only_run(tmp_path, "klf"))["losses/kl_beta"] == [3.0, 3.0, 3.0]


@pytest.mark.parametrize("paper", [False, True], ids=["defaults", "paper-code"])
def test_the_paper_codes_reward_advantage_and_gradient_rules(paper, tmp_path, monkeypatch):
    """--no-scale-reward trains on the raw rewards; --norm-adv-batch normalises the advantages once over the
    batch (each epoch's minibatches together: mean 0, std 1), where the default normalises each minibatch;
    --max-grad-norm 0 clips no gradient. The defaults do the opposite of each."""
    monkeypatch.chdir(tmp_path)
    calls = record_gae_inputs(P, monkeypatch, probe=torch.zeros(1, 1))
    advantages, norms = [], []
    real_loss, real_clip = P.ppo_policy_loss, torch.nn.utils.clip_grad_norm_

    def recording_loss(ratio, mb_advantages, *args):
        advantages.append(mb_advantages.detach().clone())
        return real_loss(ratio, mb_advantages, *args)

    def recording_clip(parameters, max_norm):
        norms.append(max_norm)
        return real_clip(parameters, max_norm)

    monkeypatch.setattr(P, "ppo_policy_loss", recording_loss)
    monkeypatch.setattr(torch.nn.utils, "clip_grad_norm_", recording_clip)
    kw = dict(scale_reward=False, norm_adv_batch=True, max_grad_norm=0.0) if paper else {}
    P.main(P.Args(env_id="CountTruncated-v0", num_steps=64, num_minibatches=4, update_epochs=2, total_timesteps=64, **kw))
    rewards = calls[0]["rewards"]  # the env pays 1 a step
    first_epoch = torch.cat(advantages[:4])
    minibatch_means = torch.stack([a.mean() for a in advantages[:4]]).abs()
    if paper:
        assert norms == [float("inf")] * 8 and np.all(rewards == 1.0)
        assert abs(first_epoch.mean().item()) < 1e-5 and first_epoch.std().item() == pytest.approx(1.0, abs=1e-4)
        assert minibatch_means.max() > 1e-3  # not normalised per minibatch
    else:
        assert norms == [0.5] * 8 and not np.all(rewards == 1.0)  # scaled by the return's running std
        assert minibatch_means.max() < 1e-5


def test_learns_inverted_pendulum_and_checkpoint_reproduces_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recent = P.main(P.Args(env_id="InvertedPendulum-v4", total_timesteps=49152, seed=1, save_model=True, exp_name="ip"))
    assert np.mean(recent) >= 900, f"training return {np.mean(recent)}: a random policy gets about 5"
    checkpoint = str(only_run(tmp_path, "ip__") / "ip.pt")
    agent, obs_rms = P.load_policy(torch.load(checkpoint, weights_only=True))
    assert obs_rms.count > 49152 and np.all(obs_rms.var > 0) and not np.allclose(obs_rms.mean, 0)
    mean_before = obs_rms.mean.copy()
    returns = P.main(P.Args(env_id="InvertedPendulum-v4", eval_checkpoint=checkpoint, eval_episodes=5, exp_name="ip"))
    assert len(returns) == 5 and np.mean(returns) >= 900
    assert read_scalars(only_run(tmp_path, "-eval"))["eval/episodic_return"] == pytest.approx(returns)
    assert only_run(tmp_path, "-eval").name == os.path.basename(os.path.dirname(checkpoint)) + "-eval"  # its run's name
    # the same policy with fresh (identity) statistics is what a checkpoint without them would give
    fresh = P.evaluate(agent, P.RunningMeanStd(obs_rms.mean.shape), "InvertedPendulum-v4", 3, seed=0)
    assert np.mean(fresh) < np.mean(returns)
    np.testing.assert_array_equal(obs_rms.mean, mean_before)  # evaluation never updates them


# --- bad input ----------------------------------------------------------------------------------------------


def run_script(*flags, cwd):
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "ppo_continuous.py"), *flags], cwd=cwd, capture_output=True, text=True, timeout=120)
    return proc.returncode, proc.stderr.strip().splitlines()


def test_discrete_env_is_refused_with_one_line(tmp_path):
    code, lines = run_script("--env-id", "CartPole-v1", cwd=tmp_path)
    assert code == 2 and len(lines) == 1, lines
    assert "needs a Box one: use ppo_discrete.py" in lines[0]


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(env_id="HalfCheetah-v99"), "unknown env id 'HalfCheetah-v99'"),
        (dict(num_minibatches=3), "does not split into 3 minibatches: pick a --num-minibatches that divides 2048"),
        (dict(total_timesteps=100), "less than one batch"),
        (dict(eval_checkpoint="missing.pt"), "no checkpoint at 'missing.pt'"),
    ],
)
def test_bad_input_one_line_exit_2(kw, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        P.main(P.Args(**kw))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_unknown_env_suggests_close_matches(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        P.main(P.Args(env_id="HalfCheetah-v9"))
    assert "did you mean HalfCheetah-v" in capsys.readouterr().err


def test_checkpoint_from_another_script_or_env_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    other_script, other_env, garbage = tmp_path / "d.pt", tmp_path / "e.pt", tmp_path / "g.pt"
    torch.save({"script": "ppo_discrete.py", "env_id": "CartPole-v1", "model": {}}, other_script)
    write_checkpoint(P, other_env, P.Agent(4, 1), "InvertedPendulum-v4", obs_rms=P.RunningMeanStd(4).state_dict())
    garbage.write_text("not a checkpoint")
    cases = [
        (other_script, "was saved by ppo_discrete.py: evaluate it with `python ppo_discrete.py --eval-checkpoint"),
        (other_env, "holds a policy for InvertedPendulum-v4, not HalfCheetah-v4: pass --env-id InvertedPendulum-v4"),
        (garbage, "is not a checkpoint written by ppo_continuous.py"),
    ]
    for path, expected in cases:
        with pytest.raises(SystemExit) as exc:
            P.main(P.Args(env_id="HalfCheetah-v4", eval_checkpoint=str(path)))
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and expected in err[0], err


def test_stopped_run_keeps_its_checkpoint(tmp_path):
    """SIGTERM mid-training: the run exits through `finally`, saving the model and closing the writer."""
    proc = subprocess.Popen(
        [sys.executable, "-u", os.path.join(ROOT, "ppo_continuous.py"), "--env-id", "InvertedPendulum-v4", "--save-model",
         "--num-steps", "256", "--num-minibatches", "4"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip  (-u: each line arrives as printed, not when a block fills)
    deadline = time.time() + 120
    while not proc.stdout.readline().startswith("global_step=1024"):
        assert time.time() < deadline and proc.poll() is None, proc.stderr.read()
    proc.terminate()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 143 and "model saved to" in out and "Traceback" not in err, err
    assert err.count("InvertedPendulum-v4 is out of date") == 1, err  # the env check's env does not say it again
    checkpoints = list((tmp_path / "runs").glob("*/ppo_continuous.pt"))
    assert len(checkpoints) == 1
    agent, obs_rms = P.load_policy(torch.load(str(checkpoints[0]), weights_only=True))
    assert obs_rms.count >= 1024

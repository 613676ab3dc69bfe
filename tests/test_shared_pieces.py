"""GAE, the PPO losses and the beta rule, checked against independent computations on every script's copy.

The scripts copy these functions on purpose (each stands alone); test_consistency.py keeps the copies
identical, and these tests run on each copy so that a script imported alone is checked too.
"""

import importlib
import os

import numpy as np
import pytest
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = [f[:-3] for f in ("ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py") if os.path.exists(os.path.join(ROOT, f))]


def modules_with(name):
    return [pytest.param(importlib.import_module(m), id=m) for m in SCRIPTS if hasattr(importlib.import_module(m), name)]


# --- GAE -------------------------------------------------------------------------------------------


def naive_gae(rewards, values, next_values, terminations, dones, gamma, lam):
    """A_t = sum_k (gamma lam)^k delta_{t+k}, summed explicitly until the episode or the rollout ends."""
    T, N = rewards.shape
    adv = np.zeros((T, N))
    for n in range(N):
        for t in range(T):
            total, weight = 0.0, 1.0
            for k in range(t, T):
                bootstrap = 0.0 if terminations[k, n] else gamma * next_values[k, n]
                total += weight * (rewards[k, n] + bootstrap - values[k, n])
                if dones[k, n]:
                    break
                weight *= gamma * lam
            adv[t, n] = total
    return adv


def random_rollout(rng, T=40, N=3):
    rewards = rng.normal(size=(T, N)).astype(np.float32)
    values = rng.normal(size=(T, N)).astype(np.float32)
    next_values = rng.normal(size=(T, N)).astype(np.float32)
    terminations = np.zeros((T, N), np.float32)
    truncations = np.zeros((T, N), np.float32)
    terminations[[5, 17, T - 1], 0] = 1  # in the middle and on the last step
    truncations[[9, 30], 1] = 1
    truncations[T - 1, 2], terminations[12, 2] = 1, 1  # a truncation on the last step
    truncations[3, 0] = 1
    return rewards, values, next_values, terminations, np.maximum(terminations, truncations)


@pytest.mark.parametrize("S", modules_with("compute_gae"))
def test_gae_matches_naive_discounted_sums(S):
    rng = np.random.default_rng(0)
    for _ in range(5):
        rewards, values, next_values, terminations, dones = random_rollout(rng)
        adv, returns = S.compute_gae(rewards, values, next_values, terminations, dones, 0.99, 0.95)
        expected = naive_gae(rewards, values, next_values, terminations, dones, 0.99, 0.95)
        np.testing.assert_allclose(adv, expected, rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose(returns, expected + values, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("S", modules_with("compute_gae"))
def test_gae_hand_computed(S):
    # one env, 3 steps: step 0 is truncated (bootstraps with V(final obs) = 10), step 2 terminates
    rewards = np.array([[1.0], [2.0], [3.0]], np.float32)
    values = np.array([[0.5], [1.0], [1.5]], np.float32)
    next_values = np.array([[10.0], [1.5], [99.0]], np.float32)
    terminations = np.array([[0.0], [0.0], [1.0]], np.float32)
    dones = np.array([[1.0], [0.0], [1.0]], np.float32)
    adv, _ = S.compute_gae(rewards, values, next_values, terminations, dones, 0.9, 0.5)
    a2 = 3.0 - 1.5  # termination: no bootstrap
    a1 = (2.0 + 0.9 * 1.5 - 1.0) + 0.9 * 0.5 * a2
    a0 = 1.0 + 0.9 * 10.0 - 0.5  # truncation: bootstraps, and does not see the next episode
    np.testing.assert_allclose(adv[:, 0], [a0, a1, a2], rtol=1e-6)


# --- losses ------------------------------------------------------------------------------------------


def ratio_grad(S, loss_type, ratio_values, advantages, eps=0.2, kl=None, beta=1.0):
    ratio = torch.tensor(ratio_values, requires_grad=True)
    S.ppo_policy_loss(ratio, torch.tensor(advantages), kl, loss_type, eps, beta).backward()
    return ratio.grad


@pytest.mark.parametrize("S", modules_with("ppo_policy_loss"))
def test_clipped_objective_gradient_is_zero_exactly_where_clipped(S):
    ratios = [0.5, 0.79, 0.9, 1.0, 1.1, 1.21, 1.5]
    n = len(ratios)
    # A > 0: the objective is flat once r > 1 + eps (no credit for pushing further), live below
    grad = ratio_grad(S, "clip", ratios, [1.0] * n)
    assert torch.equal(grad == 0, torch.tensor([False] * 5 + [True, True]))
    np.testing.assert_allclose(grad[:5], -1.0 / n, rtol=1e-6)
    # A < 0: flat once r < 1 - eps, live above (a bad action whose ratio grew is still corrected)
    grad = ratio_grad(S, "clip", ratios, [-1.0] * n)
    assert torch.equal(grad == 0, torch.tensor([True, True] + [False] * 5))
    np.testing.assert_allclose(grad[2:], 1.0 / n, rtol=1e-6)


@pytest.mark.parametrize("S", modules_with("ppo_policy_loss"))
def test_clipped_objective_value_is_the_pessimistic_min(S):
    ratio, adv = torch.tensor([1.5, 0.5, 1.5, 0.5]), torch.tensor([2.0, 2.0, -2.0, -2.0])
    loss = S.ppo_policy_loss(ratio, adv, None, "clip", 0.2, 1.0)
    expected = -np.mean([1.2 * 2.0, 0.5 * 2.0, 1.5 * -2.0, 0.8 * -2.0])
    assert loss.item() == pytest.approx(expected)


@pytest.mark.parametrize("S", modules_with("ppo_policy_loss"))
def test_unclipped_and_kl_penalty_objectives(S):
    ratios, adv = [0.5, 1.0, 1.5], [1.0, -2.0, 3.0]
    np.testing.assert_allclose(ratio_grad(S, "none", ratios, adv), -np.array(adv) / 3, rtol=1e-6)
    kl = torch.tensor([0.1, 0.2, 0.3], requires_grad=True)
    loss = S.ppo_policy_loss(torch.tensor(ratios), torch.tensor(adv), kl, "kl-adaptive", 0.2, 3.0)
    assert loss.item() == pytest.approx(-np.mean(np.array(ratios) * adv - 3.0 * np.array([0.1, 0.2, 0.3])))
    loss.backward()
    np.testing.assert_allclose(kl.grad, [1.0, 1.0, 1.0], rtol=1e-6)  # d/dKL of beta*mean(KL), beta = 3


@pytest.mark.parametrize("S", modules_with("update_kl_beta"))
def test_kl_beta_rule(S):
    d = 0.01
    assert S.update_kl_beta(1.0, d / 1.5 - 1e-6, d) == 0.5
    assert S.update_kl_beta(1.0, d * 1.5 + 1e-6, d) == 2.0
    for kl in (d / 1.5 + 1e-6, d, d * 1.5 - 1e-6):
        assert S.update_kl_beta(1.0, kl, d) == 1.0


def naive_value_loss(new, old, ret, eps, clip):
    """ppo2's value loss, one sample at a time: half the larger of the squared errors of the new value and of
    the new value held within eps of the rollout's (with clip), or half the squared error (without); and the
    mean of each of the two errors alone."""
    unclipped = [0.5 * (v - r) ** 2 for v, r in zip(new, ret)]
    clipped = [0.5 * (min(max(v, v_old - eps), v_old + eps) - r) ** 2 for v, v_old, r in zip(new, old, ret)]
    loss = np.mean([max(a, b) for a, b in zip(unclipped, clipped)]) if clip else np.mean(unclipped)
    return float(loss), float(np.mean(unclipped)), float(np.mean(clipped))


@pytest.mark.parametrize("S", modules_with("ppo_value_loss"))
def test_value_loss_is_the_larger_of_the_clipped_and_unclipped_errors(S):
    # sample 0: the clipped error is the larger (new 1.0 held at 0.2, further from 2); sample 1: the unclipped one
    # (new 3.0 held at 2.7, nearer to 1); sample 2: within eps, the two are equal; sample 3: a move down, clipped
    new, old, ret = [1.0, 3.0, 0.5, -1.0], [0.0, 2.5, 0.4, 0.0], [2.0, 1.0, 0.0, -2.0]
    expected, unclipped, clipped = naive_value_loss(new, old, ret, 0.2, True)
    assert expected != pytest.approx(unclipped) and expected != pytest.approx(clipped)  # the max, not one term
    loss = S.ppo_value_loss(torch.tensor(new), torch.tensor(old), torch.tensor(ret), 0.2, True).item()
    assert loss == pytest.approx(expected, rel=1e-6)
    loss = S.ppo_value_loss(torch.tensor(new), torch.tensor(old), torch.tensor(ret), 0.2, False).item()
    assert loss == pytest.approx(unclipped, rel=1e-6)  # --no-clip-vloss
    rng = np.random.default_rng(0)
    new, old, ret = (rng.normal(size=200).astype(np.float32) for _ in range(3))
    loss = S.ppo_value_loss(torch.tensor(new), torch.tensor(old), torch.tensor(ret), 0.3, True).item()
    assert loss == pytest.approx(naive_value_loss(new, old, ret, 0.3, True)[0], rel=1e-5)


# --- the rollout's log pi_old against the optimiser's log pi ------------------------------------------

FIRST_RUN = {  # one iteration of a real run, on a real env
    "ppo_continuous": dict(env_id="InvertedPendulum-v4", num_envs=1, num_steps=256, num_minibatches=4),
    "ppo_discrete": dict(env_id="CartPole-v1", num_envs=2, num_steps=128, num_minibatches=4),
    "ppo_atari": dict(env_id="BreakoutNoFrameskip-v4", num_envs=2, num_steps=32, num_minibatches=2),
}


@pytest.mark.parametrize("S", [p for p in modules_with("ppo_policy_loss") if p.id in FIRST_RUN])
def test_ratio_is_one_on_the_first_minibatch_of_a_real_run(S, tmp_path, monkeypatch):
    # log pi_old(a|s) comes from the rollout (a batched pass after it, or Atari's per-step pass); the
    # first minibatch of the first epoch recomputes log pi(a|s) with the same weights, so r must be 1.
    # A stored action, observation or log-probability that does not belong to its sample breaks this.
    monkeypatch.chdir(tmp_path)
    ratios, real_loss = [], S.ppo_policy_loss

    def recording_loss(ratio, *args):
        ratios.append(ratio.detach().clone())
        return real_loss(ratio, *args)

    monkeypatch.setattr(S, "ppo_policy_loss", recording_loss)
    kw = FIRST_RUN[S.__name__]
    S.main(S.Args(**kw, total_timesteps=kw["num_envs"] * kw["num_steps"], update_epochs=2, checkpoint_every=0))
    assert len(ratios) == 2 * kw["num_minibatches"]
    first, later = ratios[0], torch.cat(ratios[kw["num_minibatches"] :])
    assert first.numel() == kw["num_envs"] * kw["num_steps"] // kw["num_minibatches"]
    # exactly 1 in the MLP scripts; within float32 rounding in Atari, whose rollout pass has another batch size
    assert (first - 1).abs().max() <= 2.5e-7, (first - 1).abs().max()
    assert (later - 1).abs().max() > 1e-3  # by the second epoch the policy has moved: the check can see a change

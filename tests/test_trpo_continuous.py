"""Tests for trpo_continuous.py: CG, Fisher-vector products and the line search against independent
computations, then the whole script."""

import numpy as np
import pytest
import torch
import gymnasium as gym
from conftest import count_env, only_run, read_scalars, record_gae_inputs

import trpo_continuous as T


@pytest.mark.parametrize("n", [1, 5, 30])
def test_conjugate_gradient_solves_spd_systems(n):
    gen = torch.Generator().manual_seed(n)
    for _ in range(3):
        m = torch.randn(n, n, generator=gen, dtype=torch.float64)
        a = m @ m.T + 0.5 * torch.eye(n, dtype=torch.float64)
        b = torch.randn(n, generator=gen, dtype=torch.float64)
        x = T.conjugate_gradient(lambda v: a @ v, b, iters=3 * n, residual_tol=1e-20)
        torch.testing.assert_close(x, torch.linalg.solve(a, b), rtol=1e-7, atol=1e-8)


def test_conjugate_gradient_stops_at_the_iteration_limit():
    a = torch.diag(torch.arange(1.0, 11.0, dtype=torch.float64))
    b = torch.ones(10, dtype=torch.float64)
    x1 = T.conjugate_gradient(lambda v: a @ v, b, iters=1)
    torch.testing.assert_close(x1, (b @ b) / (b @ a @ b) * b)  # one step = steepest descent
    assert not torch.allclose(x1, torch.linalg.solve(a, b))


def test_fisher_vector_product_is_the_hessian_of_the_mean_kl_times_v():
    torch.manual_seed(0)
    obs = torch.randn(32, 3, dtype=torch.float64)
    w_old, b_old, logstd_old = torch.randn(2, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64), torch.randn(1, 2, dtype=torch.float64)
    mean_old = obs @ w_old.T + b_old

    def mean_kl(flat):  # a tiny linear Gaussian policy, parameters as one vector
        w, b, logstd = flat[:6].reshape(2, 3), flat[6:8], flat[8:].reshape(1, 2)
        return T.gaussian_kl(mean_old, logstd_old, obs @ w.T + b, logstd).mean()

    theta_old = torch.cat([w_old.reshape(-1), b_old, logstd_old.reshape(-1)])
    for theta in (theta_old, theta_old + 0.1 * torch.randn(10, dtype=torch.float64)):
        hessian = torch.autograd.functional.hessian(mean_kl, theta)
        params = [theta.clone().requires_grad_(True)]
        v = torch.randn(10, dtype=torch.float64)
        grad_kl = T.flat_grad(mean_kl(params[0]), params, create_graph=True)
        fvp = T.fisher_vector_product(grad_kl, params, v, damping=0.1)
        torch.testing.assert_close(fvp, hessian @ v + 0.1 * v)
        w = torch.randn(10, dtype=torch.float64)  # the graph outlives a product: CG's next one uses it again
        torch.testing.assert_close(T.fisher_vector_product(grad_kl, params, w, damping=0.1), hessian @ w + 0.1 * w)


def quadratic_problem(full_kl):
    """objective(params) with KL = full_kl * |params|^2 (so the full step has KL full_kl) and a surrogate that rises."""
    tried = []

    def evaluate(params):
        tried.append(params.clone())
        return params.sum(), full_kl * (params @ params)

    return evaluate, tried


def test_line_search_never_accepts_a_step_above_the_kl_limit_and_shrinks_geometrically():
    old, full_step = torch.zeros(4, dtype=torch.float64), torch.full((4,), 0.5, dtype=torch.float64)  # |full_step| = 1
    evaluate, tried = quadratic_problem(full_kl=0.04)
    params, improvement, kl, steps, accepted = T.line_search(evaluate, old, full_step, 0.01, 0.8, 10)
    # KL of step i is 0.04 * 0.8^(2i): 0.0105 at i = 3 is over the limit, 0.0067 at i = 4 is the first under it
    assert accepted and steps == 4
    torch.testing.assert_close(params, old + 0.8**4 * full_step)
    assert kl == pytest.approx(0.04 * 0.8**8) and kl <= 0.01
    assert improvement == pytest.approx(float(params.sum()))
    norms = [float(p.norm()) for p in tried[1:]]
    np.testing.assert_allclose(np.array(norms[1:]) / np.array(norms[:-1]), 0.8)


def test_line_search_keeps_the_old_parameters_when_nothing_improves():
    old, full_step = torch.ones(4, dtype=torch.float64), -torch.ones(4, dtype=torch.float64)
    evaluate, tried = quadratic_problem(full_kl=1e-6)  # every step is inside the trust region...
    params, improvement, kl, steps, accepted = T.line_search(evaluate, old, full_step, 0.01, 0.5, 7)
    assert not accepted and steps == 7 and improvement == 0.0 and kl == 0.0  # ...but lowers the surrogate
    assert torch.equal(params, old) and len(tried) == 1 + 7


def test_trpo_step_scales_the_natural_gradient_so_its_quadratic_kl_is_delta():
    # L(theta) = g . (theta - theta_old), KL = 1/2 d^T F d: the problem CG and the step scaling are built for
    gen = torch.Generator().manual_seed(0)
    m = torch.randn(6, 6, generator=gen, dtype=torch.float64)
    fisher, g = m @ m.T + 0.1 * torch.eye(6, dtype=torch.float64), torch.randn(6, generator=gen, dtype=torch.float64)
    old = torch.randn(6, generator=gen, dtype=torch.float64)

    def objective(theta):
        d = theta - old
        return g @ d, 0.5 * d @ fisher @ d

    delta, damping = 0.01, 0.1
    new, improvement, kl, steps, accepted = T.trpo_step(objective, old, delta, cg_iters=60, cg_damping=damping, backtrack_coef=0.8, backtrack_iters=10)
    damped = fisher + damping * torch.eye(6, dtype=torch.float64)  # what the Fisher-vector products multiply by
    x = torch.linalg.solve(damped, g)  # the natural gradient, computed independently
    expected = torch.sqrt(2 * delta / (x @ damped @ x)) * x
    assert accepted and steps == 0  # with damping, the true KL of the full step is below delta: no backtracking
    torch.testing.assert_close(new - old, expected)
    assert float(0.5 * expected @ damped @ expected) == pytest.approx(delta)  # the quadratic model of the KL is delta
    assert kl == pytest.approx(float(0.5 * expected @ fisher @ expected)) and kl < delta
    assert improvement == pytest.approx(float(g @ expected)) and improvement > 0


def test_trpo_objective_is_the_surrogate_and_kl_at_theta_and_leaves_the_agent_alone():
    torch.manual_seed(0)
    agent, obs, actions, advantages = T.Agent(3, 2), torch.randn(16, 3), torch.randn(16, 2), torch.randn(16)
    with torch.no_grad():
        _, logprobs, _, _, means = agent.get_action_and_value(obs, actions)
    logstd_old = agent.actor_logstd.detach().clone()
    objective = T.trpo_objective(agent, obs, actions, logprobs, means, logstd_old, advantages)
    params = [*agent.actor_mean.parameters(), agent.actor_logstd]
    theta_old = torch.nn.utils.parameters_to_vector(params).detach()
    before = [p.detach().clone() for p in params]

    surrogate, kl = objective(theta_old)
    assert float(surrogate) == pytest.approx(float(advantages.mean()))  # r = 1 at theta_old
    assert float(kl) == pytest.approx(0.0, abs=1e-12)
    theta = theta_old + 0.05 * torch.randn_like(theta_old)
    surrogate, kl = objective(theta)
    for p, b in zip(params, before):
        assert torch.equal(p, b)  # evaluating at theta changed nothing
    moved = T.Agent(3, 2)  # the same numbers by loading theta into a second agent
    torch.nn.utils.vector_to_parameters(theta, [*moved.actor_mean.parameters(), moved.actor_logstd])
    with torch.no_grad():
        _, new_logprobs, _, _, new_means = moved.get_action_and_value(obs, actions)
    torch.testing.assert_close(surrogate, ((new_logprobs - logprobs).exp() * advantages).mean())
    torch.testing.assert_close(kl, T.gaussian_kl(means, logstd_old, new_means, moved.actor_logstd).mean())


BOX = gym.spaces.Box(-np.inf, np.inf, (1,), np.float32)
ACTION_BOX = gym.spaces.Box(-1.0, 1.0, (1,), np.float32)


def vector_count(t):
    return np.array([t], np.float32)


gym.register("TrpoCountTruncated-v0", entry_point=lambda: count_env(False, BOX, ACTION_BOX, vector_count))
gym.register("TrpoCountTerminated-v0", entry_point=lambda: count_env(True, BOX, ACTION_BOX, vector_count))


@pytest.mark.parametrize("env_id, bootstrap", [("TrpoCountTruncated-v0", True), ("TrpoCountTerminated-v0", True),
                                               ("TrpoCountTruncated-v0", False)])  # fmt: skip
def test_truncation_is_bootstrapped_with_the_final_observation_unless_told_not_to(env_id, bootstrap, tmp_path,
                                                                                   monkeypatch):  # fmt: skip
    """Episodes of 5 steps whose observation is the step count, ended by the time limit or by a termination.
    GAE gets V(s_{t+1}) as next_values: at an episode's last step the final observation's value (5), never the
    next episode's first (0); a truncation leaves it to bootstrap, a termination (or with
    --no-bootstrap-truncation, a truncation too) zeroes it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(T, "normalize_obs", lambda obs, rms, clip=10.0, epsilon=1e-8: obs.astype(np.float32))
    calls = record_gae_inputs(T, monkeypatch, probe=torch.arange(6, dtype=torch.float32)[:, None])
    T.main(T.Args(env_id=env_id, num_envs=2, num_steps=10, vf_num_minibatches=2, vf_epochs=1, total_timesteps=40,
                  bootstrap_truncation=bootstrap))  # fmt: skip
    assert len(calls) == 2
    ends = np.zeros((10, 2), bool)
    ends[[4, 9], :] = True  # 5-step episodes, 10-step rollouts
    for call in calls:
        v = call["v"]  # the critic's values of the observations 0..5 when GAE was called
        assert abs(v[5] - v[0]) > 1e-3  # the final and the reset observation's values can be told apart
        np.testing.assert_array_equal(call["dones"], ends)
        terminal = env_id == "TrpoCountTerminated-v0" or not bootstrap
        np.testing.assert_array_equal(call["terminations"], ends if terminal else 0 * ends)
        for t in range(10):
            np.testing.assert_allclose(call["values"][t], v[t % 5], atol=1e-5)
            np.testing.assert_allclose(call["next_values"][t], v[t % 5 + 1], atol=1e-5)


ACTIONS = []


class ActionRecorder(gym.Env):
    """Records the actions it is sent; wide bounds, so that the script's clipping never touches them."""

    observation_space, action_space = BOX, gym.spaces.Box(-10.0, 10.0, (2,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        return np.zeros(1, np.float32), {}

    def step(self, action):
        ACTIONS.append(np.array(action))
        return np.zeros(1, np.float32), 0.0, False, False, {}


gym.register("TrpoActionRecorder-v0", entry_point=ActionRecorder, max_episode_steps=100)


@pytest.mark.parametrize("init_logstd", [0.0, -1.0])
def test_first_rollout_samples_with_the_initial_standard_deviation(init_logstd, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ACTIONS.clear()
    T.main(T.Args(env_id="TrpoActionRecorder-v0", num_steps=1024, vf_num_minibatches=2, vf_epochs=1, total_timesteps=1024, init_logstd=init_logstd))
    actions = np.stack(ACTIONS)
    assert actions.shape == (1024, 2)
    # the actor's mean starts near 0 (output layer gain 0.01); the sample std of 1024 draws is within 10%
    np.testing.assert_allclose(actions.std(0), np.exp(init_logstd), rtol=0.1)


def test_learns_inverted_pendulum_within_the_trust_region_and_checkpoint_reproduces_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    recent = T.main(T.Args(env_id="InvertedPendulum-v4", total_timesteps=49152, seed=1, save_model=True, exp_name="tr"))
    assert np.mean(recent) >= 900, f"training return {np.mean(recent)}: a random policy gets about 5"
    scalars = read_scalars(only_run(tmp_path, "tr__"))
    for tag in ["charts/episodic_return", "charts/episodic_length", "charts/SPS", "losses/value_loss", "losses/entropy",
                "losses/explained_variance", "losses/kl", "losses/surrogate_improvement", "losses/line_search_steps", "losses/step_accepted"]:  # fmt: skip
        assert len(scalars[tag]) > 0, tag
    assert len(scalars["losses/kl"]) == 24
    assert max(scalars["losses/kl"]) <= 0.01 and max(scalars["losses/kl"]) > 0.001
    for kl, accepted, improvement in zip(scalars["losses/kl"], scalars["losses/step_accepted"], scalars["losses/surrogate_improvement"]):
        assert (accepted == 1.0 and improvement > 0) or (accepted == 0.0 and kl == 0.0 and improvement == 0.0)

    checkpoint = str(only_run(tmp_path, "tr__") / "tr.pt")
    returns = T.main(T.Args(env_id="InvertedPendulum-v4", eval_checkpoint=checkpoint, eval_episodes=5))
    assert np.mean(returns) >= 900


def test_bad_input(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        T.main(T.Args(vf_num_minibatches=3))
    assert exc.value.code == 2 and "pick a --vf-num-minibatches that divides 2048" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        T.main(T.Args(env_id="CartPole-v1"))
    assert exc.value.code == 2 and "needs a Box one: use ppo_discrete.py" in capsys.readouterr().err
    torch.save({"script": "ppo_continuous.py", "env_id": "HalfCheetah-v4", "model": {}}, tmp_path / "ppo.pt")
    with pytest.raises(SystemExit) as exc:
        T.main(T.Args(eval_checkpoint=str(tmp_path / "ppo.pt")))
    assert exc.value.code == 2 and "was saved by ppo_continuous.py" in capsys.readouterr().err

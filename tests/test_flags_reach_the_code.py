"""Every flag main reads reaches the code that uses it: a tiny run with the flag set, and the value (or its
effect) seen where the algorithm uses it. A meta-test fails when a script gains a flag without such a check."""

import inspect

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import WithLives, only_run, read_scalars

import ppo_atari
import ppo_continuous
import ppo_discrete
import trpo_continuous


class ToyGame(gym.Env):
    """An Atari-shaped toy for ppo_atari's tiny runs: 4 stacked 84x84 frames whose grey level is the position
    x in -3..3, actions stay, left and right, reward 1 at x = 0; 20 steps a game, cut by the time limit."""

    observation_space, action_space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(3)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.x = int(self.np_random.integers(-3, 4))
        return self.frames(), {}

    def step(self, action):
        self.x = int(np.clip(self.x + (0, -1, 1)[int(action)], -3, 3))
        return self.frames(), float(self.x == 0), False, False, {}

    def frames(self):
        return np.full((4, 84, 84), 128 + 30 * self.x, np.uint8)


gym.register("ToyGameNoFrameskip-v4", entry_point=ToyGame, max_episode_steps=20)


def toy_game_envs(monkeypatch):
    """ppo_atari's make_envs replaced by a gymnasium vector env of ToyGames with the one info (lives) the script
    reads from ale-py's."""

    def make_envs(env_id, num_envs, num_threads=0):
        env = lambda: WithLives(gym.make("ToyGameNoFrameskip-v4"))  # noqa: E731
        return gym.vector.SyncVectorEnv([env] * num_envs, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)

    monkeypatch.setattr(ppo_atari, "make_envs", make_envs)
    monkeypatch.setattr(ppo_atari, "check_env", lambda args: None)  # the toy is no ALE game

TINY = {  # two iterations of 64 steps on a toy task, one env
    ppo_continuous: dict(env_id="toy_envs:ToyReach-v0", num_steps=64, num_minibatches=4, update_epochs=2,
                         total_timesteps=128, save_model=True),
    ppo_discrete: dict(env_id="toy_envs:ToyChoice-v0", num_envs=1, num_steps=64, num_minibatches=4, update_epochs=2,
                       total_timesteps=128, save_model=True),
    trpo_continuous: dict(env_id="toy_envs:ToyReach-v0", num_steps=64, vf_num_minibatches=4, vf_epochs=2,
                          total_timesteps=128, save_model=True),
    ppo_atari: dict(env_id="ToyGameNoFrameskip-v4", num_envs=1, num_steps=64, num_minibatches=4, update_epochs=2,
                    total_timesteps=128, save_model=True, torch_threads=1),  # one thread: a busy machine stays fast
}  # fmt: skip
# Run management's flags: their tests are test_run_management.py, test_resume.py, test_interruptions.py,
# test_bad_inputs.py and test_readme.py; the device's: one machine has one; --compile's: test_compile.py.
ELSEWHERE = {"env_id", "exp_name", "track", "wandb_project_name", "wandb_entity", "capture_video", "checkpoint_every",
             "save_model", "resume", "eval_checkpoint", "eval_episodes", "cuda", "torch_deterministic",
             "compile"}  # fmt: skip


def spy(monkeypatch, module, name):
    """Wraps module.name: returns a list that fills with each call's arguments, by parameter name."""
    real, calls = getattr(module, name), []
    signature = inspect.signature(real)

    def wrapper(*args, **kwargs):  # arrays copied: main refills its rollout arrays in place
        arguments = signature.bind(*args, **kwargs).arguments
        calls.append({k: v.copy() if isinstance(v, np.ndarray) else v for k, v in arguments.items()})
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, wrapper)
    return calls


@pytest.fixture(autouse=True)
def atari_on_the_toy_game(monkeypatch):
    toy_game_envs(monkeypatch)


def train(module, tmp_path, monkeypatch, name="f", **kw):
    monkeypatch.chdir(tmp_path)
    module.main(module.Args(**{**TINY[module], "exp_name": name, **kw}))
    return torch.load(next((tmp_path / "runs").glob(f"*__{name}__*/{name}.pt")), weights_only=True)


PPO = [ppo_continuous, ppo_discrete, ppo_atari]
# (flag, value, the function that receives it, its parameter, other flags the check needs)
PASSED = [
    ("gamma", 0.9, "compute_gae", "gamma", {}),
    ("gae_lambda", 0.5, "compute_gae", "gae_lambda", {}),
    ("loss", "kl-fixed", "ppo_policy_loss", "loss", {}),
    ("clip_coef", 0.05, "ppo_policy_loss", "clip_coef", {}),
    ("kl_beta", 3.0, "ppo_policy_loss", "kl_beta", {"loss": "kl-fixed"}),
    ("clip_vloss", False, "ppo_value_loss", "clip_vloss", {}),
    ("kl_adaptive_target", 0.05, "update_kl_beta", "d_targ", {"loss": "kl-adaptive"}),
]
CASES = [(m, *case) for m in PPO for case in PASSED] + [
    (trpo_continuous, "gamma", 0.9, "compute_gae", "gamma", {}),
    (trpo_continuous, "gae_lambda", 0.5, "compute_gae", "gae_lambda", {}),
    (trpo_continuous, "max_kl", 0.02, "trpo_step", "max_kl", {}),
    (trpo_continuous, "cg_iters", 3, "trpo_step", "cg_iters", {}),
    (trpo_continuous, "cg_damping", 0.3, "trpo_step", "cg_damping", {}),
    (trpo_continuous, "backtrack_coef", 0.6, "trpo_step", "backtrack_coef", {}),
    (trpo_continuous, "backtrack_iters", 4, "trpo_step", "backtrack_iters", {}),
]


@pytest.mark.parametrize("module, flag, value, function, parameter, extra", CASES,
                         ids=[f"{c[0].__name__}-{c[1]}" for c in CASES])  # fmt: skip
def test_the_flags_value_reaches_the_function_that_uses_it(module, flag, value, function, parameter, extra, tmp_path,
                                                           monkeypatch):  # fmt: skip
    calls = spy(monkeypatch, module, function)
    train(module, tmp_path, monkeypatch, **{flag: value, **extra})
    assert calls and all(call[parameter] == value for call in calls), (calls[:1], value)


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_adaptive_kl_beta_moves_only_beyond_one_and_a_half_times_kl_adaptive_target(module, tmp_path, monkeypatch):
    """Section 4's rule with d_targ = --kl-adaptive-target: after the first update (whose KL d does not depend on
    d_targ) beta doubles when d > 1.5 d_targ, halves when d < d_targ / 1.5, and stays in between; d_targ is put
    either side of each threshold."""
    calls = spy(monkeypatch, module, "update_kl_beta")
    one = dict(loss="kl-adaptive", kl_beta=1.0, total_timesteps=64)  # one iteration
    train(module, tmp_path, monkeypatch, name="d", **one)
    d = calls[0]["kl"]
    assert d > 0
    for i, (target, beta) in enumerate([(d / 1.6, 2.0), (d / 1.4, 1.0), (d * 1.4, 1.0), (d * 1.6, 0.5)]):
        train(module, tmp_path, monkeypatch, name=f"t{i}", kl_adaptive_target=target, **one)
        assert read_scalars(only_run(tmp_path, f"__t{i}__"))["losses/kl_beta"] == [beta], (target / d, beta)


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_epochs_minibatches_and_the_early_stop_set_the_number_of_updates(module, tmp_path, monkeypatch):
    calls = spy(monkeypatch, module, "ppo_policy_loss")
    train(module, tmp_path, monkeypatch, name="a", update_epochs=3, num_minibatches=2)
    assert len(calls) == 2 * 3 * 2  # iterations x epochs x minibatches
    calls.clear()
    train(module, tmp_path, monkeypatch, name="b", update_epochs=3, num_minibatches=2, target_kl=1e-12)
    assert len(calls) == 2 * 1 * 2  # --target-kl: every iteration stops after its first epoch


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_norm_adv_normalises_each_minibatchs_advantages_and_no_norm_adv_does_not(module, tmp_path, monkeypatch):
    calls = spy(monkeypatch, module, "ppo_policy_loss")
    train(module, tmp_path, monkeypatch, name="a")
    assert calls and all(abs(float(c["advantages"].mean())) < 1e-5 and abs(float(c["advantages"].std()) - 1) < 1e-3
                         for c in calls)  # fmt: skip
    calls.clear()
    train(module, tmp_path, monkeypatch, name="b", norm_adv=False)
    assert not any(abs(float(c["advantages"].std()) - 1) < 1e-3 for c in calls)


def test_norm_adv_batch_normalises_over_the_batch_not_each_minibatch(tmp_path, monkeypatch):
    calls = spy(monkeypatch, ppo_continuous, "ppo_policy_loss")
    train(ppo_continuous, tmp_path, monkeypatch, norm_adv_batch=True, update_epochs=1)
    per_iteration = [torch.cat([c["advantages"] for c in calls[i : i + 4]]) for i in (0, 4)]
    assert all(abs(float(a.mean())) < 1e-5 and abs(float(a.std()) - 1) < 1e-3 for a in per_iteration)
    assert not all(abs(float(c["advantages"].std()) - 1) < 1e-3 for c in calls)


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_learning_rate_and_its_schedule_are_the_ones_logged(module, tmp_path, monkeypatch):
    train(module, tmp_path, monkeypatch, name="a", learning_rate=1e-3, total_timesteps=256)
    assert np.allclose(read_scalars(only_run(tmp_path, "__a__"))["charts/learning_rate"], [1e-3, 7.5e-4, 5e-4, 2.5e-4])
    train(module, tmp_path, monkeypatch, name="b", learning_rate=1e-3, total_timesteps=256, anneal_lr=False)
    assert np.allclose(read_scalars(only_run(tmp_path, "__b__"))["charts/learning_rate"], [1e-3] * 4)


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_anneal_clip_anneals_the_clip_given_to_the_loss(module, tmp_path, monkeypatch):
    calls = spy(monkeypatch, module, "ppo_policy_loss")
    train(module, tmp_path, monkeypatch, anneal_clip=True, clip_coef=0.2)
    assert sorted({round(c["clip_coef"], 6) for c in calls}) == [0.1, 0.2]


@pytest.mark.parametrize("module", PPO + [trpo_continuous], ids=lambda m: m.__name__)
def test_steps_envs_and_total_timesteps_shape_the_rollouts(module, tmp_path, monkeypatch):
    calls = spy(monkeypatch, module, "compute_gae")
    train(module, tmp_path, monkeypatch, num_envs=2, num_steps=32, total_timesteps=192)
    assert len(calls) == 3 and all(c["rewards"].shape == (32, 2) for c in calls)


@pytest.mark.parametrize("module", PPO, ids=lambda m: m.__name__)
def test_the_entropy_coefficient_and_grad_clipping_reach_the_update(module, tmp_path, monkeypatch):
    """ent_coef: the entropy term moves the policy (another final policy than without it); max_grad_norm: the
    norm given to clip_grad_norm_."""
    base = train(module, tmp_path, monkeypatch, name="base")
    entropy = train(module, tmp_path, monkeypatch, name="entropy", ent_coef=0.5)
    actor = [k for k in base["model"] if not k.startswith("critic")]
    assert any(not torch.equal(base["model"][k], entropy["model"][k]) for k in actor)
    calls = spy(monkeypatch, torch.nn.utils, "clip_grad_norm_")
    train(module, tmp_path, monkeypatch, name="clip", max_grad_norm=0.25)
    assert calls and {c["max_norm"] for c in calls} == {0.25}


def shape(module):
    return {ppo_continuous: (1, 1), ppo_discrete: (1, 2), ppo_atari: (3,)}[module]


@pytest.mark.parametrize("module", PPO + [trpo_continuous], ids=lambda m: m.__name__)
def test_a_value_loss_without_weight_leaves_the_critic_as_initialised(module, tmp_path, monkeypatch):
    """vf_coef 0: no value gradient, so the critic keeps the seed's initial weights (a default run changes
    them); TRPO's value fit: its Adam gets --vf-learning-rate."""
    if module is trpo_continuous:
        calls = spy(monkeypatch, torch.optim, "Adam")
        train(module, tmp_path, monkeypatch, vf_learning_rate=0.005)
        assert calls[-1]["lr"] == 0.005
        return
    state = train(module, tmp_path, monkeypatch, name="zero", vf_coef=0.0)
    moved = train(module, tmp_path, monkeypatch, name="base")
    torch.manual_seed(1)
    init = module.Agent(*shape(module)).state_dict()
    critic = [k for k in init if k.startswith("critic")]
    assert all(torch.equal(state["model"][k], init[k]) for k in critic)
    assert all(not torch.equal(moved["model"][k], init[k]) for k in critic)


def test_trpo_value_fit_epochs_and_minibatches_set_its_steps(tmp_path, monkeypatch):
    steps = []
    real = torch.optim.Adam.step
    monkeypatch.setattr(torch.optim.Adam, "step", lambda self, *a, **k: steps.append(1) or real(self, *a, **k))
    train(trpo_continuous, tmp_path, monkeypatch, vf_epochs=3, vf_num_minibatches=2)
    assert len(steps) == 2 * 3 * 2


def test_trpo_init_logstd_is_the_policys_first_log_std(tmp_path, monkeypatch):
    calls = spy(monkeypatch, trpo_continuous, "trpo_objective")
    train(trpo_continuous, tmp_path, monkeypatch, init_logstd=-0.7)
    assert torch.allclose(calls[0]["old_logstd"], torch.full_like(calls[0]["old_logstd"], -0.7))


@pytest.mark.parametrize("module", PPO + [trpo_continuous], ids=lambda m: m.__name__)
def test_the_seed_changes_the_run(module, tmp_path, monkeypatch):
    a, b = (train(module, tmp_path, monkeypatch, name=f"s{seed}", seed=seed)["model"] for seed in (1, 2))
    assert any(not torch.equal(a[k], b[k]) for k in a)


@pytest.mark.parametrize("module", [ppo_continuous, trpo_continuous], ids=lambda m: m.__name__)
def test_the_continuous_scripts_scale_rewards_unless_told_not_to(module, tmp_path, monkeypatch):
    """--no-scale-reward: GAE gets the env's rewards (each 20-step episode's sum is its logged return); by default
    the same first rollout (the same seed) reaches GAE scaled, signs kept."""
    calls = spy(monkeypatch, module, "compute_gae")
    train(module, tmp_path, monkeypatch, name="raw", scale_reward=False)
    raw = calls[0]["rewards"][:, 0]
    logged = read_scalars(only_run(tmp_path, "__raw__"))["charts/episodic_return"]
    np.testing.assert_allclose([raw[i : i + 20].sum() for i in (0, 20, 40)], logged[:3], rtol=1e-5)
    calls.clear()
    train(module, tmp_path, monkeypatch, name="scaled")
    scaled = calls[0]["rewards"][:, 0]
    assert not np.allclose(scaled, raw) and np.array_equal(np.sign(scaled), np.sign(raw))


@pytest.mark.parametrize("module", PPO + [trpo_continuous], ids=lambda m: m.__name__)
def test_no_bootstrap_truncation_makes_the_time_limit_a_termination(module, tmp_path, monkeypatch):
    """The toys' episodes end only at their 20-step time limit: by default a truncation (GAE bootstraps from the
    final observation; the rollout tests in test_ppo_*.py and test_trpo_continuous.py check that value), with
    --no-bootstrap-truncation a termination."""
    calls = spy(monkeypatch, module, "compute_gae")
    train(module, tmp_path, monkeypatch, name="a")
    assert calls and all(c["dones"].any() and not c["terminations"].any() for c in calls)
    calls.clear()
    train(module, tmp_path, monkeypatch, name="b", bootstrap_truncation=False)
    assert calls and all(c["dones"].any() and np.array_equal(c["terminations"], c["dones"]) for c in calls)


def test_atari_threads_reach_torch_and_the_emulators(tmp_path, monkeypatch):
    """--torch-threads: torch's CPU threads (0 leaves torch's default); --num-threads: the emulators' threads, as
    make_envs receives them (test_ppo_atari.py shows make_envs handing them to ale-py)."""
    threads = []
    monkeypatch.setattr(torch, "set_num_threads", threads.append)  # recorded, not set: this process keeps its own
    envs = spy(monkeypatch, ppo_atari, "make_envs")
    train(ppo_atari, tmp_path, monkeypatch, name="a", torch_threads=3, num_threads=2)
    assert threads == [3] and [c["num_threads"] for c in envs] == [2]
    threads.clear()
    train(ppo_atari, tmp_path, monkeypatch, name="b", torch_threads=0, num_threads=0)
    assert threads == [] and envs[-1]["num_threads"] == 0


FLAG_TESTS = {  # each script's flags, and the test above that shows each reaching the code
    "gamma": "passed", "gae_lambda": "passed", "loss": "passed", "clip_coef": "passed", "kl_beta": "passed",
    "clip_vloss": "passed", "kl_adaptive_target": "passed", "max_kl": "passed", "cg_iters": "passed",
    "cg_damping": "passed", "backtrack_coef": "passed", "backtrack_iters": "passed",
    "update_epochs": "updates", "num_minibatches": "updates", "target_kl": "updates", "norm_adv": "norm_adv",
    "norm_adv_batch": "norm_adv_batch", "learning_rate": "schedule", "anneal_lr": "schedule",
    "anneal_clip": "anneal_clip", "num_envs": "shapes", "num_steps": "shapes", "total_timesteps": "shapes",
    "ent_coef": "coefficients", "vf_coef": "critic", "max_grad_norm": "coefficients",
    "vf_learning_rate": "critic", "vf_epochs": "trpo_value_fit", "vf_num_minibatches": "trpo_value_fit",
    "init_logstd": "init_logstd", "seed": "seed", "scale_reward": "rewards",
    "bootstrap_truncation": "bootstrap_truncation",
    "torch_threads": "atari_threads", "num_threads": "atari_threads",
}  # fmt: skip


@pytest.mark.parametrize("module", PPO + [trpo_continuous], ids=lambda m: m.__name__)
def test_every_flag_has_a_test_that_it_reaches_the_code(module):
    flags = set(module.Args.__dataclass_fields__)
    assert flags - ELSEWHERE - set(FLAG_TESTS) == set(), "a flag without a test above"

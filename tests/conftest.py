"""Helpers the test files share, and the rule that under REQUIRE_ALL_TESTS=1 (.ci/run sets it) no test skips."""

import os
import re

import gymnasium as gym
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator


def fail_a_skip(report):
    """REQUIRE_ALL_TESTS=1: a skip (a test's, or a whole file's at collection) becomes a failure that gives the
    skip's reason, unless the reason holds the text ALLOW_SKIP names (.ci/run sets it when CleanRL's scripts cannot
    be fetched); elsewhere (a laptop without Slurm, say) the skip stays, and `pytest -rs` prints its reason.
    An expected failure (xfail) is not a skip."""
    if report.skipped and os.environ.get("REQUIRE_ALL_TESTS") == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        if os.environ.get("ALLOW_SKIP") and os.environ["ALLOW_SKIP"] in reason:
            return
        report.outcome = "failed"
        report.longrepr = f"skipped, and REQUIRE_ALL_TESTS=1 lets no test skip: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    fail_a_skip((yield).get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    fail_a_skip((yield).get_result())


def pytest_collection_modifyitems(items):
    """pytest-xdist (pytest.ini runs the tests on every core): the tests that start a Slurm cluster, each given
    every core of the machine, run one after another, on one worker (--dist loadgroup)."""
    for item in items:
        if "slurm_cluster" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("slurm"))


def write_checkpoint(module, path, agent, env_id, **extra):
    """A checkpoint as `module` writes one, with the given agent's weights and no training state."""
    import dataclasses

    import torch

    args = dataclasses.asdict(module.Args(env_id=env_id))
    import run_management

    state = dict(script=os.path.basename(module.__file__), format=run_management.CHECKPOINT_FORMAT, env_id=env_id, args=args, training=None)
    torch.save(dict(state, model=agent.state_dict(), **extra), str(path))


def after_resumes(log_text):
    """A sweep run's log.txt cut at each attempt that resumed (the command lines holding --resume; a stopped run's
    own "continue with ... --resume" line is not an attempt): [text before the first, text after each]."""
    return re.split(r"^(?!stopped at step )[^\n]*--resume[^\n]*$", log_text, flags=re.M)


def only_run(tmp_path, name):
    """The one run directory under tmp_path/runs whose name contains `name`."""
    runs = list((tmp_path / "runs").glob(f"*{name}*"))
    assert len(runs) == 1, runs
    return runs[0]


def read_scalars(run_dir):
    """Every scalar tag of a run's tensorboard events: {tag: [values in step order]}."""
    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return {tag: [e.value for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def count_env(terminate, observation_space, action_space, obs):
    """A toy task for checking the rollout: the observation is obs(step count), the reward 1, and every
    episode ends after 5 steps, by termination (terminate=True) or by the time limit."""
    import gymnasium as gym

    class CountEnv(gym.Env):
        def __init__(self):
            self.observation_space, self.action_space = observation_space, action_space

        def reset(self, seed=None, options=None):
            super().reset(seed=seed)
            self.t = 0
            return obs(0), {}

        def step(self, action):
            self.t += 1
            return obs(self.t), 1.0, terminate and self.t == 5, False, {}

    return gym.wrappers.TimeLimit(CountEnv(), 100 if terminate else 5)


def record_gae_inputs(module, monkeypatch, probe):
    """Wraps the script's Agent and compute_gae: returns a list that fills, per iteration, with the
    arrays passed to compute_gae and v, the agent's values of the observations `probe` at that moment."""
    import torch

    agents, calls = [], []

    class RecordedAgent(module.Agent):
        def __init__(self, *shape):
            super().__init__(*shape)
            agents.append(self)

    real_gae = module.compute_gae

    def recording_gae(rewards, values, next_values, terminations, dones, gamma, gae_lambda):
        with torch.no_grad():
            calls.append(dict(rewards=rewards.copy(), values=values.copy(), next_values=next_values.copy(),
                              terminations=terminations.copy(), dones=dones.copy(), v=agents[0].get_value(probe).numpy()))  # fmt: skip
            return real_gae(rewards, values, next_values, terminations, dones, gamma, gae_lambda)

    monkeypatch.setattr(module, "Agent", RecordedAgent)
    monkeypatch.setattr(module, "compute_gae", recording_gae)
    return calls



class WithLives(gym.Wrapper):
    """Adds the one info ppo_atari.py reads from ale-py's vector env to a toy env (a game without lives
    reports 0), so that a gymnasium vector env of toys can stand in for it."""

    def reset(self, **kwargs):
        obs, info = self.env.reset(**kwargs)
        return obs, {**info, "lives": 0}

    def step(self, action):
        *result, info = self.env.step(action)
        return *result, {**info, "lives": 0}

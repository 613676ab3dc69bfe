"""--resume continues a stopped run exactly: the saved state reloads bit for bit, and on a toy env whose
episodes end at iteration boundaries and whose resets are deterministic, a run stopped in its third
iteration and resumed ends with the same weights, losses and learning rate as a run never stopped,
with each tensorboard step logged once."""

import os
import random
import time

import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import WithLives, count_env, only_run, read_scalars

import ppo_atari
import ppo_continuous
import ppo_discrete
import run_management
import trpo_continuous

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRAMES = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)


def toy_pixels(env_id, n, threads=0):
    """Pixel games of 16 steps with a fixed start, in place of ale-py's vector env."""
    frames = lambda t: np.full((4, 84, 84), 10 * t, np.uint8)  # noqa: E731
    env = lambda: WithLives(gym.wrappers.TimeLimit(count_env(False, FRAMES, gym.spaces.Discrete(3), frames).env, 16))  # noqa: E731
    return gym.vector.SyncVectorEnv([env] * n, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


CASES = {  # 2 envs x 16 steps an iteration; every episode lasts 16 steps, so each ends at a boundary
    ppo_continuous: dict(env_id="toy_envs:ToyFixedStart-v0", num_minibatches=2, update_epochs=2),
    trpo_continuous: dict(env_id="toy_envs:ToyFixedStart-v0", vf_epochs=2, vf_num_minibatches=2),
    ppo_discrete: dict(env_id="toy_envs:ToyFixedStartChoice-v0", num_minibatches=2, update_epochs=2),
    ppo_atari: dict(env_id="BreakoutNoFrameskip-v4", num_minibatches=2, update_epochs=1),
}
MODULES = list(CASES)


def args_for(module, **kw):
    return module.Args(**{**CASES[module], "num_envs": 2, "num_steps": 16, "total_timesteps": 4 * 32, "checkpoint_every": 2, **kw})


def stop_in_iteration_3(module, monkeypatch):
    """The run is killed (SIGTERM's exit) while it estimates its third iteration."""
    real, calls = module.compute_gae, []

    def gae(*args):
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit(143)
        return real(*args)

    monkeypatch.setattr(module, "compute_gae", gae)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_stopped_and_resumed_run_equals_one_never_stopped(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    if module is ppo_atari:
        monkeypatch.setattr(ppo_atari, "make_envs", toy_pixels)
    module.main(args_for(module, exp_name="whole"))
    with monkeypatch.context() as m:
        stop_in_iteration_3(module, m)
        with pytest.raises(SystemExit) as exc:
            module.main(args_for(module, exp_name="stopped"))
        assert exc.value.code == 143
    (path,) = (tmp_path / "runs").glob("*stopped*/stopped.pt")
    assert torch.load(path, weights_only=True)["training"]["iteration"] == 2  # the last finished iteration
    # tensorboard reads a run's event files in name order, and a name is <second>.<host>.<pid>.<writer count>:
    # within one second and one process, writer 10 would sort before writer 9. A resumed run is a new
    # process, seconds later; here, in one process, a new second keeps the files in the order written.
    time.sleep(1.0 - time.time() % 1.0 + 0.01)
    # the flags come from the checkpoint; a `module:` env id only runs its module when given, as here
    module.main(module.Args(resume=str(path), env_id=CASES[module]["env_id"]))

    whole, resumed = (torch.load(next((tmp_path / "runs").glob(f"*{n}*/{n}.pt")), weights_only=True) for n in ("whole", "stopped"))
    for name in whole["model"]:
        assert torch.equal(whole["model"][name], resumed["model"][name]), name
    assert whole["training"]["global_step"] == resumed["training"]["global_step"] == 128
    a, b = read_scalars(only_run(tmp_path, "whole")), read_scalars(only_run(tmp_path, "stopped"))
    tags = [t for t in a if t.startswith("losses/") or t in ("charts/learning_rate", "charts/episodic_return")]
    assert "losses/value_loss" in tags and ("charts/learning_rate" in tags or module is trpo_continuous)
    for tag in tags:
        assert a[tag] == b[tag], tag  # the same values at the same steps: nothing repeated, nothing missing
    steps = [e.step for e in _events(only_run(tmp_path, "stopped"), "charts/SPS")]
    assert steps == [32, 64, 96, 128]


def _events(run_dir, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(run_dir))
    acc.Reload()
    return acc.Scalars(tag)


@pytest.mark.parametrize("module", [ppo_continuous, ppo_discrete, trpo_continuous], ids=lambda m: m.__name__)
def test_the_saved_state_reloads_bit_for_bit(module, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    module.main(args_for(module, exp_name="s", total_timesteps=64, checkpoint_every=1))
    path = str(next((tmp_path / "runs").glob("*/s.pt")))
    state = torch.load(path, weights_only=True)
    rng = np.random.default_rng(0)
    run_management.set_rng_state(state["rng"], rng)
    draws = (random.random(), np.random.rand(), torch.rand(3), rng.standard_normal(3))
    again = run_management.rng_state(rng)  # the streams move on ...
    run_management.set_rng_state(state["rng"], rng)  # ... and are put back
    assert draws[0] == random.random() and draws[1] == np.random.rand()
    assert torch.equal(draws[2], torch.rand(3)) and np.array_equal(draws[3], rng.standard_normal(3))
    assert not torch.equal(again["torch"], state["rng"]["torch"])
    optimizer = state["optimizer"]
    assert optimizer["state"] and all(int(s["step"]) == 2 * 2 * 2 for s in optimizer["state"].values())


@pytest.mark.parametrize(
    "kw, message",
    [
        (dict(num_steps=32), "--num-steps 32: the run was started with 16, and --resume keeps it"),
        (dict(env_id="toy_envs:ToyReach-v0"), "--env-id toy_envs:ToyReach-v0: the run was started with toy_envs:ToyFixedStart-v0"),
        (dict(total_timesteps=128), "is at step 128, its --total-timesteps 128 done: pass a larger one to extend it"),
        (dict(total_timesteps=64), "is at step 128, its --total-timesteps 64 done: pass a larger one to extend it"),
        (dict(total_timesteps=8), "is at step 128, its --total-timesteps 8 done"),  # not 'lower --num-steps'
    ],
)
def test_resume_refuses_what_would_change_the_run(kw, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ppo_continuous.main(args_for(ppo_continuous, exp_name="r"))
    path = str(next((tmp_path / "runs").glob("*/r.pt")))
    files = lambda: sorted((str(p), p.stat().st_mtime_ns) for p in (tmp_path / "runs").rglob("*"))  # noqa: E731
    before = files()
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        ppo_continuous.main(ppo_continuous.Args(resume=path, **{"env_id": CASES[ppo_continuous]["env_id"], **kw}))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and message in err[0], err
    assert files() == before  # nothing written into the run


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_resume_refuses_an_older_versions_training_state_in_one_line(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    if module is ppo_atari:
        monkeypatch.setattr(ppo_atari, "make_envs", toy_pixels)
    module.main(args_for(module, exp_name="old", total_timesteps=64))
    path = next((tmp_path / "runs").glob("*/old.pt"))
    state = torch.load(path, weights_only=True)
    assert state.pop("format") == run_management.CHECKPOINT_FORMAT
    torch.save(state, path)  # as an older version wrote it
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(resume=str(path), total_timesteps=128))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "holds the training state of an older version" in err[0], err


def test_resume_extends_a_finished_run_and_refuses_other_scripts_checkpoints(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ppo_continuous.main(args_for(ppo_continuous, exp_name="x"))
    path = str(next((tmp_path / "runs").glob("*/x.pt")))
    env_id = CASES[ppo_continuous]["env_id"]
    ppo_continuous.main(ppo_continuous.Args(resume=path, env_id=env_id, total_timesteps=6 * 32))  # two more iterations
    out = capsys.readouterr().out
    assert "--total-timesteps 192 (the run had 128): the learning rate anneals over the new total, from 0.333 of " \
           "the base value at step 128 to 0" in out  # fmt: skip
    assert torch.load(path, weights_only=True)["training"]["global_step"] == 192
    assert [e.step for e in _events(only_run(tmp_path, "x__"), "charts/SPS")] == [32, 64, 96, 128, 160, 192]
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        trpo_continuous.main(trpo_continuous.Args(resume=path))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "was saved by ppo_continuous.py: resume it with `python ppo_continuous.py --resume" in err[0]


def test_a_flag_given_at_its_default_on_resume_is_refused_like_any_other(tmp_path):
    """The run was started with --num-steps 32; resuming it with --num-steps 128 (the default) is refused as
    --num-steps 64 is, instead of being replaced by 32 without a word; left off, the run's 32 is kept."""
    import subprocess
    import sys

    script = os.path.join(ROOT, "ppo_discrete.py")
    start = [sys.executable, script, "--num-steps", "32", "--total-timesteps", "128", "--exp-name", "r"]
    assert subprocess.run(start, cwd=tmp_path, capture_output=True, timeout=300).returncode == 0
    (path,) = (tmp_path / "runs").glob("*/r.pt")
    for value in ("128", "64"):
        proc = subprocess.run([sys.executable, script, "--resume", str(path), "--num-steps", value, "--total-timesteps", "256"],
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)  # fmt: skip
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1, lines
        assert f"--num-steps {value}: the run was started with 32, and --resume keeps it" in lines[0]
    proc = subprocess.run([sys.executable, script, "--resume", str(path), "--total-timesteps", "256"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert proc.returncode == 0 and torch.load(path, weights_only=True)["training"]["global_step"] == 256, proc.stderr

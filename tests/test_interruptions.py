"""A stopped run keeps what it had done: Ctrl-C and SIGTERM save the checkpoint and exit 130 / 143
without a traceback, a signal during the save cannot leave a half-written file, and a save that fails
removes its temporary file, still closes the envs and the writer, and ends in one line."""

import errno
import io
import re
import shlex
import os
import signal
import subprocess
import sys

import pytest
import torch

import ppo_atari
import ppo_continuous
import ppo_discrete
import run_management
import trpo_continuous

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = {  # a run of two iterations, a few seconds each
    ppo_continuous: dict(env_id="InvertedPendulum-v4", num_steps=64, num_minibatches=2, update_epochs=1, total_timesteps=128),
    ppo_discrete: dict(num_steps=16, num_minibatches=2, update_epochs=1, total_timesteps=128),
    trpo_continuous: dict(env_id="InvertedPendulum-v4", num_steps=64, total_timesteps=128, vf_epochs=1),
    ppo_atari: dict(num_envs=2, num_steps=16, num_minibatches=2, update_epochs=1, total_timesteps=64),
}
MODULES = list(TINY)


def checkpoint_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "runs").glob("*/*.pt*"))


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)], ids=["ctrl-c", "sigterm"])
def test_a_signal_during_training_saves_and_exits_quietly(sig, code, tmp_path):
    cmd = [sys.executable, "-u", os.path.join(ROOT, "ppo_discrete.py"), "--total-timesteps", "100000000", "--save-model", "--exp-name", "stop",
           "--capture-video"]  # a flag of this command alone, which --resume does not take from the checkpoint
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while "global_step=" not in proc.stdout.readline():  # training has begun
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code and "Traceback" not in err, err
    assert checkpoint_files(tmp_path) == ["stop.pt"]
    assert "model saved to" in out
    (line,) = [line for line in out.splitlines() if line.startswith("stopped at step ")]  # where, and how to go on
    step, command = re.fullmatch(r"stopped at step (\d+): continue with `(.*)`", line).groups()
    words = shlex.split(command)
    # the script as it was run, from where it was run (here: another directory)
    assert int(step) > 0 and words[0] == "python" and os.path.samefile(tmp_path / words[1], os.path.join(ROOT, "ppo_discrete.py"))
    assert words[2:-2] == cmd[3:] and words[-2] == "--resume", line  # with the flags given: --resume keeps --capture-video
    assert torch.load(tmp_path / words[-1], weights_only=False)["training"]["global_step"] == int(step)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_signal_during_the_save_waits_for_the_rename(module, tmp_path, monkeypatch):
    """The signal arrives while torch.save writes iteration 1's checkpoint: the write and the rename
    finish, and the run ends at iteration 2's first step (Ctrl-C: exit 130); a whole checkpoint of
    iteration 1 is left, and no temporary file."""
    monkeypatch.chdir(tmp_path)
    real_save = torch.save

    def save_interrupted(state, path):
        os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C, half-way through
        real_save(state, path)

    monkeypatch.setattr(torch, "save", save_interrupted)
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**TINY[module], checkpoint_every=1, exp_name="sig"))
    assert exc.value.code == 130
    (name,) = checkpoint_files(tmp_path)
    assert name == "sig.pt"
    monkeypatch.undo()
    path = next((tmp_path / "runs").glob("*/sig.pt"))
    state = torch.load(path, weights_only=True)  # whole, and readable
    assert state["script"] == os.path.basename(module.__file__) and state["training"]["iteration"] == 1


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_signal_ends_the_run_at_its_next_step_not_where_it_lands(module, tmp_path, monkeypatch):
    """SIGTERM lands inside a tensorboard call at the end of iteration 1. Exiting right there, inside the
    handler, could leave tensorboard's queue half-updated and hang writer.close() on the way out; the
    call finishes instead, and the run ends at iteration 2's first step, saves iteration 1, exits 143,
    and gives the signal handlers it replaced back."""
    monkeypatch.chdir(tmp_path)
    real_add, finished = run_management.SummaryWriter.add_scalar, []

    def add_scalar(self, tag, *args, **kwargs):
        if tag == "charts/SPS" and not finished:
            os.kill(os.getpid(), signal.SIGTERM)
            real_add(self, tag, *args, **kwargs)
            finished.append(tag)  # reached only if the signal did not end the run inside this call
        else:
            real_add(self, tag, *args, **kwargs)

    monkeypatch.setattr(run_management.SummaryWriter, "add_scalar", add_scalar)
    handlers = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    args = {**TINY[module], "total_timesteps": 10 * TINY[module]["total_timesteps"]}  # 20 iterations
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**args, save_model=True, exp_name="term"))
    assert exc.value.code == 143 and finished == ["charts/SPS"]
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == handlers
    state = torch.load(next((tmp_path / "runs").glob("*/term.pt")), weights_only=True)
    assert state["training"]["iteration"] == 1


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_failed_save_cleans_up_and_says_so(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    closed = []

    def full_disk(fd):  # the checkpoint's bytes are in the temporary file, and the disk refuses to keep them
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(run_management.os, "fsync", full_disk)
    real_close = run_management.SummaryWriter.close
    monkeypatch.setattr(run_management.SummaryWriter, "close", lambda self: closed.append("writer") or real_close(self))
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**TINY[module], save_model=True, exp_name="full"))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert "could not write the checkpoint" in err[0] and "No space left on device" in err[0] and "free disk space" in err[0]
    assert checkpoint_files(tmp_path) == [] and closed == ["writer"]


def test_an_evaluation_prints_its_result_before_a_write_that_fails(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    ppo_discrete.main(ppo_discrete.Args(**TINY[ppo_discrete], save_model=True, exp_name="ev"))
    (path,) = (tmp_path / "runs").glob("*/ev.pt")
    capsys.readouterr()

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(run_management, "SummaryWriter", read_only)
    with pytest.raises(SystemExit) as exc:
        ppo_discrete.main(ppo_discrete.Args(eval_checkpoint=str(path), eval_episodes=2))
    out, err = capsys.readouterr()
    assert exc.value.code == 2 and "Read-only file system" in err and "the result is above" in err
    assert "mean return" in out and len(out.split("episodes: ")[1].split(", ")) == 2


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_run_that_diverges_stops_in_one_line_and_keeps_finite_weights(module, tmp_path, monkeypatch, capsys):
    """Advantages turned to NaN in iteration 2: the run stops naming it, and the checkpoint written on the
    way out holds the weights of iteration 1 (finite), not the NaN ones."""
    monkeypatch.chdir(tmp_path)
    real_gae, calls, kept = module.compute_gae, [], []
    real_check = run_management.check_finite

    def gae_nan_in_iteration_2(*args):
        calls.append(1)
        advantages, returns = real_gae(*args)
        return (advantages * float("nan"), returns * float("nan")) if len(calls) == 2 else (advantages, returns)

    def recording_check(agent, *args):
        real_check(agent, *args)  # iteration 2 stops here
        kept.append({name: value.detach().clone() for name, value in agent.state_dict().items()})

    monkeypatch.setattr(module, "compute_gae", gae_nan_in_iteration_2)
    monkeypatch.setattr(run_management, "check_finite", recording_check)
    args = {**TINY[module], "total_timesteps": 3 * TINY[module]["total_timesteps"] // 2}  # 3 iterations
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**args, save_model=True, exp_name="nan"))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "training diverged at iteration 2" in err[0], err
    model = torch.load(next((tmp_path / "runs").glob("*/nan.pt")), weights_only=True)["model"]
    (after_iteration_1,) = kept  # the weights that passed the check in iteration 1
    assert all(torch.equal(model[name], after_iteration_1[name]) for name in model)
    assert all(bool(torch.isfinite(value).all()) for value in model.values())


def test_two_runs_started_in_the_same_second_get_their_own_directories(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    ticks = iter(range(10**6))
    monkeypatch.setattr(run_management.time, "time", lambda: 1_000_000.0 + next(ticks) * 1e-4)  # the same second for both
    for _ in range(2):
        ppo_discrete.main(ppo_discrete.Args(**TINY[ppo_discrete], exp_name="twin"))
    dirs = sorted(p.name for p in (tmp_path / "runs").iterdir())
    assert dirs == ["CartPole-v1__twin__1__1000000", "CartPole-v1__twin__1__1000000-2"]
    assert all(len(list((tmp_path / "runs" / d).glob("twin.pt"))) == 1 for d in dirs)


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_disk_that_fills_during_training_is_one_line(module, tmp_path, monkeypatch, capsys):
    """The log's writes fail with ENOSPC in the second iteration: one line naming the fix, and the
    checkpoint of the first iteration is written on the way out (here the disk has room for it)."""
    monkeypatch.chdir(tmp_path)
    real_add, calls = run_management.SummaryWriter.add_scalar, []

    def add_scalar(self, tag, *args, **kwargs):
        if tag == "charts/SPS":
            calls.append(1)
            if len(calls) == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_add(self, tag, *args, **kwargs)

    monkeypatch.setattr(run_management.SummaryWriter, "add_scalar", add_scalar)
    args = {**TINY[module], "total_timesteps": 3 * TINY[module]["total_timesteps"] // 2}
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**args, exp_name="full"))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert "the disk is full (No space left on device)" in err[0] and "--resume the run from its checkpoint" in err[0]
    assert torch.load(next((tmp_path / "runs").glob("*/full.pt")), weights_only=True)["training"]["iteration"] == 2


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_stopped_run_keeps_its_last_iteration_even_with_checkpoint_every_0(module, tmp_path, monkeypatch):
    """--checkpoint-every 0 writes no periodic checkpoint; a run stopped in iteration 2 still keeps iteration 1."""
    monkeypatch.chdir(tmp_path)
    real_gae, calls = module.compute_gae, []

    def gae(*args):
        calls.append(1)
        if len(calls) == 2:
            raise SystemExit(143)  # SIGTERM's exit, in iteration 2
        return real_gae(*args)

    monkeypatch.setattr(module, "compute_gae", gae)
    with pytest.raises(SystemExit):
        module.main(module.Args(**TINY[module], checkpoint_every=0, exp_name="zero"))
    assert torch.load(next((tmp_path / "runs").glob("*/zero.pt")), weights_only=True)["training"]["iteration"] == 1


def test_a_run_stopped_before_its_first_iteration_says_nothing_was_saved(tmp_path):
    cmd = [sys.executable, "-u", os.path.join(ROOT, "ppo_discrete.py"), "--num-steps", "100000", "--total-timesteps",
           "400000", "--exp-name", "early"]  # fmt: skip
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    while not list((tmp_path / "runs").glob("*/events*")):  # the log is open: signals now end the run at the loop
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 143 and err.strip() == "ppo_discrete.py: stopped before its first iteration finished: nothing was saved", err
    assert checkpoint_files(tmp_path) == []


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    marker = tmp_path / "began"
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "tests"), "TOY_SLOW_MARKER": str(marker)}
    cmd = [sys.executable, os.path.join(ROOT, "ppo_discrete.py"), "--env-id", "toy_envs:ToySlowStart-v0"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    while not marker.exists():  # the env is being made: start-up, before the loop
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip() == "ppo_discrete.py: stopped during start-up: nothing was saved", err


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_second_process_resuming_a_running_run_is_refused(module, tmp_path, monkeypatch, capsys):
    """While one process runs a run (here: holds its lock), a second --resume of it is one line and writes
    nothing; once the first has ended, the run resumes."""
    monkeypatch.chdir(tmp_path)
    module.main(module.Args(**TINY[module], save_model=True, exp_name="one"))
    (path,) = (tmp_path / "runs").glob("*/one.pt")
    files = lambda: sorted((p.name, p.stat().st_mtime_ns) for p in path.parent.iterdir() if p.name != ".lock")  # noqa: E731
    before = files()
    held = run_management.lock_run(str(path.parent))
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(resume=str(path), total_timesteps=2 * TINY[module]["total_timesteps"]))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "is in use by another process that runs it" in err[0], err
    assert files() == before
    held.release()
    module.main(module.Args(resume=str(path), total_timesteps=2 * TINY[module]["total_timesteps"]))
    assert torch.load(path, weights_only=True)["training"]["iteration"] == 4


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_full_disk_met_by_the_write_is_one_line_naming_the_disk(module, tmp_path, monkeypatch, capsys):
    """The checkpoint is serialised in memory and written by one plain write, so a full disk is the write's
    OSError (torch.save to a file would report it as a RuntimeError citing its C++ stream), said once."""
    monkeypatch.chdir(tmp_path)

    class FullDisk(io.BytesIO):
        def write(self, data):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(run_management, "open", lambda path, mode, **kw: FullDisk(), raising=False)
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**TINY[module], save_model=True, exp_name="rt"))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert "could not write the checkpoint" in err[0] and "(No space left on device): free disk space" in err[0]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_a_checkpoint_that_does_not_fit_the_network_is_one_line(module, tmp_path, monkeypatch, capsys):
    """Weights of the wrong shape (or missing) are refused in one line for --eval-checkpoint and --resume."""
    monkeypatch.chdir(tmp_path)
    module.main(module.Args(**TINY[module], save_model=True, exp_name="fit"))
    (path,) = (tmp_path / "runs").glob("*/fit.pt")
    state = torch.load(path, weights_only=True)
    name = next(iter(state["model"]))
    state["model"][name] = torch.zeros(3, 3, 3)
    torch.save(state, path)
    files = sorted(p.name for p in path.parent.iterdir())
    for kw, message in ((dict(eval_checkpoint=str(path), env_id=state["env_id"]), "does not fit this script's network"),
                        (dict(resume=str(path), total_timesteps=4 * TINY[module]["total_timesteps"]), "does not fit this run")):  # fmt: skip
        capsys.readouterr()
        with pytest.raises(SystemExit) as exc:
            module.main(module.Args(**kw))
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and message in err[0] and "torch.float32 tensor, where this run has a (" in err[0], err
        assert sorted(p.name for p in path.parent.iterdir()) == files  # the refusal wrote nothing into the run


@pytest.mark.parametrize("module", [ppo_continuous, trpo_continuous], ids=lambda m: m.__name__)
@pytest.mark.parametrize("what, iteration", [("Reward", 2), ("Observation", 2)])
def test_a_non_finite_env_output_is_named_as_the_cause(module, what, iteration, tmp_path, monkeypatch, capsys):
    """The env returns NaN at its 40th step (iteration 2 of 32-step iterations; the last step of an episode, so
    a NaN observation is the final one, in info): one line names the env, the step and what the checkpoint
    keeps (iteration 1), not a learning rate."""
    monkeypatch.chdir(tmp_path)
    kw = dict(num_minibatches=2) if module is ppo_continuous else dict(vf_num_minibatches=2)
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(env_id=f"toy_envs:ToyNan{what}-v0", num_steps=32, total_timesteps=128, exp_name="nan", **kw))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    assert f"the env returned a non-finite {what.lower()} (nan or inf) at its step 40" in err[0], err
    assert "the checkpoint keeps iteration 1" in err[0] and "learning rate" not in err[0]
    state = torch.load(next((tmp_path / "runs").glob("*/nan.pt")), weights_only=True)
    assert state["training"]["iteration"] == 1


@pytest.mark.parametrize("module", [ppo_continuous, ppo_discrete], ids=lambda m: m.__name__)
def test_a_minibatch_of_one_sample_is_refused_before_it_diverges(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**{**TINY[module], "num_minibatches": TINY[module]["num_steps"] * 4 if module is ppo_discrete
                                   else TINY[module]["num_steps"]}))  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "advantages normalised over 1 sample have no spread" in err[0], err


def test_an_env_whose_observations_change_shape_is_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        ppo_continuous.main(ppo_continuous.Args(env_id="toy_envs:ToyGrowing-v0", num_steps=32, num_minibatches=2,
                                                total_timesteps=128))  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "the env failed at its step 30 (ValueError" in err[0], err
    assert "check toy_envs:ToyGrowing-v0, e.g. that its observations keep one shape" in err[0]


def test_a_policy_for_other_spaces_is_refused_not_evaluated(tmp_path, monkeypatch, capsys):
    """A checkpoint that names the env but holds a policy for other observations (4 numbers, not 1) ends the
    evaluation in one line."""
    monkeypatch.chdir(tmp_path)
    ppo_continuous.main(ppo_continuous.Args(**TINY[ppo_continuous], save_model=True, exp_name="other"))
    (path,) = (tmp_path / "runs").glob("*/other.pt")
    state = torch.load(path, weights_only=True)
    state["env_id"] = "toy_envs:ToyReach-v0"
    torch.save(state, path)
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        ppo_continuous.main(ppo_continuous.Args(env_id="toy_envs:ToyReach-v0", eval_checkpoint=str(path), eval_episodes=1))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and "holds a policy whose spaces do not fit toy_envs:ToyReach-v0" in err[0], err

"""run_management.py's promises (its docstring): handed files cannot make a script import, execute or write
outside the run's directories; no stop loses work; --resume continues the envs' random streams; W&B resumes;
bad input is one line and exit code 2."""

import ast
import math
import os
import signal
import subprocess
import sys
import time
import warnings

import numpy as np
import pytest
import torch
from conftest import only_run, read_scalars

import ppo_atari
import ppo_continuous
import ppo_discrete
import run_management
import trpo_continuous

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ["ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py"]
TOY = dict(env_id="toy_envs:ToyChoice-v0", num_envs=1, num_steps=32, num_minibatches=2, update_epochs=1)


def one_line_exit_2(call, capsys):
    with pytest.raises(SystemExit) as exc:
        call()
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    return err[0]


def run(script, *flags, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, os.path.join(ROOT, script), *flags], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONPATH": os.path.join(ROOT, "tests"), **(env or {})})  # fmt: skip


def trained(tmp_path, monkeypatch, **kw):
    """A finished ppo_discrete run on ToyChoice-v0 (two iterations), and its checkpoint's path."""
    monkeypatch.chdir(tmp_path)
    ppo_discrete.main(ppo_discrete.Args(**{**TOY, "total_timesteps": 64, "save_model": True, "exp_name": "t", **kw}))
    return next((tmp_path / "runs").glob("*/t.pt"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_exits_0_and_lists_no_computed_size(script, tmp_path):
    proc = run(script, "--help", cwd=tmp_path)
    assert proc.returncode == 0 and "--total-timesteps" in proc.stdout and "Traceback" not in proc.stderr, proc.stderr
    assert "--batch-size" not in proc.stdout and "--num-iterations" not in proc.stdout
    assert "--resume" in proc.stdout and list(tmp_path.iterdir()) == []


def test_run_management_run_on_its_own_points_at_the_scripts(tmp_path):
    """The README lists it beside the scripts; `python run_management.py --help` names what to run instead."""
    proc = run("run_management.py", "--help", cwd=tmp_path)
    assert proc.returncode == 2 and proc.stdout == "" and list(tmp_path.iterdir()) == []
    assert proc.stderr.splitlines() == ["run_management.py: error: this module is imported by the scripts, not run: "
                                        "run one of them, e.g. `python ppo_continuous.py --help`"]


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_prints_each_flags_docstring_unbroken(script, tmp_path):
    """On a terminal wide enough, each field's docstring (read from the source with ast), its source lines joined,
    is on one line of --help: a docstring wrapped in the source is not cut again at each of its lines."""
    tree = ast.parse(open(os.path.join(ROOT, script)).read())
    body = next(node for node in tree.body if isinstance(node, ast.ClassDef) and node.name == "Args").body
    docs = [" ".join(b.value.value.split()) for a, b in zip(body, body[1:])
            if isinstance(a, ast.AnnAssign) and isinstance(b, ast.Expr) and isinstance(b.value.value, str)]  # fmt: skip
    lines = run(script, "--help", cwd=tmp_path, env={"COLUMNS": "1000"}).stdout.splitlines()
    assert len(docs) > 20 and [doc for doc in docs if not any(doc in line for line in lines)] == []


def test_a_module_env_id_in_a_handed_checkpoint_is_never_imported(tmp_path, monkeypatch, capsys):
    """The checkpoint names `payload:ToyChoice-v0`; resuming or evaluating it without that --env-id is refused in
    one line, and payload.py (beside the checkpoint, on sys.path) never runs."""
    path = trained(tmp_path, monkeypatch)
    (tmp_path / "payload.py").write_text("open('PWNED', 'w').write('x')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    state = torch.load(path, weights_only=True)
    state["env_id"] = state["args"]["env_id"] = "payload:ToyChoice-v0"
    torch.save(state, path)
    for kw in (dict(resume=str(path), total_timesteps=128), dict(eval_checkpoint=str(path))):
        monkeypatch.setattr(run_management, "GIVEN_FLAGS", set(kw))  # the command line: these flags only
        line = one_line_exit_2(lambda: ppo_discrete.main(ppo_discrete.Args(**kw)), capsys)
        assert "the checkpoint's env payload:ToyChoice-v0 needs its module 'payload' imported" in line
        assert "if you trust that module, pass --env-id payload:ToyChoice-v0" in line
    assert "payload" not in sys.modules and not (tmp_path / "PWNED").exists()


def test_a_handed_checkpoint_writes_only_into_its_own_directory(tmp_path, monkeypatch):
    """The stored run name points outside; the resumed run writes beside the checkpoint (moved, here), nowhere
    else."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["training"]["run_name"] = "../../outside"
    (tmp_path / "moved").mkdir()
    torch.save(state, tmp_path / "moved" / "t.pt")
    before = {p for p in tmp_path.parent.rglob("*") if "moved" not in p.parts}
    ppo_discrete.main(ppo_discrete.Args(resume=str(tmp_path / "moved" / "t.pt"), env_id=TOY["env_id"], total_timesteps=128))
    assert torch.load(tmp_path / "moved" / "t.pt", weights_only=True)["training"]["iteration"] == 4
    assert {p for p in tmp_path.parent.rglob("*") if "moved" not in p.parts} == before  # nothing new elsewhere
    assert list((tmp_path / "moved").glob("events.out.tfevents.*"))


def first_adam_state(state):
    return next(iter(state["optimizer"]["state"].values()))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s: s["args"].update(num_steps=32.0), "is damaged: its --num-steps 32.0 is not a whole number"),
        (lambda s: s["args"].update(loss="clip; rm -rf ~"), "is damaged: its --loss 'clip; rm -rf ~' is not one of"),
        (lambda s: s["args"].update(exp_name="../../x"), "--exp-name '../../x': a run's name is one directory name"),
        (lambda s: s["training"].update(iteration="2"), "does not fit this run"),
        (lambda s: s.update(script="/tmp/evil.py"), "is not a checkpoint written by ppo_discrete.py"),
        # an optimiser state of another shape would make the fused Adam kernel write out of bounds
        (lambda s: next(iter(s["optimizer"]["state"].values())).update(exp_avg=torch.zeros(3)), "the optimiser's exp_avg"),
        (lambda s: s["optimizer"]["param_groups"][0].update(betas=("a", "b")), "the optimiser's settings differ"),
        # a number out of its range would otherwise be blamed on training ("diverged") or train on silently
        (lambda s: first_adam_state(s)["exp_avg_sq"].fill_(-1.0), "the optimiser's exp_avg_sq is out of range"),
        (lambda s: first_adam_state(s)["exp_avg"].fill_(math.nan), "the optimiser's exp_avg is out of range"),
        (lambda s: first_adam_state(s)["step"].fill_(-3.0), "the optimiser's step is out of range"),
        (lambda s: s["optimizer"]["param_groups"][0].update(lr=math.nan), "the optimiser's step size is out of range (nan, inf, or below 0)"),
        (lambda s: s["optimizer"]["param_groups"][0].update(lr=-1e-3), "the optimiser's step size is out of range (nan, inf, or below 0)"),
        (lambda s: next(iter(s["model"].values())).fill_(math.inf), "its critic.layers.0.weight is out of range"),
        (lambda s: s["training"].update(kl_beta=math.nan), "its KL beta is out of range (nan, inf, or below 0)"),
        (lambda s: s["training"].update(kl_beta=-2.0), "its KL beta is out of range (nan, inf, or below 0)"),
        (lambda s: s["training"].update(kl_beta=-5), "does not fit this run (TypeError: its kl_beta is a int, not a float)"),
        (lambda s: s["training"].update(kl_beta=None), "(TypeError: its kl_beta is a NoneType, not a float)"),  # crashed in the loss
        (lambda s: s["training"].update(iteration=True), "(TypeError: its iteration is a bool, not a int)"),
        # a tensor of another dtype would be cast: an int's negative, a complex nan or a float64 beyond float32 slip by
        (lambda s: first_adam_state(s).update(exp_avg_sq=-first_adam_state(s)["exp_avg_sq"].long()), "exp_avg_sq is a"),
        (lambda s: first_adam_state(s).update(step=torch.tensor(-3)), "the optimiser's step is a () torch.int64 tensor"),
        (lambda s: s["model"].update({k: v.double() * 1e300 for k, v in s["model"].items()}), "torch.float64 tensor, wh"),
        (lambda s: s["model"].update({k: v * (1 + 0j) for k, v in s["model"].items()}), "torch.complex64 tensor, where"),
        (lambda s: s.update(recent_returns=["123"]), "too many dimensions 'str'"),
        (lambda s: s.update(recent_returns=[[1.0]]), "its recent returns is a (1, 1) torch.float64 tensor, where"),
        (lambda s: s.update(recent_returns=[math.nan]), "its recent returns is out of range (nan, inf)"),
        (lambda s: s.update(recent_returns=[1.0] * 1000), "its recent returns are not a list of 10 numbers or fewer"),
        (lambda s: s.update(recent_returns=torch.zeros(1).expand(10**9)), "are not a list of 10 numbers"),  # 8 GB
        (lambda s: s["rng"].update(numpy=(s["rng"]["numpy"][0], 10**9, 0, 0.0)), "numpy's random state is out of"),
        (lambda s: s.update(training=[1]), "does not fit this run"),
        (lambda s: s["training"].pop("iteration"), "does not fit this run"),
        (lambda s: s["training"].update(iteration=-5), "iteration -5 at step 64"),
        (lambda s: s["training"].update(global_step=2**70), "at step 1180591620717411303424"),
        (lambda s: s["training"].update(wandb_id=True), "(TypeError: expected string or bytes-like object, got 'bool')"),
        (lambda s: s["training"].update(wandb_id=12345), "(TypeError: expected string or bytes-like object, got 'int')"),
        (lambda s: s["training"].update(wandb_id="../x"), "does not fit this run (ValueError: a W&B run id of other"),
        (lambda s: s["args"].update(seed=True), "is damaged: its --seed True is not a whole number"),
        (lambda s: s["args"].update(num_steps=True), "is damaged: its --num-steps True is not a whole number"),
        # a value of the right type out of its range is the checkpoint's, not a flag the user gave
        (lambda s: s["args"].update(gamma=5.0), "t.pt' holds it: damaged): must be in (0, 1]"),
        # braces in the value are data, not a format string (KeyError: "'a'"); a float past float64 is no number
        (lambda s: s["args"].update(loss="{'a'} {0}"), "is damaged: its --loss \"{'a'} {0}\" is not one of"),
        (lambda s: s["args"].update(clip_coef={"a": 1}), "is not a checkpoint written by ppo_discrete.py"),  # one value
        (lambda s: s["args"].update(clip_coef=10**400), "is damaged: its --clip-coef 1000000"),
        # a tensor where a number or a dict goes: no "Boolean value of Tensor" traceback, no torch warning first
        (lambda s: s.update(format=torch.zeros(2)), "holds the training state of an older version of ppo_discrete.py"),
        (lambda s: s.update(training=torch.zeros(2)), "does not fit this run (TypeCheckError: torch.Tensor is not a dict)"),
        (lambda s: s.update(model=torch.zeros(2)), "does not fit this run (IndexError: too many indices"),
        (lambda s: s["rng"]["rollout"].update(state=torch.zeros(2)), "does not fit this run (IndexError: too many"),
        (lambda s: s["env_rng"][0].update(state=torch.zeros(2)), "does not fit this run (IndexError: too many"),
        # equal but of another type: the fused kernel refused amsgrad=0 at the first step, with a traceback
        (lambda s: s["optimizer"]["param_groups"][0].update(amsgrad=0), "the optimiser's settings differ"),
        (lambda s: s["optimizer"]["param_groups"][0].update(maximize=torch.tensor(False)), "the optimiser's settings d"),
        # a weight's lost optimiser state would restart Adam's moments for it without a word
        (lambda s: s["optimizer"]["state"].pop(3), "the optimiser's state of weight 3 holds []"),
        (lambda s: s["optimizer"].update(state={}), "the optimiser's state of weight 0 holds []"),
        (lambda s: s["optimizer"]["state"].update({99: first_adam_state(s)}), "(IndexError: list index out of range)"),
    ],
)
def test_a_damaged_checkpoint_is_one_line(change, message, tmp_path, monkeypatch, capsys):
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)
    line = one_line_exit_2(
        lambda: ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128)), capsys
    )
    assert message in line, line


def test_a_flag_stored_as_a_deeply_nested_list_is_one_line(tmp_path, monkeypatch, capsys):
    """A flag is one number or string: a list nested 1500 deep raised RecursionError as its message was made."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    deep = 1
    for _ in range(1500):
        deep = [deep]
    state["args"]["num_envs"] = deep
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(20000)  # pickling it needs a deeper stack than the default
    try:
        torch.save(state, path)
    finally:
        sys.setrecursionlimit(limit)
    resume = lambda: ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128))  # noqa: E731
    assert "is not a checkpoint written by ppo_discrete.py: pass one that is" in one_line_exit_2(resume, capsys)


def test_adam_state_stored_as_views_resumes_into_tensors_of_its_own(tmp_path, monkeypatch):
    """A moment stored as a stride-0 view of one number (its fused kernel wrote past that number's memory: a
    segfault), and one step tensor shared by every weight (each update would count it again)."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    shared = torch.tensor(2.0)
    for moments in state["optimizer"]["state"].values():
        moments.update(step=shared, exp_avg=torch.zeros(1).expand(*moments["exp_avg"].shape))
    torch.save(state, path)
    ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128))
    saved = torch.load(path, weights_only=True)["optimizer"]["state"]
    assert saved[0]["exp_avg"].is_contiguous() and [float(m["step"]) for m in saved.values()] == [6.0] * len(saved)


@pytest.mark.parametrize("name", ["run{0}{x}", "x{}y{fix}"])
def test_a_damaged_checkpoint_in_a_directory_with_braces_in_its_name_is_one_line(name, tmp_path, monkeypatch, capsys):
    """The path is data: neither read as a format string (KeyError) nor given the cause where it holds {}."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["training"].update(iteration="2")
    (tmp_path / name).mkdir()
    torch.save(state, tmp_path / name / "t.pt")
    resume = lambda: ppo_discrete.main(ppo_discrete.Args(resume=f"{name}/t.pt", env_id=TOY["env_id"], total_timesteps=128))  # noqa: E731
    line = one_line_exit_2(resume, capsys)
    assert line.endswith(f"'{name}/t.pt' does not fit this run (TypeError: its iteration is a str, not a int): resume it with its own script"), line


def test_a_checkpoint_whose_float_flag_is_a_large_int_and_that_lacks_its_total_resumes(tmp_path, monkeypatch):
    """tyro gives a float flag a float; a checkpoint may hold an int (10**30 overflowed torch's scalars) or lack
    --total-timesteps (a KeyError when the schedule is extended): the run goes on, its flag a float."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["args"].update(clip_coef=10**30)
    del state["args"]["total_timesteps"]
    torch.save(state, path)
    ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128))
    state = torch.load(path, weights_only=True)
    assert state["training"]["iteration"] == 4 and type(state["args"]["clip_coef"]) is float


def test_failing_shows_the_blocks_warnings_after_it_and_drops_them_with_its_error(capsys):
    with pytest.warns(UserWarning, match="shown"):
        with run_management.failing(f"x ({run_management.CAUSE})"):
            warnings.warn("shown")
    with warnings.catch_warnings(record=True) as seen, pytest.raises(SystemExit):
        warnings.simplefilter("always")
        with run_management.failing(f"x ({run_management.CAUSE})"):
            warnings.warn("dropped")
            raise ValueError("v")
    assert not seen and capsys.readouterr().err.endswith(": error: x (ValueError: v)\n")


def test_a_policy_with_a_weight_that_is_not_finite_is_not_evaluated(tmp_path, monkeypatch, capsys):
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["model"]["actor.layers.2.bias"][0] = math.nan
    torch.save(state, path)
    line = one_line_exit_2(lambda: ppo_discrete.main(ppo_discrete.Args(eval_checkpoint=str(path), env_id=TOY["env_id"])), capsys)
    assert "does not fit this script's network (ValueError: its actor.layers.2.bias is out of range" in line, line


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan])
def test_a_weight_that_is_not_finite_is_divergence_though_the_losses_are_finite(bad, capsys):
    agent = torch.nn.Linear(3, 2)
    run_management.check_finite(agent, 3, "kept", torch.tensor(1.0), 2.0)  # all finite: passes
    with torch.no_grad():
        agent.bias[1] = bad
    line = one_line_exit_2(lambda: run_management.check_finite(agent, 3, "kept", torch.tensor(1.0), 2.0), capsys)
    assert line.endswith("error: training diverged at iteration 3 (a loss or a weight is not finite): try a smaller step size; kept")


def test_an_evaluation_whose_returns_are_not_finite_is_one_line_not_a_mean_of_nan(tmp_path, monkeypatch, capsys):
    path = trained(tmp_path, monkeypatch)
    monkeypatch.setattr(ppo_discrete, "evaluate", lambda *policy_and_flags: [1.0, math.nan])  # e.g. huge weights
    line = one_line_exit_2(lambda: ppo_discrete.main(ppo_discrete.Args(eval_checkpoint=str(path), env_id=TOY["env_id"])), capsys)
    assert f"'{path}' on {TOY['env_id']} gave returns that are not finite: check both" in line, line
    assert not list((tmp_path / "runs").glob("*-eval"))  # ended before its log was written


def test_a_run_in_a_directory_whose_name_is_not_utf8(tmp_path, monkeypatch, capsys):
    """tensorboard writes only to UTF-8 paths: a run resumed from inside a directory of another encoding goes on
    (the run's directory is the relative one given); a checkpoint in such a directory is one line that says so."""
    odd = tmp_path / os.fsdecode(b"d\xff")
    odd.mkdir()
    path = trained(odd, monkeypatch)
    ppo_discrete.main(ppo_discrete.Args(resume=str(path.relative_to(odd)), env_id=TOY["env_id"], total_timesteps=128))
    assert torch.load(path, weights_only=True)["training"]["iteration"] == 4
    (odd / "runs" / os.fsdecode(b"r\xfe")).mkdir()
    moved = os.path.join("runs", os.fsdecode(b"r\xfe"), "t.pt")
    path.rename(moved)
    kw = dict(resume=moved, env_id=TOY["env_id"], total_timesteps=192)
    line = one_line_exit_2(lambda: ppo_discrete.main(ppo_discrete.Args(**kw)), capsys)
    assert "cannot write runs/r\\udcfe (UnicodeEncodeError" in line and line.endswith("give it a UTF-8 name"), line


def test_a_checkpoint_whose_file_name_is_not_utf8_resumes_and_evaluates(tmp_path, monkeypatch):
    """Its name is among the hyperparameters logged and in the lines printed, to a strict UTF-8 stdout too."""
    path = trained(tmp_path, monkeypatch)
    odd = path.with_name(os.fsdecode(b"t\xff.pt"))
    path.rename(odd)
    env = {**os.environ, "PYTHONPATH": os.path.join(ROOT, "tests"), "PYTHONIOENCODING": "utf-8:strict"}
    for flags in (["--resume", str(odd.relative_to(tmp_path)), "--total-timesteps", "128"], ["--eval-checkpoint", str(odd)]):
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "ppo_discrete.py"), *flags, "--env-id", TOY["env_id"]],
                              cwd=tmp_path, capture_output=True, env=env, timeout=300)  # fmt: skip
        assert proc.returncode == 0 and os.fsencode(str(odd.name)) in proc.stdout, proc.stderr.decode(errors="replace")
    assert torch.load(odd, weights_only=True)["training"]["iteration"] == 4


def test_what_this_command_does_besides_training_is_never_the_checkpoints(tmp_path, monkeypatch):
    """A handed checkpoint that stored --track and a stranger's W&B entity: resumed without --track, no W&B."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["args"].update(track=True, wandb_entity="stranger", capture_video=True)
    torch.save(state, path)
    monkeypatch.setattr(run_management, "GIVEN_FLAGS", {"resume", "env_id", "total_timesteps"})
    ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128))
    assert not (tmp_path / "wandb").exists() and not (tmp_path / "videos").exists()


def test_a_handed_checkpoint_that_stored_eval_checkpoint_still_resumes(tmp_path, monkeypatch):
    """--eval-checkpoint is this command line's alone: a stored one neither evaluates nor refuses the resume."""
    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    state["args"].update(eval_checkpoint=str(path))
    torch.save(state, path)
    ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=128))
    assert torch.load(path, weights_only=True)["training"]["iteration"] == 4


@pytest.mark.parametrize("plant", ["symlink", "hard link", "fifo"])
def test_a_checkpoint_is_never_written_through_what_is_planted_at_its_temporary_name(plant, tmp_path):
    """A link at x.pt.tmp is not written through (the file it names keeps its bytes), nor does a pipe there block
    the save forever: what is there is unlinked and the checkpoint written."""
    (tmp_path / "victim").write_text("kept")
    {"symlink": lambda p: p.symlink_to(tmp_path / "victim"), "hard link": lambda p: p.hardlink_to(tmp_path / "victim"),
     "fifo": os.mkfifo}[plant](tmp_path / "t.pt.tmp")  # fmt: skip
    before = signal.signal(signal.SIGALRM, lambda *_: pytest.fail("the save blocked on what was planted"))
    signal.alarm(30)
    try:
        run_management.save_checkpoint(str(tmp_path / "t.pt"), {"a": 1})
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert (tmp_path / "victim").read_text() == "kept" and torch.load(tmp_path / "t.pt", weights_only=True) == {"a": 1}
    assert not os.path.lexists(tmp_path / "t.pt.tmp")


def test_a_signal_during_the_last_save_of_a_finished_run_offers_no_resume(tmp_path, monkeypatch, capsys):
    """A stop signal that arrives while the finished run writes its checkpoint: the run is complete, so no line
    offers to continue it."""
    save = run_management.save_checkpoint

    def save_then_signalled(path, state):
        if state["training"]["iteration"] == 2:  # the last of trained()'s two iterations
            os.kill(os.getpid(), signal.SIGTERM)
        save(path, state)

    monkeypatch.setattr(run_management, "save_checkpoint", save_then_signalled)
    path = trained(tmp_path, monkeypatch)
    out = capsys.readouterr().out
    assert "model saved to" in out and "continue with" not in out, out
    assert torch.load(path, weights_only=True)["training"]["iteration"] == 2


def test_a_signal_after_the_run_has_saved_never_says_nothing_was_saved(tmp_path, monkeypatch):
    """As a script, the module's start-up handler answers stop signals until the run takes them over; once the run
    has saved and ends, a late signal (the sweep's follow-up SIGTERM) ends the process without that false line."""
    before = signal.signal(signal.SIGTERM, run_management._stopped_during_start_up)
    try:
        trained(tmp_path, monkeypatch)
        assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL
    finally:
        signal.signal(signal.SIGTERM, before)


@pytest.mark.parametrize("path", ["", "runs"])
def test_an_empty_or_directory_checkpoint_path_is_one_line(path, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "runs").mkdir()
    for kw in (dict(resume=path), dict(eval_checkpoint=path)):
        line = one_line_exit_2(lambda: ppo_discrete.main(ppo_discrete.Args(**kw)), capsys)
        assert ("pass a checkpoint's path" if path == "" else "no checkpoint at 'runs'") in line, line
    assert list((tmp_path / "runs").iterdir()) == []


@pytest.mark.parametrize("flag", ["resume", "eval_checkpoint"])
def test_statistics_of_the_wrong_shape_are_refused_not_broadcast(flag, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    args = dict(env_id="toy_envs:ToyReach-v0", num_steps=32, num_minibatches=2, update_epochs=1, total_timesteps=64)
    ppo_continuous.main(ppo_continuous.Args(**args, save_model=True, exp_name="s"))
    path = next((tmp_path / "runs").glob("*/s.pt"))
    state = torch.load(path, weights_only=True)
    good = {k: v for k, v in state["obs_rms"].items()}
    kw = dict(resume=str(path), total_timesteps=128) if flag == "resume" else dict(eval_checkpoint=str(path))
    for bad, message in [(dict(mean=torch.zeros(3, dtype=torch.float64)), "its mean is a (3,) torch.float64 tensor, where this run has a (1,) torch.float64 tensor"),
                         (dict(count="x"), "its count is out of range"),
                         (dict(count=10**400), "OverflowError: int too large to convert to float"),
                         (dict(var=-torch.ones(1, dtype=torch.float64)), "its var is out of range")]:  # fmt: skip
        state["obs_rms"] = {**good, **bad}
        torch.save(state, path)
        line = one_line_exit_2(lambda: ppo_continuous.main(ppo_continuous.Args(env_id=args["env_id"], **kw)), capsys)
        assert message in line, line


def test_a_checkpoint_is_written_after_its_iterations_scalars(tmp_path, monkeypatch):
    """A SIGKILL right after a checkpoint loses no scalar: when the checkpoint of an iteration is written, that
    iteration's scalars are already in the events file."""
    monkeypatch.chdir(tmp_path)
    real_save, seen = run_management.save_checkpoint, []

    def save(path, state):
        steps = read_scalars(os.path.dirname(path)).get("charts/SPS", [])
        seen.append((state["training"]["iteration"], len(steps)))
        real_save(path, state)

    monkeypatch.setattr(run_management, "save_checkpoint", save)
    ppo_discrete.main(ppo_discrete.Args(**TOY, total_timesteps=96, checkpoint_every=1, exp_name="k"))
    assert seen == [(1, 1), (2, 2), (3, 3)]  # 1 and 2 at the next iteration's first step, 3 on the way out


def test_resume_continues_the_envs_random_streams(tmp_path, monkeypatch):
    """ToyReach's reset draws its start from the env's np_random: the resumed run's first episode starts where
    the saved stream goes on, not where --seed started the run."""
    import gymnasium as gym

    import toy_envs  # noqa: F401 (registers the toys)

    path = trained(tmp_path, monkeypatch)
    state = torch.load(path, weights_only=True)
    starts = []
    real_reset = run_management.Run.reset

    def reset(self, envs):
        result = real_reset(self, envs)
        starts.append(result[0].copy())
        return result

    monkeypatch.setattr(run_management.Run, "reset", reset)
    ppo_discrete.main(ppo_discrete.Args(resume=str(path), env_id=TOY["env_id"], total_timesteps=96))
    env = gym.make(TOY["env_id"].split(":")[1])
    seeded = env.reset(seed=1)[0]
    env.unwrapped.np_random.bit_generator.state = state["env_rng"][0]
    assert np.array_equal(starts[0][0], env.reset()[0]) and not np.array_equal(starts[0][0], seeded)


@pytest.mark.parametrize("sig, code", [(signal.SIGHUP, 129), (signal.SIGUSR1, 138)], ids=["sighup", "sigusr1"])
def test_a_closed_terminal_or_slurms_warning_saves_and_exits(sig, code, tmp_path):
    cmd = [sys.executable, "-u", os.path.join(ROOT, "ppo_discrete.py"), "--total-timesteps", "100000000", "--exp-name", "h"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while "global_step=" not in proc.stdout.readline():  # training has begun
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == code and "Traceback" not in err and "model saved to" in out, err
    assert torch.load(next((tmp_path / "runs").glob("*/h.pt")), weights_only=True)["training"]["iteration"] >= 1


def test_an_output_that_closes_saves_and_is_one_line(tmp_path):
    """`python ppo_discrete.py | head`: when head has read its lines, the run saves, says so in one line and exits 2."""
    cmd = [sys.executable, "-u", os.path.join(ROOT, "ppo_discrete.py"), "--total-timesteps", "100000000", "--exp-name", "p"]
    proc = subprocess.Popen(cmd, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while "global_step=" not in proc.stdout.readline():  # training has begun and printed
        assert proc.poll() is None, proc.stderr.read()
    proc.stdout.close()  # the reader ends, as head does
    err = proc.stderr.read().strip().splitlines()
    assert proc.wait(timeout=120) == 2 and len(err) == 1 and "output closed" in err[0], err
    assert torch.load(next((tmp_path / "runs").glob("*/p.pt")), weights_only=True)["training"]["iteration"] >= 1

def test_ctrl_c_during_the_imports_is_one_line(tmp_path):
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "ppo_continuous.py")], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # fmt: skip
    time.sleep(0.6)  # past run_management's first lines, inside torch's import (over a second here)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and err.strip() == "ppo_continuous.py: stopped during start-up: nothing was saved", err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "script, flags, message",
    [
        ("ppo_continuous.py", ["--env-id", "toy_envs:ToyResetRaises-v0"],
         "the env failed at its reset (OSError: the simulator's licence file is missing): check"),
        ("trpo_continuous.py", ["--env-id", "toy_envs:ToyResetShape-v0"],
         "reset returned an observation of shape (2,), where its observation space has (1,)"),
        ("ppo_discrete.py", ["--env-id", "toy_envs:ToyStartAtOne-v0"],
         "has a Discrete(2, start=1) action space; ppo_discrete.py acts in 0..1: wrap the env"),
        ("ppo_discrete.py", ["--env-id", "toy_envs:ToyRenderFails-v0", "--capture-video", "--num-steps", "64"],
         "(RuntimeError: GL context lost): check toy_envs:ToyRenderFails-v0"),
        ("ppo_continuous.py", ["--env-id", "toy_envs:ToyReach-v0", "--num-steps", "10000000000", "--total-timesteps",
                               "10000000000"],
         "out of memory for the rollout's storage: lower --num-steps or --num-envs"),
        ("ppo_discrete.py", ["--resume", "runs/x.pt", "--eval-checkpoint", "runs/x.pt"], "no checkpoint at 'runs/x.pt'"),
        ("ppo_atari.py", ["--env-id", "Cart\nPole-v1"], "unknown env id 'Cart\\nPole-v1'"),  # still one line
        ("ppo_discrete.py", ["--resume", "runs/a\rb.pt"], "no checkpoint at 'runs/a\\rb.pt'"),
    ],
    ids=["reset-raises", "reset-shape", "discrete-start", "render-fails", "memory", "resume-and-eval", "newline", "cr"],
)
def test_bad_envs_and_sizes_are_one_line(script, flags, message, tmp_path):
    proc = run(script, *flags, cwd=tmp_path)
    lines = [line for line in proc.stderr.strip().splitlines() if "Powered by" not in line and "A.L.E" not in line]
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], proc.stderr


def test_runs_being_a_file_is_named(tmp_path):
    (tmp_path / "runs").write_text("")
    proc = run("ppo_discrete.py", "--total-timesteps", "512", "--num-steps", "128", cwd=tmp_path)
    assert proc.returncode == 2 and "a file stands where a directory goes (is 'runs' or 'videos' a file?)" in proc.stderr


def test_an_evaluation_takes_the_checkpoints_env_and_two_get_two_directories(tmp_path, monkeypatch):
    path = trained(tmp_path, monkeypatch, env_id="CartPole-v1")  # a registered env (a module: one must be given)
    proc = run("ppo_discrete.py", "--eval-checkpoint", str(path), "--eval-episodes", "2", cwd=tmp_path)  # no --env-id
    assert proc.returncode == 0 and "mean return" in proc.stdout, proc.stderr
    for _ in range(2):  # two more: each its own directory, named after the run whose checkpoint it evaluates
        ppo_discrete.main(ppo_discrete.Args(env_id="CartPole-v1", eval_checkpoint=str(path), eval_episodes=1))
    evals = sorted(p.name for p in (tmp_path / "runs").glob("*-eval*"))
    assert evals == [f"{path.parent.name}-eval", f"{path.parent.name}-eval-2", f"{path.parent.name}-eval-3"], evals
    # the run line names the run's directory as the user gave it, relative or not
    proc = run("ppo_discrete.py", "--resume", os.path.relpath(path, tmp_path), "--total-timesteps", "1024", cwd=tmp_path)
    assert f"run {os.path.relpath(path.parent, tmp_path)}, resumed at step" in proc.stdout, proc.stdout + proc.stderr


def test_track_and_capture_video_offline_then_resume_continues_the_wandb_run(tmp_path):
    env = {"WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path), "HOME": str(tmp_path)}
    flags = ["--total-timesteps", "1024", "--num-steps", "128", "--track", "--capture-video"]
    proc = run("ppo_discrete.py", *flags, cwd=tmp_path, env=env)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr[-2000:]
    (path,) = (tmp_path / "runs").glob("*/ppo_discrete.pt")
    assert list((tmp_path / "wandb").glob("offline-run-*/files/media/videos/*.mp4"))  # the videos reached W&B
    wandb_id = torch.load(path, weights_only=True)["training"]["wandb_id"]
    proc = run("ppo_discrete.py", "--resume", str(path), "--total-timesteps", "1536", cwd=tmp_path, env=env)
    assert proc.returncode == 0 and torch.load(path, weights_only=True)["training"]["wandb_id"] == wandb_id  # kept
    proc = run("ppo_discrete.py", "--resume", str(path), "--total-timesteps", "2048", "--track", "--capture-video",
               cwd=tmp_path, env=env)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    (earlier,) = (tmp_path / "videos").glob("*-until-step-1536")  # the earlier parts' videos, kept
    assert list(earlier.glob("*.mp4")) and "resumed at step 1536" in proc.stdout
    ids = {p.name.rsplit("-", 1)[1] for p in (tmp_path / "wandb").glob("offline-run-*")}
    assert len(list((tmp_path / "wandb").glob("offline-run-*"))) == 2 and len(ids) == 1  # one W&B run, continued
    assert read_scalars(only_run(tmp_path, "CartPole"))["charts/SPS"]  # and the log goes on


@pytest.mark.parametrize("module", [ppo_continuous, ppo_atari, trpo_continuous], ids=lambda m: m.__name__)
def test_every_script_hands_its_own_part_to_run_management(module):
    """The names run_management.Run reads off a script exist, and its RULES name only its own flags."""
    for name in ("Args", "RULES", "MAY_CHANGE", "load_policy", "evaluate", "main"):
        assert hasattr(module, name), name
    assert hasattr(module, "check_env") != hasattr(module, "ACTION_SPACE")  # its own env check, or the shared one
    fields = set(module.Args.__dataclass_fields__)
    assert {flag for names in module.RULES.values() for flag in names} <= fields
    assert module.MAY_CHANGE <= fields

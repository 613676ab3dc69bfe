"""Bad input ends every script in one line on stderr that names the fix, and exit code 2; users' own
environments (gymnasium's module:EnvId form, tests/toy_envs.py) work."""

import dataclasses
import os
import subprocess
import sys
from typing import Optional

import pytest
from conftest import only_run, read_scalars

import ppo_atari
import run_management
import ppo_continuous
import ppo_discrete
import trpo_continuous

MLP = [ppo_continuous, ppo_discrete, trpo_continuous]
ALL = MLP + [ppo_atari]
PPO = [ppo_continuous, ppo_discrete, ppo_atari]
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_line_exit_2(module, kw, capsys):
    with pytest.raises(SystemExit) as exc:
        module.main(module.Args(**kw))
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1, err
    return err[0]


NUMBERS = [  # (flag, value, message): every script that has the flag must refuse the value
    ("num_envs", 0, "--num-envs 0: must be a whole number of at least 1"),
    ("num_steps", 0, "--num-steps 0: must be a whole number of at least 1"),
    ("update_epochs", 0, "--update-epochs 0: must be a whole number of at least 1"),
    ("num_minibatches", 0, "--num-minibatches 0: must be a whole number of at least 1"),
    ("eval_episodes", 0, "--eval-episodes 0: must be a whole number of at least 1"),
    ("total_timesteps", 0, "--total-timesteps 0: must be a whole number in [1, 2**40]"),
    # past 2**40 a batch as large would be an array numpy cannot make (ValueError: array is too big)
    ("total_timesteps", 2**40 + 1, "--total-timesteps 1099511627777: must be a whole number in [1, 2**40]"),
    ("cg_iters", 0, "--cg-iters 0: must be a whole number of at least 1"),
    ("backtrack_iters", 0, "--backtrack-iters 0: must be a whole number of at least 1"),
    ("vf_epochs", 0, "--vf-epochs 0: must be a whole number of at least 1"),
    ("vf_num_minibatches", 0, "--vf-num-minibatches 0: must be a whole number of at least 1"),
    ("learning_rate", float("nan"), "--learning-rate nan: must be a finite number of at most 3.4e38 in size"),
    ("learning_rate", 0.0, "--learning-rate 0.0: must be positive"),
    ("vf_learning_rate", float("inf"), "--vf-learning-rate inf: must be a finite number of at most 3.4e38 in size"),
    ("gamma", 1.5, "--gamma 1.5: must be in (0, 1]"),
    ("gamma", 0.0, "--gamma 0.0: must be in (0, 1]"),
    ("gae_lambda", -0.1, "--gae-lambda -0.1: must be in [0, 1]"),
    ("clip_coef", -0.2, "--clip-coef -0.2: must be positive"),
    ("clip_coef", 1e39, "--clip-coef 1e+39: must be a finite number of at most 3.4e38 in size"),  # torch.clamp's
    ("total_timesteps", 10**39, f"--total-timesteps {10**39}: must be a finite number of at most 3.4e38 in size"),
    ("target_kl", 0.0, "--target-kl 0.0: must be positive"),  # PPO's early stop
    ("max_kl", 0.0, "--max-kl 0.0: must be positive"),  # TRPO's trust region
    ("init_logstd", float("nan"), "--init-logstd nan: must be a finite number of at most 3.4e38 in size"),  # TRPO's initial log-std
    ("kl_adaptive_target", 0.0, "--kl-adaptive-target 0.0: must be positive"),
    ("kl_beta", -1.0, "--kl-beta -1.0: must be 0 or more"),
    ("max_grad_norm", float("nan"), "--max-grad-norm nan: must be a finite number of at most 3.4e38 in size"),
    ("ent_coef", -0.01, "--ent-coef -0.01: must be 0 or more"),
    ("backtrack_coef", 1.0, "--backtrack-coef 1.0: must be in (0, 1)"),
    ("cg_damping", -0.1, "--cg-damping -0.1: must be 0 or more"),
    ("vf_coef", -0.5, "--vf-coef -0.5: must be 0 or more"),
    ("num_threads", -1, "--num-threads -1: must be a whole number in [0, 1024]"),
    ("num_threads", 2**31, "--num-threads 2147483648: must be a whole number in [0, 1024]"),  # ale-py's TypeError
    ("torch_threads", -2, "--torch-threads -2: must be a whole number in [0, 1024]"),
    ("torch_threads", 2**31, "--torch-threads 2147483648: must be a whole number in [0, 1024]"),  # torch's overflow
    ("checkpoint_every", -1, "--checkpoint-every -1: must be 0 or more"),
    ("seed", -1, "--seed -1: must be a whole number in [0, 2**32)"),
    ("seed", 2**32, "--seed 4294967296: must be a whole number in [0, 2**32)"),
]


NUMBER_CASES = [(m, *case) for m in ALL for case in NUMBERS if case[0] in m.Args.__dataclass_fields__]  # the flags each script has


def test_every_numeric_flag_is_in_the_table():
    numeric = {f.name for m in ALL for f in dataclasses.fields(m.Args) if f.type in (int, float, "int", "float", Optional[float])}
    assert numeric - {flag for flag, _, _ in NUMBERS} == set()


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
def test_computed_sizes_are_not_flags(module):
    """batch_size, minibatch_size and num_iterations follow from other flags: main computes them, none is offered."""
    assert not {"batch_size", "minibatch_size", "num_iterations"} & set(module.Args.__dataclass_fields__)


@pytest.mark.parametrize("module, flag, value, message", NUMBER_CASES, ids=[f"{m.__name__}-{f}={v}" for m, f, v, _ in NUMBER_CASES])
def test_numbers_are_checked_before_any_env_is_made(module, flag, value, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert one_line_exit_2(module, {flag: value}, capsys) == f"{os.path.basename(module.__file__)}: error: {message}"
    assert not (tmp_path / "runs").exists()  # refused before anything was written


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
def test_env_module_that_fails_to_import(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(module, dict(env_id="toy_broken_envs:Toy-v0"), capsys)
    assert "importing 'toy_broken_envs' failed (RuntimeError: this module is broken on purpose)" in line
    assert "python -c 'import toy_broken_envs'" in line
    line = one_line_exit_2(module, dict(env_id="no_such_module_here:Toy-v0"), capsys)
    assert "(ModuleNotFoundError: No module named 'no_such_module_here')" in line


@pytest.mark.parametrize("module", MLP, ids=lambda m: m.__name__)
@pytest.mark.parametrize("env_id, fix", [("Hopper-v3", "use --env-id Hopper-v5"), ("Pusher-v4", "use --env-id Pusher-v5")])
def test_an_env_version_the_installed_packages_cannot_run(module, env_id, fix, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # Hopper-v3 needs mujoco-py, Pusher-v4 a mujoco below 3: point at the newest version
    line = one_line_exit_2(module, dict(env_id=env_id), capsys)
    assert line.startswith(f"{module.__name__}.py: error: {env_id} cannot be made with the installed packages (ImportError: ") and line.endswith(fix), line


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
def test_unknown_id_in_a_module_gets_close_matches(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(module, dict(env_id="toy_envs:ToyReech-v0"), capsys)
    assert "unknown env id 'toy_envs:ToyReech-v0'" in line and "did you mean ToyReach-v0" in line


SPACES = [  # (env, script): what the line must say
    ("ToyDict-v0", ppo_continuous, "needs a flat vector (a 1-D Box): wrap the env in gymnasium's FlattenObservation"),
    ("ToyDict-v0", ppo_discrete, "needs a flat vector (a 1-D Box)"),
    ("ToyDict-v0", trpo_continuous, "needs a flat vector (a 1-D Box)"),
    ("ToyImage-v0", ppo_discrete, "Box(0, 255, (3, 8, 8), uint8) observation space; ppo_discrete.py needs a flat vector"),
    ("ToyImage-v0", ppo_continuous, "or for Atari pixels use ppo_atari.py"),
    ("ToyMultiDiscrete-v0", ppo_continuous, "MultiDiscrete([2 3]) action space; ppo_continuous.py needs a Box one: no script here takes it"),
    ("ToyMultiDiscrete-v0", ppo_discrete, "ppo_discrete.py needs a Discrete one: no script here takes it"),
    ("ToyChoice-v0", ppo_continuous, "Discrete(2) action space; ppo_continuous.py needs a Box one: use ppo_discrete.py"),
    ("ToyChoice-v0", trpo_continuous, "needs a Box one: use ppo_discrete.py"),
    ("ToyReach-v0", ppo_discrete, "action space; ppo_discrete.py needs a Discrete one: use ppo_continuous.py or trpo_continuous.py"),
    ("ToyReach-v0", ppo_atari, "toy_envs:ToyReach-v0 is not an Atari game: pass --env-id e.g. BreakoutNoFrameskip-v4"),
    ("ToyScalarAction-v0", ppo_continuous, "Box(-1.0, 1.0, (), float32) action space; ppo_continuous.py needs a Box one: no script"),
    ("ToyEmptyAction-v0", trpo_continuous, "Box([], [], (0,), float32) action space; trpo_continuous.py needs a Box one: no"),
]


@pytest.mark.parametrize("env, module, message", SPACES, ids=[f"{e}-{m.__name__}" for e, m, _ in SPACES])
def test_spaces_a_script_cannot_handle(env, module, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert message in one_line_exit_2(module, dict(env_id=f"toy_envs:{env}"), capsys)


@pytest.mark.parametrize(
    "module, env, kw",
    [(ppo_continuous, "ToyReach-v0", dict(num_minibatches=4)), (trpo_continuous, "ToyReach-v0", {}), (ppo_discrete, "ToyChoice-v0", dict(total_timesteps=49152))],
    ids=lambda x: getattr(x, "__name__", str(x)),
)
def test_a_users_own_env_trains_and_evaluates(module, env, kw, tmp_path, monkeypatch):
    """module:EnvId imports the user's module; the policy learns to move to 0 and its checkpoint reloads."""
    monkeypatch.chdir(tmp_path)
    env_id = f"toy_envs:{env}"
    module.main(module.Args(env_id=env_id, num_steps=512, save_model=True, exp_name="toy", seed=1, **{"total_timesteps": 8192, **kw}))
    returns = read_scalars(only_run(tmp_path, "toy__"))["charts/episodic_return"]
    first, last = sum(returns[:10]) / 10, sum(returns[-10:]) / 10
    assert last > first + 3, (first, last)  # the first episodes score -28 to -40 here, the last -4 to -8
    run = only_run(tmp_path, "toy__")
    evaluated = module.main(module.Args(env_id=env_id, eval_checkpoint=str(run / "toy.pt"), eval_episodes=3, exp_name="toy"))
    assert len(evaluated) == 3 and min(evaluated) > first


def test_atari_takes_the_module_form_too(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    envs = ppo_atari.make_envs("ale_py:PongNoFrameskip-v4", 1)
    assert envs.single_action_space.n == 6 and envs.single_observation_space.shape == (4, 84, 84)


@pytest.mark.parametrize("module", MLP, ids=lambda m: m.__name__)
def test_capture_video_where_nothing_can_render(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    env = "ToyNoDisplayChoice-v0" if module is ppo_discrete else "ToyNoDisplay-v0"
    line = one_line_exit_2(module, dict(env_id=f"toy_envs:{env}", capture_video=True), capsys)
    assert "--capture-video: the env cannot render here (RuntimeError: an OpenGL platform library has not been loaded)" in line
    assert "MUJOCO_GL=egl" in line


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
def test_track_without_a_wandb_account(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for name in ("WANDB_API_KEY", "WANDB_MODE", "WANDB_DISABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.netrc, no saved login
    monkeypatch.setenv("WANDB_DIR", str(tmp_path))
    kw = dict(env_id="toy_envs:ToyChoice-v0" if module is ppo_discrete else "toy_envs:ToyReach-v0") if module is not ppo_atari else {}
    line = one_line_exit_2(module, dict(track=True, **kw), capsys)
    assert "--track: Weights & Biases failed" in line and "`wandb login`, or set WANDB_MODE=offline" in line
    assert not os.path.exists("runs") or os.listdir("runs") == []  # no run directory left behind, nor its lock


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
def test_a_runs_directory_that_cannot_be_written(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)

    def read_only(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(run_management, "SummaryWriter", read_only)
    kw = dict(env_id="toy_envs:ToyChoice-v0" if module is ppo_discrete else "toy_envs:ToyReach-v0") if module is not ppo_atari else {}
    line = one_line_exit_2(module, kw, capsys)
    assert "cannot write runs/" in line and "(Permission denied): run from a directory you can write to" in line


@pytest.mark.parametrize("module", ALL, ids=lambda m: m.__name__)
@pytest.mark.parametrize("name", ["../../escaped", "a/b", "/tmp/x", ".hidden", "x" * 101, ""])
def test_a_run_name_is_one_directory_under_runs(module, name, tmp_path, monkeypatch, capsys):
    """--exp-name names the run's directory under runs/ (and videos/): anything but one safe directory name is
    refused before anything is written, so no flag can place a run's files elsewhere."""
    work = tmp_path / "a" / "b" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    line = one_line_exit_2(module, dict(exp_name=name), capsys)
    assert f"--exp-name {name!r}: a run's name is one directory name" in line
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # nothing written anywhere


@pytest.mark.parametrize("module", MLP, ids=lambda m: m.__name__)
def test_an_env_id_with_an_empty_module(module, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    line = one_line_exit_2(module, dict(env_id=":CartPole-v1"), capsys)
    assert "--env-id :CartPole-v1: no module before ':': pass CartPole-v1" in line


@pytest.mark.parametrize(
    "script, flags, message",
    [
        ("ppo_continuous.py", ["--max-kl", "0.1"], "unknown flag '--max-kl' (did you mean --target-kl"),
        ("ppo_discrete.py", ["--seed", "abc"], "--seed 'abc': must be a whole number: see `python ppo_discrete.py --help`"),
        ("trpo_continuous.py", ["--num-minibatches", "4"], "unknown flag '--num-minibatches' (did you mean --vf-num-minibatches"),
        ("ppo_atari.py", ["--loss", "nope"], "--loss 'nope': must be one of clip, kl-adaptive, kl-fixed, none"),
        ("ppo_discrete.py", ["--learning-rate"], "--learning-rate needs a value"),
        ("ppo_discrete.py", ["--batch-size", "64"], "unknown flag '--batch-size'"),
        ("ppo_discrete.py", ["stray"], "unexpected argument 'stray'"),
        ("ppo_continuous.py", ["--no-anneal-lr=true"], "--no-anneal-lr 'true': must be a bare switch"),
        ("trpo_continuous.py", ["--capture-video=false"], "--capture-video 'false': must be a bare switch"),
    ],
)
def test_the_parsers_own_errors_are_one_line(script, flags, message, tmp_path):
    """A flag tyro refuses (a bad value, another script's flag) ends in one line naming the flag, exit 2."""
    proc = subprocess.run([sys.executable, os.path.join(ROOT, script), *flags], cwd=tmp_path, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith(("A.L.E", "[Powered"))]
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], lines
    assert list(tmp_path.iterdir()) == []


def test_an_evaluation_on_an_env_without_a_time_limit_ends(tmp_path, monkeypatch, capsys):
    """ToyEndlessChoice-v0 never ends an episode: each evaluation episode is cut at EVAL_MAX_STEPS steps, and
    a line says so."""
    monkeypatch.chdir(tmp_path)
    env_id = "toy_envs:ToyEndlessChoice-v0"
    ppo_discrete.main(ppo_discrete.Args(env_id=env_id, num_steps=16, num_minibatches=2, total_timesteps=64, save_model=True))
    (checkpoint,) = (tmp_path / "runs").glob("*/ppo_discrete.pt")
    capsys.readouterr()
    returns = ppo_discrete.main(ppo_discrete.Args(env_id=env_id, eval_checkpoint=str(checkpoint), eval_episodes=2))
    out = capsys.readouterr().out
    assert f"{env_id} has no time limit: each evaluation episode is cut at 10000 steps" in out
    assert len(returns) == 2 and run_management.EVAL_MAX_STEPS == 10_000

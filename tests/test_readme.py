"""What README.md shows a user, run as a user would: every command in its code blocks parses, the files it
links exist, and its checkpoint commands (train, stop, resume, evaluate, W&B with videos) run as subprocesses
from a scratch directory, shortened by --total-timesteps only."""

import os
import re
import shlex
import signal
import subprocess
import sys

import pytest
import tyro

import ppo_atari
import ppo_continuous
import ppo_discrete
import trpo_continuous

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODULES = {m.__name__ + ".py": m for m in (ppo_continuous, ppo_discrete, ppo_atari, trpo_continuous)}


def readme():
    with open(os.path.join(ROOT, "README.md")) as f:
        return f.read()


def commands():
    """Each `python ...` command in README.md's bash blocks: (environment words, script, flags)."""
    found = []
    for block in re.findall(r"```bash\n(.*?)```", readme(), re.S):
        for line in block.replace("\\\n", " ").splitlines():
            for part in line.split("#")[0].split("&&"):
                words = shlex.split(part.replace("<run_name>", "RUN"))
                env = [w for w in words if re.fullmatch(r"[A-Z_]+=\S*", w)]
                words = words[len(env) :]
                if words[:1] == ["python"] and words[1:2] != ["-m"]:
                    found.append((env, words[1], words[2:]))
    return found


@pytest.mark.parametrize("env, script, flags", commands(), ids=lambda c: c if isinstance(c, str) else None)
def test_every_command_in_the_readme_parses(env, script, flags, tmp_path):
    """Our scripts' flags parse as tyro reads them; a benchmark script answers --help."""
    if script in MODULES:
        tyro.cli(MODULES[script].Args, args=flags)  # a flag the script lacks, or a bad value, raises SystemExit
    else:
        proc = subprocess.run([sys.executable, os.path.join(ROOT, script), "--help"], cwd=tmp_path, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 0, proc.stderr


def test_every_file_the_readme_links_exists():
    for target in re.findall(r"\]\(([^)#\s]+)", readme()):
        if not target.startswith("http"):
            assert os.path.exists(os.path.join(ROOT, target)), target


def test_the_checkpoint_commands_run_as_shown(tmp_path):
    """Train (shortened), stop with Ctrl-C, resume, evaluate: the README's checkpoint block, in order."""
    shown = [c for c in commands() if c[1] == "ppo_continuous.py" and ("--resume" in c[2] or "--eval-checkpoint" in c[2])]
    train = ["--env-id", "Hopper-v4"]
    assert (["ppo_continuous.py", train]) in [[s, f] for _, s, f in commands()] and len(shown) == 2
    script = os.path.join(ROOT, "ppo_continuous.py")
    short = ["--total-timesteps", "6144", "--num-steps", "1024", "--num-minibatches", "16"]
    proc = subprocess.Popen([sys.executable, "-u", script, *train, *short], cwd=tmp_path, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    while "global_step=" not in proc.stdout.readline():
        assert proc.poll() is None, proc.stderr.read()
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130 and "model saved to" in out and "Traceback" not in err, err
    (run_dir,) = (tmp_path / "runs").iterdir()
    outputs = []
    for _, _, flags in shown:
        flags = [f.replace("RUN", run_dir.name) for f in flags] + (["--eval-episodes", "2"] if "--eval-checkpoint" in flags else [])
        done = subprocess.run([sys.executable, script, *flags], cwd=tmp_path, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append(done.stdout)
    assert "global_step=6144" in outputs[0] and "mean return" in outputs[1] and "over 2 episodes" in outputs[1]


def test_the_readme_shows_track_and_capture_video_as_tested():
    """tests/test_run_management.py runs this command (shortened) with WANDB_MODE=offline, and resumes it."""
    assert (["WANDB_MODE=offline"], "ppo_discrete.py", ["--track", "--capture-video"]) in commands()

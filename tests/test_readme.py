"""What the documentation shows a user, run as a user would: every command in the code blocks of README.md,
benchmark/README.md and the pages they lead to (docs/, benchmark/notes/) parses as the script it names reads its
flags, without training; every relative link and image in those pages leads to a file (and a heading) that
exists; and README.md's checkpoint commands (train, stop, resume, evaluate, W&B with videos) run as
subprocesses from a scratch directory, shortened by --total-timesteps only."""

import argparse
import glob
import importlib.util
import os
import re
import runpy
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
PAGES = glob.glob(os.path.join(ROOT, "docs", "*.md")) + glob.glob(os.path.join(ROOT, "benchmark", "notes", "*.md"))
DOCS = ["README.md", "benchmark/README.md", *sorted(os.path.relpath(p, ROOT) for p in PAGES)]
# CleanRL's scripts, which `python benchmark/baselines/fetch.py` writes (git-ignored): on a clone without them, a
# command that runs one, or an experiment that imports one, is checked for its shell words and its file only
FETCHED = {f"benchmark/baselines/cleanrl_{n}.py" for n in ("ppo_continuous_action", "ppo_atari", "atari_wrappers")}
FETCHED_NAMES = {os.path.basename(p) for p in FETCHED}
NEEDS_FETCHED = {"benchmark/experiments/lockstep.py", "benchmark/experiments/wrapper_stack.py"}
WRAPPER_STACK_SWITCHES = ("--life-reset", "--start", "--padding", "--max-on")  # wrapper_stack.py's own, with a value


def read(doc):
    with open(os.path.join(ROOT, doc)) as f:
        return f.read()


def readme():
    return read("README.md")


def shell_lines(block):
    """A bash block's commands, one a line: continuation lines joined, a `for V in A B; do CMD; done` loop written
    out once per value, comments dropped."""
    block = block.replace("\\\n", " ")
    for var, values, body in re.findall(r"^for (\w+) in (.*?); do\n(.*?)\ndone$", block, re.S | re.M):
        block = block.replace(f"for {var} in {values}; do\n{body}\ndone",
                              "\n".join(body.replace(f"${var}", value) for value in shlex.split(values)))  # fmt: skip
    return [line.split(" #")[0] for line in block.splitlines() if not line.lstrip().startswith("#")]


def commands(docs=("README.md",)):
    """Each `python ...` command in the docs' bash blocks: (environment words, script, flags)."""
    found = []
    for doc in docs:
        for block in re.findall(r"```bash\n(.*?)```", read(doc), re.S):
            for line in shell_lines(block):
                for part in line.split("&&"):
                    words = shlex.split(part.replace("<run_name>", "RUN").replace("<run>", "RUN"))
                    env = [w for w in words if re.fullmatch(r"[A-Z_]+=\S*", w)]
                    words = words[len(env) :]
                    if words[:1] in (["python"], ["python3"]) and words[1:2] != ["-m"]:
                        found.append((env, words[1], words[2:]))
                    elif words[:1] == ["bash"]:
                        found.append((env, words[1], None))
    return found


class Parsed(Exception):
    """Raised in place of running a benchmark script, once its argparse parser has accepted the flags."""

    def __init__(self, namespace):
        super().__init__()
        self.namespace = namespace


def parse_as_script(path, flags, monkeypatch):
    """Runs the script up to its parse_args, with these flags, and stops there: argparse's own check (an
    unknown flag, a bad value) ends in SystemExit. Returns the parsed namespace."""
    real = argparse.ArgumentParser.parse_args

    def parse_then_stop(self, args=None, namespace=None):
        raise Parsed(real(self, args, namespace))

    monkeypatch.setattr(argparse.ArgumentParser, "parse_args", parse_then_stop)
    monkeypatch.setattr(sys, "argv", [path, *flags])
    monkeypatch.syspath_prepend(os.path.dirname(path))  # as python puts the script's folder first
    with pytest.raises(Parsed) as parsed:
        runpy.run_path(path, run_name="__main__")
    return parsed.value.namespace


def check_training_flags(script, flags):
    """The flags a sweep passes after `--` to each run, parsed as the script it runs reads them."""
    if script in FETCHED_NAMES:
        return  # CleanRL's own script: run as it is, its flags its own
    if script == "wrapper_stack.py":  # its switches are taken off first; the rest are ppo_atari.py's
        flags = [f for f in flags if f != "--no-life-reset"]
        for switch in WRAPPER_STACK_SWITCHES:
            if switch in flags:
                del flags[flags.index(switch) : flags.index(switch) + 2]
    module = MODULES.get(script) or (ppo_atari if script in ("fire_at_start.py", "wrapper_stack.py") else None)
    assert module, f"sweep.py --script {script}: not one of the scripts sweep.py runs"
    tyro.cli(module.Args, args=flags)  # a flag the script lacks, or a bad value, raises SystemExit



def command_id(command):
    env, script, flags = command
    return " ".join([*env, script, *(flags or [])])[:150]


ALL_COMMANDS = commands(DOCS)


@pytest.mark.parametrize("env, script, flags", ALL_COMMANDS, ids=[command_id(c) for c in ALL_COMMANDS])
def test_every_command_in_the_docs_parses(env, script, flags, monkeypatch):
    """Our scripts' flags parse as tyro reads them; a benchmark script's as its argparse parser reads them, the
    script stopped there; sweep.py's flags after `--` as the script it runs reads them; a `bash` script exists."""
    path = os.path.join(ROOT, script)
    fetched = all(os.path.exists(os.path.join(ROOT, p)) for p in FETCHED)
    if script in FETCHED:  # written by benchmark/baselines/fetch.py; without it, the shell words parsed are all
        if os.path.exists(path):  # CleanRL's Args read with tyro as its script reads them, the script not run
            monkeypatch.syspath_prepend(os.path.dirname(path))  # its wrappers lie beside it
            spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
            module = importlib.util.module_from_spec(spec)
            monkeypatch.setitem(sys.modules, spec.name, module)  # where tyro looks for the Args' source
            spec.loader.exec_module(module)  # it trains only under `if __name__ == "__main__"`
            tyro.cli(module.Args, args=flags)
        return
    assert os.path.isfile(path), f"{script}: no such file"
    if flags is None or (script in NEEDS_FETCHED and not fetched):
        return  # a shell script, or an experiment that imports CleanRL's wrappers, absent here: the file exists
    if script in MODULES:
        tyro.cli(MODULES[script].Args, args=flags)  # a flag the script lacks, or a bad value, raises SystemExit
        return
    args = parse_as_script(path, flags, monkeypatch)
    if script == "benchmark/sweep.py" and "--" in flags:
        monkeypatch.syspath_prepend(os.path.join(ROOT, "benchmark"))
        import sweep

        preset = sweep.PRESETS.get(args.preset, {})
        runs = [args.script or preset["script"]] if "recipes" not in preset else {s for s, _ in preset["recipes"].values()}
        for run in runs:
            check_training_flags(run, flags[flags.index("--") + 1 :])


def anchors(doc):
    """GitHub's anchors of a Markdown file's headings: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"```.*?```", "", read(doc), flags=re.S)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in re.findall(r"^#+ (.*)$", text, re.M)}


@pytest.mark.parametrize("doc", DOCS)
def test_every_relative_link_in_the_docs_exists(doc):
    """Each link and image that is not a URL names a file that exists, relative to the page; a #heading after it
    (or alone, for the page itself) names a heading of that page."""
    text = re.sub(r"```.*?```", "", read(doc), flags=re.S)
    for link in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", link):
            continue
        target, _, anchor = link.partition("#")
        page = os.path.normpath(os.path.join(os.path.dirname(doc), target)) if target else doc
        assert os.path.exists(os.path.join(ROOT, page)), f"{doc}: {link}: no file {page}"
        if anchor:
            assert anchor in anchors(page), f"{doc}: {link}: no heading #{anchor} in {page}"


def test_the_readme_and_the_benchmark_readme_stay_short():
    """A new user reads them in two minutes; the investigations live in benchmark/notes/."""
    assert len(readme().splitlines()) <= 200 and len(read("benchmark/README.md").splitlines()) <= 250


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

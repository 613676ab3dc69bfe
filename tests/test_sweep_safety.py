"""Sweeps on a cluster that fails as clusters do: hostile paths and names cannot reach a shell, a failed squeue
is not read as finished tasks, a run is alive exactly while a process holds its lock (nothing of a live run is
touched, no checkpoint is deleted), and the result tools treat run directories as data."""

import json
import os
import re
import shlex
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest
from conftest import after_resumes

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "benchmark"))
import sweep  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SWEEP = os.path.join(ROOT, "benchmark", "sweep.py")
TINY = ["--", "--num-envs", "1", "--num-steps", "64", "--total-timesteps", "64"]


def fake(bin_dir, name, body):
    path = bin_dir / name
    path.write_text("#!/bin/bash\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def slurm_env(tmp_path, sbatch, squeue="exit 0"):
    """PATH with a fake sbatch and squeue first; FAKE_ARGS receives sbatch's arguments, one per line."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake(bin_dir, "sbatch", sbatch)
    fake(bin_dir, "squeue", squeue)
    return {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "FAKE_ARGS": str(tmp_path / "sbatch_args")}


# sbatch: records its arguments, then runs the batch script as each array task would, one after another
RUN_TASKS = """printf '%s\\n' "$@" > "$FAKE_ARGS"
script="${@: -1}"; last=$(printf '%s\\n' "$@" | sed -n 's/^--array=0-\\([0-9]*\\).*/\\1/p')
for i in $(seq 0 "$last"); do SLURM_ARRAY_TASK_ID=$i bash "$script" > /dev/null 2>&1; done
echo 4242
"""


def test_hostile_paths_and_names_never_reach_a_shell(tmp_path):
    """--runs-dir with a space and a command substitution: the tasks run in that very directory, and no
    command runs; the job name and options reach sbatch as arguments."""
    runs = tmp_path / "runs $(touch PWNED) x"
    env = slurm_env(tmp_path, RUN_TASKS)
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "Acrobot-v1", "--backend",
           "slurm", "--no-wait", "--runs-dir", str(runs), "--slurm-job-name", "a;touch PWNED2 `touch PWNED3`", *TINY]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert not list(tmp_path.rglob("PWNED*")), list(tmp_path.rglob("PWNED*"))
    variant = "num-envs_1_num-steps_64_total-timesteps_64"
    for env_id in ("CartPole-v1", "Acrobot-v1"):
        assert (runs / "ppo_discrete" / variant / env_id / "seed1" / "done").exists(), env_id
    args = (tmp_path / "sbatch_args").read_text().splitlines()
    assert "--job-name=a;touch PWNED2 `touch PWNED3`" in args and args[-1].endswith(".sbatch")


@pytest.mark.parametrize("option", ["--slurm-job-name", "--slurm-partition", "--runs-dir"])
def test_a_newline_for_sbatch_is_refused_in_one_line(option, tmp_path):
    env = slurm_env(tmp_path, "echo 1")
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--backend", "slurm",
           "--no-wait", option, "x\n#SBATCH --wrap=touch PWNED"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "a newline or control character cannot go to sbatch" in lines[0]
    assert not (tmp_path / "sbatch_args").exists() and not (tmp_path / "benchmark").exists()


def test_a_failing_squeue_is_a_failed_query_not_finished_tasks(tmp_path):
    env = slurm_env(tmp_path, "echo 77", squeue="echo 'slurm_load_jobs error: Socket timed out' >&2; exit 1")
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--backend", "slurm",
           "--poll", "0.01", "--runs-dir", str(tmp_path / "runs"), *TINY]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1 and "FAILED" not in proc.stdout, proc.stdout
    assert "squeue failed (slurm_load_jobs error: Socket timed out); 9 more tries" in proc.stdout
    assert f"stopped following: squeue failed {sweep.QUEUE_TRIES} times in a row; job array 77 goes on" in proc.stdout
    (run,) = (tmp_path / "runs").glob("ppo_discrete/*/CartPole-v1/seed1")
    assert not (run / "failed").exists() and (run / "run.json").exists()


def test_a_live_run_survives_its_killed_sweep_and_is_left_to_it(tmp_path):
    """The sweep and its task are SIGKILLed; the training script lives on, holding the lock it inherited. The
    same sweep started again leaves that run and its directory alone; once the script ends, the run resumes."""
    runs = tmp_path / "runs"
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir", str(runs),
           "--", "--num-steps", "64", "--total-timesteps", "100000000", "--checkpoint-every", "1"]  # fmt: skip
    first = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    run = runs / "ppo_discrete" / "num-steps_64_total-timesteps_100000000_checkpoint-every_1" / "CartPole-v1" / "seed1"
    deadline = time.time() + 120
    while not list(run.glob("runs/*/ppo_discrete.pt")):
        assert time.time() < deadline and first.poll() is None
        time.sleep(0.2)
    scripts = [pid for pid in processes() if cwd(pid) == str(run)]  # the training script
    tasks = [pid for pid in processes() if f"--run-task {run}" in cmdline(pid)]
    assert len(scripts) == 1 and len(tasks) == 1, (scripts, tasks)
    for pid in tasks + [first.pid]:
        os.kill(pid, signal.SIGKILL)  # the sweep and its task die; the script goes on
    first.wait()
    try:
        before = sorted(p.name for p in run.iterdir())
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120).stdout
        assert "1 in progress in another process, left to it" in out and "0 to run" in out, out
        assert sorted(p.name for p in run.iterdir()) == before and list(run.glob("runs/*/ppo_discrete.pt"))
    finally:
        for pid in scripts:
            os.kill(pid, signal.SIGTERM)
    for pid in scripts:
        while os.path.exists(f"/proc/{pid}") and "Z" not in open(f"/proc/{pid}/stat").read().split()[2]:
            time.sleep(0.1)
    assert not sweep.is_running(str(run))  # the lock went with the last process that held it


def processes():
    """This machine's live processes (pids), but this one."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if int(pid) != os.getpid() and open(f"/proc/{pid}/stat").read().split()[2] != "Z":
                found.append(int(pid))
        except OSError:
            pass
    return found


def cwd(pid):
    try:
        return os.readlink(f"/proc/{pid}/cwd")
    except OSError:
        return None


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:  # it has ended
        return ""


def test_an_unreadable_run_json_beside_a_checkpoint_loses_nothing(tmp_path):
    """An empty run.json (a write cut short) beside a resumable checkpoint: the sweep writes run.json again and
    resumes the checkpoint; the command in log.txt is one a shell takes back as it was."""
    runs = tmp_path / "runs"
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir", str(runs),
           "--workers", "1", "--", "--num-steps", "64", "--total-timesteps", "20480", "--checkpoint-every", "2"]  # fmt: skip
    log = runs / "ppo_discrete" / "num-steps_64_total-timesteps_20480_checkpoint-every_2" / "CartPole-v1" / "seed1" / "log.txt"
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while not (log.exists() and "global_step=2560 " in log.read_text()):
        assert time.time() < deadline and proc.poll() is None
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=120)
    (log.parent / "run.json").write_text("")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "0 already done, 1 to run" in out and (log.parent / "done").exists(), out
    assert "1 to run (local, 1 worker), 1 of them started before (each goes on from the checkpoint it left" in out, out
    step = int(re.search(r"seed1: goes on from its checkpoint at step (\d+)\n", out)[1])
    assert step >= 2560, out
    first, second = log.read_text().splitlines()[:2]
    assert shlex.split(first) == json.loads((log.parent / "run.json").read_text())["command"]
    import torch  # the machine each attempt ran on: a seed repeats to the digit only on the same kind

    assert second.startswith("# on ") and second.endswith(f"torch {torch.__version__} ({torch.backends.cpu.get_cpu_capability()})")
    assert log.read_text().count("\n# on ") == 2  # once per attempt
    assert len(after_resumes(log.read_text())) == 2 and not (log.parent / "previous").exists()


def test_a_run_whose_script_finished_after_its_task_died_is_done_not_run_again(tmp_path):
    """The checkpoint is of the last iteration, but `done` is missing and an earlier attempt's `failed` is there
    (its task was killed, the script went on to the end): the next sweep marks it done and trains nothing."""
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir",
           str(tmp_path / "r"), *TINY]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=300, check=True)
    (run,) = (tmp_path / "r").glob("ppo_discrete/*/CartPole-v1/seed1")
    (run / "done").rename(run / "failed")
    log = (run / "log.txt").read_text()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "finished: 1 done, 0 failed" in out and (run / "done").exists() and not (run / "failed").exists(), out
    assert (run / "log.txt").read_text() == log and not (run / "previous").exists()


def test_an_attempt_that_cannot_be_resumed_is_set_aside_not_deleted(tmp_path):
    path = tmp_path / "run"
    (path / "runs" / "old").mkdir(parents=True)
    (path / "runs" / "old" / "ppo_discrete.pt").write_bytes(b"not a checkpoint")
    (path / "failed").write_text("{}")
    assert sweep.last_checkpoint(str(path), "ppo_discrete.py") is None  # nothing to resume: the task sets it aside
    sweep.set_aside(str(path))
    (kept,) = (path / "previous").iterdir()
    assert (kept / "runs" / "old" / "ppo_discrete.pt").read_bytes() == b"not a checkpoint" and (kept / "failed").exists()
    assert sorted(p.name for p in path.iterdir()) == ["previous"]


def test_a_run_made_with_other_flags_is_set_aside_and_runs_again(tmp_path):
    """A done run whose run.json names other flags (a recipe edited since; its directory keeps the name `recipe`):
    everything it left moves to previous/ and it runs again with the flags it has now. The same flags written
    another way (reordered, one given twice) are the same run: it stays done."""
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir",
           str(tmp_path / "r"), *TINY]  # fmt: skip
    subprocess.run(cmd, capture_output=True, timeout=300, check=True)
    (run,) = (tmp_path / "r").glob("ppo_discrete/*/CartPole-v1/seed1")
    meta = json.loads((run / "run.json").read_text())
    same = dict(meta, flags=["--num-steps", "32"] + meta["flags"][2:] + meta["flags"][:2])  # 32 overridden; reordered
    (run / "run.json").write_text(json.dumps(same))
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "1 already done, 0 to run" in out and not (run / "previous").exists(), out
    other = dict(meta, flags=meta["flags"] + ["--gamma", "0.9"])
    (run / "run.json").write_text(json.dumps(other))
    log = (run / "log.txt").read_text()
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "ran before with other flags" in out and "0 already done, 1 to run" in out, out
    assert "finished: 1 done, 0 failed" in out and (run / "done").exists(), out
    (kept,) = (run / "previous").iterdir()
    assert json.loads((kept / "run.json").read_text()) == other and (kept / "log.txt").read_text() == log
    assert (kept / "done").exists() and list(kept.glob("runs/*/*.pt"))
    assert json.loads((run / "run.json").read_text())["flags"] == meta["flags"] and "--gamma" not in (run / "log.txt").read_text()


def test_a_run_json_that_is_a_pipe_is_not_read(tmp_path):
    os.mkfifo(tmp_path / "run.json")  # opened for reading, it would block until a writer came
    assert not sweep.ran_otherwise(str(tmp_path), {"script": "ppo_discrete.py", "flags": []})


@pytest.fixture(scope="module")
def finished_sweep(tmp_path_factory):
    """A tiny sweep's runs directory, its one run done."""
    runs = tmp_path_factory.mktemp("finished") / "r"
    subprocess.run([sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir",
                    str(runs), *TINY], capture_output=True, timeout=300, check=True)  # fmt: skip
    return runs


def link_runs_outside(run, outside):
    (run / "runs").rename(outside / "runs")
    (run / "runs").symlink_to(outside / "runs", target_is_directory=True)


@pytest.mark.parametrize(
    "plant, entry, says",
    [
        (lambda run, outside: (run / "previous").symlink_to(outside, target_is_directory=True), "previous", "is a symbolic link"),
        (link_runs_outside, "runs", "is a symbolic link"),
        (lambda run, outside: (run / ".lock").unlink() or (run / ".lock").symlink_to(outside / "lock"), ".lock", "is a symbolic link"),
        (lambda run, outside: (run / "run.json.tmp").symlink_to(outside / "victim"), "run.json.tmp", "is a symbolic link"),
        (lambda run, outside: (run / "previous").write_text("a file"), "previous", "is not a directory"),
        (lambda run, outside: (run / "failed").mkdir(), "failed", "is not a file"),
        (lambda run, outside: (run / "done.tmp").mkdir(), "done.tmp", "is not a file"),
        (lambda run, outside: shutil.move(run, outside / "seed1") and run.write_text("x"), "seed1", "is not a directory"),
    ],
    ids=["previous-link", "runs-link", "lock-link", "tmp-link", "previous-file", "failed-directory", "tmp-directory",
         "run-a-file"],
)
def test_a_link_or_a_misplaced_entry_in_a_handed_run_is_one_line_and_nothing_is_written(
    plant, entry, says, finished_sweep, tmp_path
):
    """A handed runs directory whose run (not done: the sweep would run it) holds a link (writing through it would
    leave --runs-dir) or one of the sweep's own names of the wrong kind (a traceback): one line naming it, exit
    code 2, and nothing changes, inside or outside."""
    runs, outside = tmp_path / "r", tmp_path / "outside"
    shutil.copytree(finished_sweep, runs, symlinks=True)
    outside.mkdir()
    (outside / "victim").write_text("kept")
    (run,) = runs.glob("ppo_discrete/*/CartPole-v1/seed1")
    (run / "done").unlink()
    plant(run, outside)
    before = {p: p.lstat().st_mtime_ns for p in tmp_path.rglob("*")}
    proc = subprocess.run([sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1",
                           "--runs-dir", str(runs), *TINY], capture_output=True, text=True, timeout=120)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and f"{entry} {says}" in lines[0], proc.stderr
    assert {p: p.lstat().st_mtime_ns for p in tmp_path.rglob("*")} == before and (outside / "victim").read_text() == "kept"


def test_the_links_w_and_b_makes_in_its_own_folder_are_not_refused(tmp_path):
    """A run with --track: W&B links wandb/latest-run, its logs and the events file; the sweep takes the run. A
    link in wandb's place is refused."""
    (tmp_path / "wandb" / "offline-run-1").mkdir(parents=True)
    (tmp_path / "wandb" / "latest-run").symlink_to("offline-run-1")
    (tmp_path / "wandb" / "offline-run-1" / "events").symlink_to(tmp_path / "runs")
    assert sweep.foreign_entry(str(tmp_path)) is None
    (tmp_path / "wandb").rename(tmp_path / "elsewhere")
    (tmp_path / "wandb").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert sweep.foreign_entry(str(tmp_path)) == f"{tmp_path / 'wandb'} is a symbolic link: a sweep writes only inside --runs-dir; remove the link"


def test_write_json_never_writes_through_a_link_planted_at_its_temporary_name(tmp_path):
    (tmp_path / "victim").write_text("kept")
    (tmp_path / "done.tmp").symlink_to(tmp_path / "victim")
    sweep.write_json(str(tmp_path / "done"), {"returncode": 0})
    assert (tmp_path / "victim").read_text() == "kept" and not (tmp_path / "done").is_symlink()
    assert json.loads((tmp_path / "done").read_text()) == {"returncode": 0} and not (tmp_path / "done.tmp").exists()


def test_two_sweeps_preparing_one_run_at_once_both_go_on(tmp_path):
    """Two sweeps started together on one runs directory prepare the same runs at the same moment: each run.json is
    written under the run's lock, so neither removes the other's temporary file (which ended one sweep)."""
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import sweep\n"
            "for i in range(1500):\n"
            "    sweep.prepare(sys.argv[2], dict(script='ppo_discrete.py', env_id='CartPole-v1', seed=1, flags=[],"
            " variant=sys.argv[3] + str(i)))\n")  # a run.json unlike the other's: each call writes it
    procs = [subprocess.Popen([sys.executable, "-c", code, os.path.join(ROOT, "benchmark"), str(tmp_path / "run"), tag],
                              stderr=subprocess.PIPE, text=True) for tag in "ab"]  # fmt: skip
    errors = [proc.communicate(timeout=300)[1] for proc in procs]
    assert [proc.returncode for proc in procs] == [0, 0], errors
    assert json.loads((tmp_path / "run" / "run.json").read_text())["seed"] == 1


def test_a_link_planted_at_the_lock_after_the_sweep_looked_is_one_line_not_a_traceback(tmp_path):
    """A run's task (what a local worker or a Slurm array task runs) finds a link at .lock: not followed, not run."""
    path = tmp_path / "run"
    sweep.prepare(str(path), {"script": "ppo_discrete.py", "env_id": "CartPole-v1", "seed": 1, "flags": []})
    (path / ".lock").unlink(missing_ok=True)
    (path / ".lock").symlink_to(tmp_path / "elsewhere")
    proc = subprocess.run([sys.executable, SWEEP, "--run-task", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and proc.stdout.strip().endswith("not run; remove what stands there"), proc
    assert "Traceback" not in proc.stderr and not (tmp_path / "elsewhere").exists() and not (path / "log.txt").exists()


@pytest.mark.parametrize("flag", ["--tyro-write-completion", "--tyro_write_completion"])
def test_tyros_own_flags_after_dashes_are_refused_and_nothing_is_written(flag, tmp_path):
    """tyro's completion flags would have the sweep's check (and then every run) write a file where they say."""
    proc = subprocess.run([sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir",
                           str(tmp_path / "r"), "--", flag, "bash", str(tmp_path / "written")], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        f"sweep.py: error: {flag} after `--`: a flag of tyro's own, not a run's; leave it out"]
    assert not (tmp_path / "written").exists() and not (tmp_path / "r").exists() and not proc.stdout


def test_the_checks_import_only_the_projects_scripts_and_run_in_an_empty_folder(tmp_path, monkeypatch):
    """A user's own ppo_*.py is run by its runs, never imported into the sweep; an env id `module:Name` is left to
    the runs (its module is imported from the run's directory); the checks run where a run starts, in a new folder
    (./videos there is the run's, not the repository's)."""
    (tmp_path / "ppo_mine.py").write_text(f"open({str(tmp_path / 'imported')!r}, 'w')\n")
    monkeypatch.setattr(sweep, "ROOT", str(tmp_path))
    sweep.check_runs([dict(script="ppo_mine.py", env_id="CartPole-v1", seed=1, flags=["--x"], variant="x")], ["--x"])
    assert not (tmp_path / "imported").exists()
    monkeypatch.setattr(sweep, "ROOT", ROOT)
    sweep.check_runs([dict(script="ppo_discrete.py", env_id="nosuchmodule:Foo-v0", seed=1, flags=[], variant="default")],
                     [])  # fmt: skip
    seen = []
    sweep.said_as("x", lambda: seen.append((os.getcwd(), os.listdir("."))))
    assert seen[0][1] == [] and seen[0][0] != ROOT and not os.path.exists(seen[0][0])


@pytest.mark.parametrize("plant", ["torn", "empty", "directory", "pipe", "link at the run", "link at previous",
                                   "a program", "a tyro flag", "huge"])
def test_a_run_task_that_finds_its_run_json_or_directory_changed_is_one_line_not_a_traceback(plant, tmp_path):
    """A Slurm task may start days after the sweep looked: what stands in its run directory then is checked again
    under the lock; nothing is followed, written or blocked on, and the task ends in one line with exit code 2."""
    path = tmp_path / "r" / "ppo_discrete" / "default" / "CartPole-v1" / "seed1"
    sweep.prepare(str(path), {"script": "ppo_discrete.py", "env_id": "CartPole-v1", "seed": 1, "flags": []})
    (path / ".lock").unlink()  # prepare's (it writes run.json under the lock): the task must not make one elsewhere
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    if plant in ("torn", "empty", "directory", "pipe"):
        (path / "run.json").unlink()
    if plant in ("torn", "empty"):
        (path / "run.json").write_text("{" if plant == "torn" else "{}")
    elif plant == "directory":
        (path / "run.json").mkdir()
    elif plant == "pipe":
        os.mkfifo(path / "run.json")
    elif plant == "link at the run":
        shutil.move(path, elsewhere / "seed1")
        path.symlink_to(elsewhere / "seed1")
    elif plant == "link at previous":
        (path / "previous").symlink_to(elsewhere)
    elif plant == "huge":  # read whole, it would fill memory
        os.truncate(path / "run.json", 8 << 30)
    else:  # run.json names a program, or flags that write where they say: never run, whatever run.json says
        wrote = str(elsewhere / "x")
        run = dict(script="sh", env_id="CartPole-v1", seed=1, flags=["-c", f"touch {wrote}"], command=["touch", wrote])
        run = run if plant == "a program" else {**run, "script": "ppo_discrete.py",
                                                "flags": ["--tyro-write-completion", "bash", wrote]}  # fmt: skip
        (path / "run.json").write_text(json.dumps(run))
    proc = subprocess.run([sys.executable, SWEEP, "--run-task", str(path)], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and len(proc.stdout.splitlines()) == 1 and not proc.stderr, proc
    assert "not run" in proc.stdout or "remove the link" in proc.stdout or "move it away" in proc.stdout
    assert sorted(os.listdir(elsewhere)) == (["seed1"] if plant == "link at the run" else [])
    assert not (elsewhere / "seed1" / ".lock").exists() and not (path / "log.txt").exists()


def test_a_runs_directory_named_with_glob_characters_resumes_its_own_checkpoint(tmp_path):
    """A [ in --runs-dir is part of a name, not a pattern: the run's checkpoint is found (not another directory's)."""
    import torch

    path, other = tmp_path / "r[1]" / "seed1", tmp_path / "r1" / "seed1"
    for where, iteration in ((path, 3), (other, 7)):
        (where / "runs" / "x").mkdir(parents=True)
        state = dict(args=dict(total_timesteps=100, num_envs=1, num_steps=10), training=dict(iteration=iteration, global_step=iteration * 10),
                     format=sweep.checkpoint_format("ppo_discrete.py"))  # fmt: skip
        torch.save(state, where / "runs" / "x" / "ppo_discrete.pt")
    assert sweep.newest_checkpoint(str(path), "ppo_discrete.py") == (str(path / "runs" / "x" / "ppo_discrete.pt"), False, 30)


def test_a_checkpoint_of_another_run_is_set_aside_not_resumed_nor_taken_for_the_end(tmp_path):
    """A finished checkpoint copied into a run's directory from a run of another seed, step size or total: not this
    run's end (no `done` without training), nor a run to resume (--resume would refuse it at every attempt); it goes
    to previous/ and the run trains. The run's own is found past a newer damaged file."""
    flags = ["--total-timesteps", "64", "--num-steps", "16", "--num-minibatches", "2", "--update-epochs", "1"]
    run = dict(script="ppo_discrete.py", env_id="CartPole-v1", seed=1, variant="tiny", flags=flags)

    def finished(where, seed, *extra):  # a checkpoint that the script wrote at its end
        subprocess.run([sys.executable, os.path.join(ROOT, "ppo_discrete.py"), "--env-id", "CartPole-v1", "--seed",
                        str(seed), *flags, *extra, "--save-model"], cwd=where.mkdir() or where, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
        return next(where.glob("runs/*"))

    others = {"seed2": finished(tmp_path / "a", 2), "lr": finished(tmp_path / "b", 1, "--learning-rate", "0.001"),
              "total": finished(tmp_path / "c", 1, "--total-timesteps", "128")}
    for name, folder in {**others, "own": finished(tmp_path / "d", 1)}.items():
        sweep.prepare(str(tmp_path / "r" / name), run)
        shutil.copytree(folder, tmp_path / "r" / name / "runs" / folder.name)
        found = sweep.newest_checkpoint(str(tmp_path / "r" / name), "ppo_discrete.py", run)
        assert (found is None) == (name != "own"), name
    (tmp_path / "r" / "own" / "runs" / "zz").mkdir()
    (tmp_path / "r" / "own" / "runs" / "zz" / "ppo_discrete.pt").write_bytes(b"damaged")  # the newest file
    assert sweep.newest_checkpoint(str(tmp_path / "r" / "own"), "ppo_discrete.py", run)[1:] == (True, 64)
    path = tmp_path / "r" / "seed2"
    proc = subprocess.run([sys.executable, SWEEP, "--run-task", str(path)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and (path / "done").exists(), proc.stdout + proc.stderr
    assert "global_step=64" in (path / "log.txt").read_text()  # it trained
    (kept,) = (path / "previous").iterdir()
    assert (kept / "runs" / others["seed2"].name / "ppo_discrete.pt").exists()


def test_a_run_whose_directory_is_removed_while_it_runs_is_one_line(tmp_path, monkeypatch, capsys):
    """`rm -rf` of a run's directory while its script runs: its marker cannot be written, which is one line that says
    why (not a traceback, nor "the run never started"), and the task fails."""
    path = tmp_path / "r" / "seed1"
    sweep.prepare(str(path), dict(script="ppo_discrete.py", env_id="CartPole-v1", seed=1, variant="default", flags=[]))

    class RemovedWhileRunning:  # the script, while it runs: its directory goes
        def __init__(self, *args, **kwargs):
            shutil.rmtree(path)

        def wait(self):
            return 0

    monkeypatch.setattr(sweep.subprocess, "Popen", RemovedWhileRunning)
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT, signal.SIGUSR1)}
    try:
        code = sweep.run_task(str(path))
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    out = capsys.readouterr().out
    assert code == 1 and f"{path}: its done marker cannot be written (No such file or directory): was its directory " \
        "removed while it ran?" in out, out


def test_what_an_earlier_attempt_left_is_not_read_as_this_attempts(tmp_path):
    """A `failed` of an earlier attempt goes when the run is prepared again (a Slurm follower would report it at
    once); one that is torn, a list or a pipe is read as no code, neither a traceback nor a block; W&B's folder
    set aside into previous/ with an earlier attempt keeps its own links."""
    run = {"script": "ppo_discrete.py", "env_id": "CartPole-v1", "seed": 1, "flags": []}
    sweep.prepare(str(tmp_path), run)
    (tmp_path / "failed").write_text('{"returncode": 1}')
    assert sweep._failed_code(str(tmp_path)) == 1
    sweep.prepare(str(tmp_path), run)
    assert not (tmp_path / "failed").exists()
    for body in ("garbage", "[]"):
        (tmp_path / "failed").write_text(body)
        assert sweep._failed_code(str(tmp_path)).startswith("none")
    (tmp_path / "failed").unlink()
    os.mkfifo(tmp_path / "failed")
    assert sweep._failed_code(str(tmp_path)).startswith("none")
    (tmp_path / "failed").unlink()
    (tmp_path / "previous" / "20261205-000000-1" / "wandb").mkdir(parents=True)
    (tmp_path / "previous" / "20261205-000000-1" / "wandb" / "latest-run").symlink_to(tmp_path / "previous")
    assert sweep.foreign_entry(str(tmp_path)) is None
    (tmp_path / "previous" / "20261205-000000-1" / "log.txt").symlink_to(tmp_path / "run.json")
    assert "log.txt is a symbolic link" in sweep.foreign_entry(str(tmp_path))


def test_a_sweep_continued_elsewhere_keeps_the_command_each_run_was_started_with(tmp_path):
    """run.json is rewritten only where the run it describes changed: continuing a sweep from another clone keeps
    the command (with that clone's paths) that a run was first started with."""
    run = {"script": "ppo_discrete.py", "env_id": "CartPole-v1", "seed": 1, "flags": ["--total-timesteps", "500"]}
    sweep.prepare(str(tmp_path), run)
    assert sweep.read_json(str(tmp_path / "run.json"))["command"] == sweep.command_of(run)
    elsewhere = {**run, "command": ["/elsewhere/python", "/elsewhere/ppo_discrete.py"]}
    sweep.write_json(str(tmp_path / "run.json"), elsewhere)
    sweep.prepare(str(tmp_path), run)
    assert sweep.read_json(str(tmp_path / "run.json")) == elsewhere
    changed = {**run, "flags": ["--total-timesteps", "600"]}
    sweep.prepare(str(tmp_path), changed)
    assert sweep.read_json(str(tmp_path / "run.json")) == {**changed, "command": sweep.command_of(changed)}
    for seed in (1.0, True):  # equal to 1 in python, but the script refuses --seed 1.0 and --seed True
        sweep.write_json(str(tmp_path / "run.json"), {**elsewhere, "seed": seed})
        sweep.prepare(str(tmp_path), run)
        assert sweep.read_json(str(tmp_path / "run.json")) == {**run, "command": sweep.command_of(run)}
        assert type(sweep.read_json(str(tmp_path / "run.json"))["seed"]) is int
    (tmp_path / "run.json").write_text("torn")
    sweep.prepare(str(tmp_path), run)
    assert sweep.read_json(str(tmp_path / "run.json")) == {**run, "command": sweep.command_of(run)}


def test_a_link_planted_at_the_lock_is_no_live_run(tmp_path):
    (tmp_path / "elsewhere").write_text("kept")
    (tmp_path / ".lock").symlink_to(tmp_path / "elsewhere")
    assert sweep.is_running(str(tmp_path)) is False and (tmp_path / "elsewhere").read_text() == "kept"


def test_a_run_json_nested_too_deep_says_nothing_rather_than_a_traceback(tmp_path):
    (tmp_path / "run.json").write_text("[" * 200_000)
    assert not sweep.ran_otherwise(str(tmp_path), {"script": "ppo_discrete.py", "flags": []})


@pytest.mark.parametrize(
    "options, message",
    [
        (["--env-ids", "CartPole-v1", "--", "--seed", "7"], "--seed after `--`: the sweep sets each run's env and seed"),
        (["--env-ids", "CartPole-v1", "--", "--env-id=Acrobot-v1"], "--env-id after `--`"),
        (["--env-ids", "CartPole-v1\nAcrobot-v1"], "not an env id"),
        (["--env-ids", "Cart Pole-v1"], "not an env id"),
        (["--env-ids", "CartPole-v1", "--", "--env_id", "Acrobot-v1"], "--env_id after `--`"),  # tyro takes both forms
        (["--env-ids", "ALE/Pong-v5", "ALE_Pong-v5"], "ALE/Pong-v5 and ALE_Pong-v5 would share a directory"),
        (["--env-ids", "CartPole-v1", "--poll", "-1"], "--poll must be positive"),
    ],
)
def test_the_sweep_owns_env_ids_and_seeds(options, message, tmp_path):
    proc = subprocess.run([sys.executable, SWEEP, "--script", "ppo_discrete.py", "--runs-dir", str(tmp_path / "r"), *options],
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "r").exists()


def test_a_newline_in_the_runs_directory_is_still_one_line(tmp_path):
    (tmp_path / "a\nb").write_text("a file where the runs directory goes")
    proc = subprocess.run([sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--runs-dir",
                           str(tmp_path / "a\nb")], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert proc.returncode == 2 and proc.stderr.splitlines() == [
        f"sweep.py: error: --runs-dir {tmp_path}/a\\nb is not a directory: pass a directory (it is made if missing)"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--learning-rate", "-1"],
         "after `--`: ppo_discrete.py: --learning-rate -1.0: must be positive"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--num-minibatches=7"],
         "does not split into 7 minibatches"),
        (["--script", "ppo_atari.py", "--env-ids", "BreakoutNoFrameskip-v4", "--", "--clip-coef", "x"],
         "ppo_atari.py: --clip-coef 'x': must be a number"),
        (["--preset", "recipes", "--", "--total-timesteps", "10"],
         "ppo_continuous.py (the recipe for Pendulum-v1): --total-timesteps 10 is less than one batch of 4096"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--no-such-flag"], "unknown flag"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "CartPol-v1"],
         "--env-ids CartPol-v1: ppo_discrete.py: unknown env id 'CartPol-v1': pass --env-ids with a registered environment "
         "(did you mean CartPole-v1"),
        (["--preset", "atari", "--env-ids", "Breakout-v9"], "--env-ids Breakout-v9: ppo_atari.py: unknown env id"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--resume", "x.pt"], "--resume after `--`"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--", "--gamma", "0.9"], "`--` twice"),
        (["--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "--", "--help"],
         "see `python ppo_discrete.py --help`"),
        (["--preset", "recipes", "--env-ids", "LunarLander-v3", "--", "--num-minibatches", "7"],
         "after `--`: ppo_discrete.py (the recipe for LunarLander-v3): the batch of 16384 samples"),
    ],
)
def test_a_bad_flag_or_env_id_ends_the_sweep_before_any_run(options, message, tmp_path):
    """The env ids, and the flags after `--`, are read by the script's own checks before the sweep writes anything:
    a bad one is one line naming it, headed by the sweep's name, not a failure in every run (--help would have made
    every run `done`)."""
    proc = subprocess.run([sys.executable, SWEEP, "--runs-dir", str(tmp_path / "r"), *options], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and message in lines[0] and lines[0].startswith("sweep.py: "), lines
    assert not (tmp_path / "r").exists()


def test_an_env_id_given_twice_runs_once_and_says_so(tmp_path):
    cmd = [sys.executable, SWEEP, "--script", "ppo_discrete.py", "--env-ids", "CartPole-v1", "CartPole-v1", "--runs-dir",
           str(tmp_path / "r"), *TINY]  # fmt: skip
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300).stdout
    assert "--env-ids: CartPole-v1 given twice: run once" in out and "1 run in" in out and "1 done, 0 failed" in out


def write_run(path, run_json, done=True):
    path.mkdir(parents=True)
    (path / "run.json").write_text(run_json)
    if done:
        (path / "done").write_text("{}")


def test_evaluate_runs_only_the_projects_scripts(tmp_path):
    """A run.json naming a script by path, or a script that is not ours, is one failed line; nothing runs."""
    evil = tmp_path / "evil.py"
    evil.write_text("open(%r, 'w').write('x')\n" % str(tmp_path / "PWNED"))
    for i, script in enumerate([str(evil), "../evil.py", "evil.py"]):
        write_run(tmp_path / "runs" / f"r{i}", json.dumps({"script": script, "env_id": "CartPole-v1", "flags": []}))
    write_run(tmp_path / "runs" / "r3", json.dumps([1]))
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmark", "evaluate.py"), str(tmp_path / "runs")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 1 and proc.stdout.count("names no script of this project") == 4, proc.stdout
    assert not (tmp_path / "PWNED").exists()


def test_report_leaves_out_what_is_not_a_run_and_says_so(tmp_path):
    runs = tmp_path / "runs"
    write_run(runs / "a", "{}")
    write_run(runs / "b", "[1]")
    for name, script, variant in (("c", "../../x.py", "v"), ("d", "ppo_discrete.py", "../x"), ("e", "a.py", "..")):
        write_run(runs / name, json.dumps({"script": script, "env_id": "X-v0", "seed": 1, "variant": variant, "flags": []}))
    (tmp_path / "elsewhere").mkdir()
    os.symlink(tmp_path / "elsewhere", runs / "linked")
    proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmark", "report.py"), str(runs)], capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stdout.count("its run.json is not a sweep's") == 5 and "linked: a symbolic link, not followed" in proc.stdout


def test_report_and_windows_refuse_an_out_they_cannot_write_in_one_line(tmp_path):
    (tmp_path / "file").write_text("")
    tools = [("report.py", [str(tmp_path), "--out", str(tmp_path / "file")], "cannot make the --out directory"),
             ("windows.py", [str(tmp_path), "--env-id", "X-v0", "--out", str(tmp_path / "no" / "w")], "no directory")]
    for tool, args, message in tools:
        run_json = json.dumps({"script": "ppo_discrete.py", "env_id": "X-v0", "seed": 1, "variant": "v", "flags": []})
        if not (tmp_path / "r").exists():
            write_run(tmp_path / "r", run_json)
        proc = subprocess.run([sys.executable, os.path.join(ROOT, "benchmark", tool), *args], capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        lines = proc.stderr.strip().splitlines()
        assert proc.returncode == 2 and len(lines) == 1 and message in lines[0], (tool, lines)

"""benchmark/baselines/fetch.py: CleanRL's scripts at a pinned commit, with exact text edits. Checked here on small
stand-ins for the upstream files (no network); the real files, where they have been fetched, against their
pinned content."""

import hashlib
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FETCH = os.path.join(ROOT, "benchmark", "baselines", "fetch.py")
sys.path.insert(0, os.path.dirname(FETCH))
import fetch  # noqa: E402


def stand_in(path, texts):
    """A stand-in for one upstream file: lines of its own around each of texts (the edits' old or new texts)."""
    return "".join(f"# {path}, part {i}\n{text}\n" for i, text in enumerate(texts)) + "# the end\n"


def write_stand_ins(clone, monkeypatch, omit=None, twice=None):
    """Stand-ins for the four upstream files under clone/, each holding its edits' old texts (less `omit`, and
    with `twice` written twice), pinned in fetch.UPSTREAM; fetch.EDITS pins, as each result, the stand-in with
    the new texts in place of the old."""
    upstream, edits_pinned = {}, {}
    for name, (path, edits, _) in fetch.EDITS.items():
        olds = [old for old, _ in edits if old != omit] + [old for old, _ in edits if old == twice]
        data = stand_in(path, olds).encode()
        (clone / path).parent.mkdir(parents=True, exist_ok=True)
        (clone / path).write_bytes(data)
        upstream[path] = hashlib.sha256(data).hexdigest()
        result = stand_in(path, [new for _, new in edits]).encode()
        edits_pinned[name] = (path, edits, hashlib.sha256(result).hexdigest())
    monkeypatch.setattr(fetch, "UPSTREAM", upstream)
    monkeypatch.setattr(fetch, "EDITS", edits_pinned)


def run_fetch(capsys, *argv):
    """fetch.main in this process: (exit code, stdout, stderr's lines)."""
    try:
        fetch.main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err.strip().splitlines()


def test_fetch_makes_each_edit_in_place_and_a_second_fetch_changes_nothing(tmp_path, monkeypatch, capsys):
    clone, out = tmp_path / "clone", tmp_path / "out"
    out.mkdir()
    write_stand_ins(clone, monkeypatch)
    monkeypatch.setattr(fetch, "OUT", str(out))
    code, printed, _ = run_fetch(capsys, "--from", str(clone))
    assert code == 0 and printed.count("wrote ") == 4, printed
    for name, (path, edits, _) in fetch.EDITS.items():  # each old text replaced by its new one, the rest untouched
        assert (out / name).read_text() == stand_in(path, [new for _, new in edits]), name
    first = {name: (out / name).read_bytes() for name in fetch.EDITS}
    code, printed, _ = run_fetch(capsys, "--from", str(tmp_path / "nowhere"))  # all in place: nothing is read
    assert code == 0 and "already in" in printed, printed
    (out / "cleanrl_ppo_atari.py").unlink()
    code, printed, _ = run_fetch(capsys, "--from", str(clone))
    assert code == 0 and {name: (out / name).read_bytes() for name in fetch.EDITS} == first


@pytest.mark.parametrize("omit, twice, words", [
    ("gym.wrappers.FrameStack(env, 4)", None, "cleanrl_ppo_atari.py: the upstream text 'gym.wrappers.FrameStack(env, "
                                              "4)' occurs 0 times, not once"),
    (None, fetch.SPS_OLD, "cleanrl_ppo_continuous_action.py: the upstream text 'print(\"SPS:\""),
])  # fmt: skip
def test_fetch_stops_in_one_line_when_an_edit_does_not_fit(omit, twice, words, tmp_path, monkeypatch, capsys):
    """An upstream text that is missing, or that occurs twice: one line naming it, exit 2, and no file written."""
    clone, out = tmp_path / "clone", tmp_path / "out"
    out.mkdir()
    write_stand_ins(clone, monkeypatch, omit, twice)
    monkeypatch.setattr(fetch, "OUT", str(out))
    code, _, lines = run_fetch(capsys, "--from", str(clone))
    assert code == 2 and len(lines) == 1 and lines[0].startswith("fetch.py: error: ") and words in lines[0], lines
    assert list(out.iterdir()) == []


def test_fetch_stops_in_one_line_when_the_edits_do_not_give_the_pinned_result(tmp_path, monkeypatch, capsys):
    clone, out = tmp_path / "clone", tmp_path / "out"
    out.mkdir()
    write_stand_ins(clone, monkeypatch)
    path, edits, digest = fetch.EDITS["cleanrl_ppo_atari.py"]
    changed = [(old, new.replace("FrameStackObservation", "FrameStack")) for old, new in edits]
    monkeypatch.setitem(fetch.EDITS, "cleanrl_ppo_atari.py", (path, changed, digest))
    monkeypatch.setattr(fetch, "OUT", str(out))
    code, _, lines = run_fetch(capsys, "--from", str(clone))
    assert code == 2 and len(lines) == 1 and "cleanrl_ppo_atari.py: the edits give sha256" in lines[0], lines
    assert list(out.iterdir()) == []


def test_fetch_stops_in_one_line_without_a_network(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(fetch, "URL", "http://127.0.0.1:9/{repo}/{commit}/{path}")  # nothing listens on port 9
    monkeypatch.setattr(fetch, "OUT", str(tmp_path))
    code, _, lines = run_fetch(capsys)
    assert code == fetch.UNREACHABLE == 75 and len(lines) == 1 and "cannot download http://127.0.0.1:9/" in lines[0], lines
    assert "pass --from CLONE" in lines[0] and list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("clone_has, words", [
    ("files that are not the pinned ones", "is not cleanrl/ppo_continuous_action.py of vwxyzjn/cleanrl at commit "
                                           "fe8d8a03"),
    ("nothing", "cannot read cleanrl/ppo_continuous_action.py (No such file or directory): pass a clone of"),
])  # fmt: skip
def test_fetch_from_a_wrong_clone_stops_in_one_line(clone_has, words, tmp_path):
    """As a user types it, with the real pins: exit 2, one line, and nothing written beside fetch.py (a copy of it,
    so that files already fetched beside the original do not make it skip the fetch)."""
    clone, here = tmp_path / "clone", tmp_path / "baselines"
    clone.mkdir(), here.mkdir()
    if clone_has != "nothing":
        with pytest.MonkeyPatch.context() as pinned_elsewhere:  # the files only: the subprocess has the real pins
            write_stand_ins(clone, pinned_elsewhere)
    (here / "fetch.py").write_bytes(open(FETCH, "rb").read())
    proc = subprocess.run([sys.executable, str(here / "fetch.py"), "--from", str(clone)], capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and words in lines[0], lines
    assert os.listdir(here) == ["fetch.py"]


@pytest.mark.skipif(not os.path.isfile(os.path.join(fetch.OUT, "cleanrl_ppo_atari.py")),
                    reason="CleanRL's scripts are not in benchmark/baselines/: run python benchmark/baselines/fetch.py")
def test_the_fetched_files_are_the_pinned_ones():
    """The files the comparisons run are the pinned upstream files with the edits, and nothing else."""
    for name, (_, _, digest) in fetch.EDITS.items():
        path = os.path.join(fetch.OUT, name)
        assert os.path.isfile(path), f"no {name}: rerun python benchmark/baselines/fetch.py"
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == digest, f"{name}: rerun python benchmark/baselines/fetch.py"


def test_fetch_replaces_a_link_never_follows_it_and_refuses_odd_files_in_one_line(tmp_path, monkeypatch, capsys):
    """A link where an output goes is replaced (what it points at is untouched); a directory there, a read-only
    directory, and a pipe or a device in the clone each end in one line with exit 2, nothing written."""
    clone, out, victim = tmp_path / "clone", tmp_path / "out", tmp_path / "victim"
    out.mkdir(), victim.write_text("mine\n")
    write_stand_ins(clone, monkeypatch)
    monkeypatch.setattr(fetch, "OUT", str(out))
    name = next(iter(fetch.EDITS))
    (out / name).symlink_to(victim)
    code, printed, _ = run_fetch(capsys, "--from", str(clone))
    assert code == 0 and victim.read_text() == "mine\n" and not (out / name).is_symlink(), printed
    assert sorted(os.listdir(out)) == sorted(fetch.EDITS)  # no temporary file left
    for path in list(out.iterdir()):
        path.unlink()
    (out / name).mkdir()
    code, _, lines = run_fetch(capsys, "--from", str(clone))
    assert code == 2 and len(lines) == 1 and "is a directory: move it away" in lines[0] and os.listdir(out) == [name]
    (out / name).rmdir()
    path = clone / fetch.EDITS[name][0]
    path.unlink()
    os.mkfifo(path)  # a read would wait for a writer forever
    code, _, lines = run_fetch(capsys, "--from", str(clone))
    assert code == 2 and len(lines) == 1 and "is not a regular file" in lines[0] and os.listdir(out) == []

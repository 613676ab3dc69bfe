"""A test that cannot run says why (`pytest -rfEs` prints each skip's reason), and under REQUIRE_ALL_TESTS=1,
which .ci/run sets, it fails instead of skipping (tests/conftest.py)."""

import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SKIPPING = '''
import pytest


@pytest.mark.skipif(True, reason="needs the baselines")
def test_marked():
    pass


def test_inside():
    pytest.skip("Slurm is not installed")


@pytest.mark.xfail(reason="a known failure", strict=True)
def test_expected_to_fail():
    assert False
'''


@pytest.mark.parametrize("required, allowed", [(False, None), (True, None), (True, "needs the baselines")],
                         ids=["laptop", "ci", "ci-without-github"])
def test_a_skip_gives_its_reason_and_fails_where_every_test_is_required(required, allowed, tmp_path):
    (tmp_path / "test_skipping.py").write_text(SKIPPING)
    env = {k: v for k, v in os.environ.items() if k not in ("REQUIRE_ALL_TESTS", "ALLOW_SKIP")}
    env.update(PYTHONPATH=os.path.join(ROOT, "tests"), **({"REQUIRE_ALL_TESTS": "1"} if required else {}))
    env.update({"ALLOW_SKIP": allowed} if allowed else {})
    cmd = [sys.executable, "-m", "pytest", "-p", "conftest", "-p", "no:cacheprovider", "-rfEs", "-q", "test_skipping.py"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    out = proc.stdout + proc.stderr
    assert "needs the baselines" in out and "Slurm is not installed" in out, out
    if allowed:  # the skip whose reason holds ALLOW_SKIP's text stays a skip; the other fails
        assert proc.returncode == 1 and "1 failed, 1 skipped, 1 xfailed" in out, out
    elif required:  # the marked skip fails at its setup (an error), the one inside the test as a failure
        assert proc.returncode == 1 and "1 failed, 1 xfailed, 1 error" in out, out
    else:
        assert proc.returncode == 0 and "2 skipped, 1 xfailed" in out, out


def test_ci_requires_every_test_and_lists_the_reasons():
    with open(os.path.join(ROOT, ".ci", "run")) as f:
        lines = f.read().splitlines()
    assert "export REQUIRE_ALL_TESTS=1" in lines
    command = "python3 -m venv .venv && . .venv/bin/activate && pip install -r requirements.txt && python -m pytest -rfEs" \
        " tests"
    assert lines[-1] == command
    with open(os.path.join(ROOT, "README.md")) as f:
        assert f"\n{command}\n" in f.read()  # the same command

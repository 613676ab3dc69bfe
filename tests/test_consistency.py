"""The scripts' shape: each reads as the reference it is meant to be; the pieces they share are copies on
purpose (each script stands alone) that must not drift; run management is written once, in run_management.py.

Above one fence line: docstring, Args, env construction, the network, the algorithm's pieces and main.
Below it: the script's own small part of run management; the rest is run_management.py."""

import ast
import functools
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ["ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py"]
MODULE = "run_management.py"
FENCE = "# ==================== Run management: not part of the algorithm; main calls it through Run ===================="
# These differ by design: the defaults, the loop, the network and its action distribution, the env, and so how
# a checkpoint's policy is rebuilt and evaluated. Atari's env check is ALE's; the MLP scripts share theirs.
PER_SCRIPT = {"Args", "main", "Agent", "make_env", "load_policy", "evaluate", "check_env", "Run", "ppo_loss"}
# Every PPO script has its own copy of these (a reader finds each piece in the file they are reading).
PPO_CORE = {"layer_init", "compute_gae", "ppo_policy_loss", "ppo_value_loss", "update_kl_beta"}
# Run management: none of it above the fence.
RUN_MANAGEMENT = {"Run", "check_env", "load_policy", "evaluate", "VideoRecorder", "RULES", "MAY_CHANGE"}
# The algorithm and its parts: none of it below the fence.
ALGORITHM = {"Args", "make_env", "make_envs", "RunningMeanStd", "normalize_obs", "scale_reward", "MLP", "Agent",
             "compute_gae", "ppo_policy_loss", "ppo_loss", "ppo_value_loss", "update_kl_beta", "trpo_step",
             "line_search", "conjugate_gradient", "fisher_vector_product", "main"}  # fmt: skip


@functools.cache
def source(script):
    with open(os.path.join(ROOT, script)) as f:
        return f.read()


@functools.cache
def top_level(script):
    """{name: (first line, source)} of the script's top-level functions, classes and assignments (parsed once)."""
    text = source(script)
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = (node.lineno, ast.get_source_segment(text, node))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = (node.lineno, ast.get_source_segment(text, node))
    return out


@functools.cache
def docstring_lines(name):
    """How many lines the file's module docstring takes (0 without one): the budgets below count code, and the
    docstring's table of defaults is documentation."""
    module = ast.parse(source(name))
    if ast.get_docstring(module) is None:
        return 0
    return module.body[0].end_lineno - module.body[0].lineno + 1


def fence_line(script):
    lines = source(script).splitlines()
    assert lines.count(FENCE) == 1, script
    return lines.index(FENCE) + 1


def definitions(script):
    """The script's functions and classes that are not its own by design, {name: source}."""
    found = top_level(script).items()
    return {name: text for name, (_, text) in found if name not in PER_SCRIPT and text.startswith(("def ", "class ", "@"))}


@functools.cache
def shared_names():
    defs = {script: definitions(script) for script in SCRIPTS}
    names = sorted({name for d in defs.values() for name in d})
    return defs, [n for n in names if sum(n in d for d in defs.values()) >= 2]


def test_there_is_something_to_compare():
    defs, shared = shared_names()
    assert {"compute_gae", "RunningMeanStd", "MLP", "layer_init", "ppo_policy_loss"} <= set(shared)


@pytest.mark.parametrize("script", [s for s in SCRIPTS if s.startswith("ppo_")])
def test_every_ppo_script_has_the_core_pieces(script):
    assert PPO_CORE <= set(top_level(script)), PPO_CORE - set(top_level(script))


@pytest.mark.parametrize("name", shared_names()[1])
def test_shared_definition_is_identical_in_every_script(name):
    defs, _ = shared_names()
    versions = {script: d[name] for script, d in defs.items() if name in d}
    first_script, first = next(iter(versions.items()))
    for script, text in versions.items():
        assert text == first, f"{name} differs between {first_script} and {script}"


@pytest.mark.parametrize("script", SCRIPTS)
def test_run_management_is_written_once(script):
    """No script defines again what run_management.py defines, and each imports it and hands it its module."""
    again = set(top_level(script)) & set(top_level(MODULE)) - {"Run", "RULES", "MAY_CHANGE"}
    assert not again, again
    text = source(script)
    assert "\nimport run_management" in text and "run_management.cli(Args)" in text
    assert "fcntl" not in text  # the lock is filelock's, which runs on Windows too


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_algorithm_is_above_the_fence_and_run_management_below(script):
    fence = fence_line(script)
    found = top_level(script)
    above = {name for name, (line, _) in found.items() if line < fence}
    below = {name for name, (line, _) in found.items() if line > fence}
    assert not above & RUN_MANAGEMENT, above & RUN_MANAGEMENT
    assert not below & ALGORITHM, below & ALGORITHM
    assert "main" in above and "RULES" in below


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_shape_targets(script):
    """The start through main at most 480 lines, the script at most 600, both without the module docstring's
    lines; no line over 120 characters; main touches run management in at most 15 lines (the calls on `run`)."""
    lines = source(script).splitlines()
    fence = fence_line(script)
    main_start, main_text = top_level(script)["main"]
    main_end = main_start + main_text.count("\n")
    doc = docstring_lines(script)
    assert main_end < fence and main_end - doc <= 480 and len(lines) - doc <= 600, (main_end, fence, len(lines), doc)
    long = [i + 1 for i, line in enumerate(lines) if len(line) > 120]
    assert not long, f"lines over 120 characters: {long}"
    touching = [line for line in main_text.splitlines() if re.search(r"\brun\.|\bRun\(", line)]
    assert len(touching) <= 15, touching


def test_the_scripts_and_their_run_management_fit_the_budget():
    """The four scripts and run_management.py together at most 2,700 lines, not counting their module docstrings'
    lines; the module's lines at most 120 characters."""
    counts = {name: len(source(name).splitlines()) - docstring_lines(name) for name in SCRIPTS + [MODULE]}
    assert sum(counts.values()) <= 2700, counts
    long = [i + 1 for i, line in enumerate(source(MODULE).splitlines()) if len(line) > 120]
    assert not long, f"{MODULE}: lines over 120 characters: {long}"

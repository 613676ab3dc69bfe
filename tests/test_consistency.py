"""The scripts' shape: each reads as the reference it is meant to be, and the pieces they share are copies on
purpose (each script stands alone) that must not drift.

Above one fence line: docstring, Args, env construction, the network, the algorithm's pieces and main.
Below it: run management, first the script's own part, then a part that is the same, line for line, in
all four scripts."""

import ast
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPTS = ["ppo_continuous.py", "ppo_discrete.py", "ppo_atari.py", "trpo_continuous.py"]
FENCE = "# ==================== Run management: not part of the algorithm; main calls it through Run ===================="
SHARED = "# -------------- Shared: the same in all four scripts from here to the end (tests/test_consistency.py) --------------"
# These differ by design: the defaults, the loop, the network and its action distribution, the env, and so how
# a checkpoint's policy is rebuilt and evaluated. Atari's env check is ALE's; the MLP scripts share theirs.
PER_SCRIPT = {"Args", "main", "Agent", "make_env", "load_policy", "evaluate"}
PER_SCRIPT_IN = {"ppo_atari.py": {"check_env"}}
# Every PPO script has its own copy of these (a reader finds each piece in the file they are reading).
PPO_CORE = {"fail", "check_env_id", "layer_init", "compute_gae", "ppo_policy_loss", "ppo_value_loss", "update_kl_beta", "save_checkpoint"}
# Run management: none of it above the fence.
RUN_MANAGEMENT = {"Run", "fail", "failing", "check_env_id", "check_args", "check_env", "new_run_dir", "check_finite",
                  "state_copy", "rng_state", "set_rng_state", "save_checkpoint", "read_checkpoint", "read_resume",
                  "load_policy", "evaluate", "evaluate_checkpoint", "VideoRecorder", "RULES", "MAY_CHANGE"}  # fmt: skip
# The algorithm and its parts: none of it below the fence.
ALGORITHM = {"Args", "make_env", "make_envs", "RunningMeanStd", "normalize_obs", "scale_reward", "MLP", "Agent",
             "compute_gae", "ppo_policy_loss", "ppo_value_loss", "update_kl_beta", "trpo_step", "line_search",
             "conjugate_gradient", "fisher_vector_product", "main"}  # fmt: skip


def source(script):
    return open(os.path.join(ROOT, script)).read()


def top_level(script):
    """{name: (first line, source)} of the script's top-level functions, classes and assignments."""
    text = source(script)
    out = {}
    for node in ast.parse(text).body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            out[node.name] = (node.lineno, ast.get_source_segment(text, node))
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            out[node.targets[0].id] = (node.lineno, ast.get_source_segment(text, node))
    return out


def fence_line(script):
    lines = source(script).splitlines()
    assert lines.count(FENCE) == 1 and lines.count(SHARED) == 1, script
    return lines.index(FENCE) + 1


def definitions(script):
    """The script's functions and classes that are not its own by design, {name: source}."""
    own = PER_SCRIPT | PER_SCRIPT_IN.get(script, set())
    found = top_level(script).items()
    return {name: text for name, (_, text) in found if name not in own and text.startswith(("def ", "class ", "@"))}


def shared_names():
    defs = {script: definitions(script) for script in SCRIPTS}
    names = sorted({name for d in defs.values() for name in d})
    return defs, [n for n in names if sum(n in d for d in defs.values()) >= 2]


def test_there_is_something_to_compare():
    defs, shared = shared_names()
    assert {"compute_gae", "RunningMeanStd", "save_checkpoint", "MLP", "Run", "check_env"} <= set(shared)


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


def test_the_shared_part_is_the_same_text_in_every_script():
    tails = {script: source(script).split(SHARED + "\n", 1)[1] for script in SCRIPTS}
    assert len(set(tails.values())) == 1, "the part below the 'Shared' line differs between scripts"
    assert 'if __name__ == "__main__":\n    try:\n        main(parse_args())' in tails[SCRIPTS[0]]


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_algorithm_is_above_the_fence_and_run_management_below(script):
    fence = fence_line(script)
    found = top_level(script)
    above = {name for name, (line, _) in found.items() if line < fence}
    below = {name for name, (line, _) in found.items() if line > fence}
    assert not above & RUN_MANAGEMENT, above & RUN_MANAGEMENT
    assert not below & ALGORITHM, below & ALGORITHM
    assert "main" in above and "Run" in below


@pytest.mark.parametrize("script", SCRIPTS)
def test_the_shape_targets(script):
    """Docstring through main at most 480 lines; no line over 120 characters; main touches run management
    in at most 15 lines (the calls on `run`, and evaluate_checkpoint)."""
    lines = source(script).splitlines()
    fence = fence_line(script)
    main_start, main_text = top_level(script)["main"]
    main_end = main_start + main_text.count("\n")
    assert main_end < fence and main_end <= 480, (main_end, fence)
    long = [i + 1 for i, line in enumerate(lines) if len(line) > 120]
    assert not long, f"lines over 120 characters: {long}"
    touching = [line for line in main_text.splitlines() if re.search(r"\brun\.|\bRun\(|evaluate_checkpoint", line)]
    assert len(touching) <= 15, touching

"""--compile: the compiled minibatch loss and its gradients match eager to float-rounding level (checked against the
eager function on the same minibatch, for each PPO script), new clip and beta values reuse the compiled graphs, and
the flag reaches main, which reports the compilation time."""

import pytest
import torch

import ppo_atari
import ppo_continuous
import ppo_discrete

def problem(module, loss):
    """An agent, a random batch of 256 samples as main builds it, and the extra arguments ppo_loss takes."""
    torch.manual_seed(0)
    n, extra = 256, ()
    if module is ppo_continuous:
        agent = module.Agent(5, 2)
        obs, actions, old = torch.randn(n, 5), torch.randn(n, 2), torch.randn(n, 2)  # old: pi_old's means
        extra = (agent.actor_logstd.detach().clone() - 0.1,)  # old_logstd
    elif module is ppo_discrete:
        agent, obs, actions = module.Agent(5, 3), torch.randn(n, 5), torch.randint(0, 3, (n,))
        old = torch.log_softmax(torch.randn(n, 3), -1)
    else:
        agent, obs, actions = module.Agent(4), torch.randint(0, 256, (n, 4, 84, 84), dtype=torch.uint8), torch.randint(0, 4, (n,))
        old = torch.log_softmax(torch.randn(n, 4), -1)
    with torch.no_grad():
        logprobs = agent.get_action_and_value(obs, actions)[1] + 0.3 * torch.randn(n)  # ratios away from 1: clipping bites
    values, returns, advantages = torch.randn(n), torch.randn(n), torch.randn(n)
    args = module.Args(loss=loss)
    return agent, (obs, actions, logprobs, advantages, values, returns, old), extra, args


def loss_and_grads(fn, agent, batch, extra, args, clip, beta):
    agent.zero_grad()
    loss, *_ = fn(agent, batch, torch.arange(0, 256, 2), *extra, clip, beta, args)
    loss.backward()
    return loss.detach(), [p.grad.clone() for p in agent.parameters()]


@pytest.mark.parametrize("module, loss", [(ppo_continuous, "kl-adaptive"), (ppo_discrete, "clip"), (ppo_atari, "clip")])
def test_the_compiled_update_matches_eager(module, loss):
    torch._dynamo.reset()
    agent, batch, extra, args = problem(module, loss)
    compiled = torch.compile(module.ppo_loss)
    for clip, beta in ((0.2, 1.0), (0.1, 3.0)):  # the second pair: new values, the same graphs
        want, want_grads = loss_and_grads(module.ppo_loss, agent, batch, extra, args, clip, beta)
        graphs = torch._dynamo.utils.counters["stats"]["unique_graphs"]
        got, got_grads = loss_and_grads(compiled, agent, batch, extra, args, torch.tensor(clip), torch.tensor(beta))
        if clip == 0.1:
            assert torch._dynamo.utils.counters["stats"]["unique_graphs"] == graphs  # no recompilation
        torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        for g, w in zip(got_grads, want_grads):
            torch.testing.assert_close(g, w, rtol=1e-4, atol=1e-6)
        assert any(w.abs().sum() > 0 for w in want_grads)


def test_the_flag_reaches_main_and_the_compile_time_is_reported(monkeypatch, capsys, tmp_path):
    """main hands ppo_loss to torch.compile and calls what it returns, with clip and beta as tensors (a stand-in
    for torch.compile records the calls: the real compilation is checked above)."""
    calls = []

    def fake_compile(fn):
        def compiled(*a):
            calls.append(a)
            return fn(*a)

        return compiled

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(torch, "compile", fake_compile)
    ppo_discrete.main(ppo_discrete.Args(env_id="CartPole-v1", total_timesteps=256, num_envs=1, num_steps=128, compile=True, checkpoint_every=0))
    assert len(calls) == 2 * 4 * 4  # 2 iterations x 4 epochs x 4 minibatches
    assert all(torch.is_tensor(a[-3]) and torch.is_tensor(a[-2]) for a in calls)  # clip, beta
    assert capsys.readouterr().out.count("--compile: compiled the minibatch update in ") == 1
    calls.clear()
    ppo_discrete.main(ppo_discrete.Args(env_id="CartPole-v1", total_timesteps=256, num_envs=1, num_steps=128, checkpoint_every=0))
    assert not calls and "--compile" not in capsys.readouterr().out


def test_compile_without_a_cpp_compiler_is_one_line(tmp_path):
    """torch.compile's inductor builds C++: without a compiler, --compile ends in one line naming the fix, not
    inductor's traceback at the first update."""
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ppo_discrete.py")
    # $CXX unset: g++, as inductor picks; a $CXX that is missing, empty, or runs but is no compiler
    for cxx, compiler in ((None, "'g++'"), ("no-such-c++", "'no-such-c++'"), ("", "''"), ("false", "'false'")):
        env = {k: v for k, v in os.environ.items() if k != "CXX"}
        env.update({"PATH": str(tmp_path)} if cxx is None else {"CXX": cxx})  # an empty folder: no g++
        proc = subprocess.run([sys.executable, script, "--compile", "--total-timesteps", "512"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=120)  # fmt: skip
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.strip().splitlines() == [
            f"ppo_discrete.py: error: --compile: torch.compile builds C++ code with {compiler} ($CXX, or else g++), "
            "which does not run as a compiler: install g++ or set CXX to a C++ compiler, or leave --compile out"]


def test_a_compiler_that_runs_but_builds_nothing_usable_is_one_line(tmp_path):
    """A $CXX that answers --version but builds no loadable C++ (`true` builds nothing): inductor fails at the first
    update, and the run ends in one line naming --compile and the compiler, exit code 2, not inductor's traceback."""
    import os
    import subprocess
    import sys

    script = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "ppo_discrete.py")
    env = {**os.environ, "CXX": "true", "TORCHINDUCTOR_CACHE_DIR": str(tmp_path / "cache")}  # no cached kernels
    proc = subprocess.run([sys.executable, script, "--compile", "--total-timesteps", "512", "--num-steps", "256",
                           "--num-envs", "1"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and len(lines) == 1, proc.stderr[-3000:]
    assert lines[0].startswith("ppo_discrete.py: error: --compile: torch.compile failed (") and "$CXX" in lines[0]

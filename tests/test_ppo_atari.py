"""Tests for ppo_atari.py: the environments on real games, the rollout's bootstrapping, then the whole script.

GAE and the losses are checked on this script's copy in test_shared_pieces.py.
"""

import os
import subprocess
import sys

import ale_py.vector_env
import gymnasium as gym
import numpy as np
import pytest
import torch
from conftest import WithLives, count_env, only_run, read_scalars, record_gae_inputs, write_checkpoint

import ppo_atari as A

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BREAKOUT = "BreakoutNoFrameskip-v4"
NOOP = np.zeros(1, np.int64)  # action 0 of one env


# --- the environments -------------------------------------------------------------------------------------


def without_noops_or_fire(monkeypatch):
    """make_envs as the script configures it, but with no no-op starts and no FIRE at reset."""
    real = ale_py.vector_env.AtariVectorEnv
    monkeypatch.setattr(ale_py.vector_env, "AtariVectorEnv", lambda *a, **kw: real(*a, **{**kw, "noop_max": 0, "use_fire_reset": False}))


def test_frames_rewards_and_game_ends_equal_gymnasiums_preprocessing(monkeypatch):
    """Same game, same actions, no no-ops: the vector env's stacks, raw rewards and game over equal
    gymnasium's AtariPreprocessing + FrameStackObservation step for step, through a whole game.
    The one documented difference: the vector env fills the stack with zeros at reset, where
    FrameStackObservation repeats the first frame by default; padding_type="zero" matches it."""
    without_noops_or_fire(monkeypatch)
    envs = A.make_envs(BREAKOUT, 1)
    env = gym.make(BREAKOUT)
    env = gym.wrappers.AtariPreprocessing(env, noop_max=0, frame_skip=4, screen_size=84, terminal_on_life_loss=False)
    env = gym.wrappers.FrameStackObservation(env, 4, padding_type="zero")
    frames, _ = envs.reset(seed=3)
    obs, _ = env.reset(seed=3)
    np.testing.assert_array_equal(frames[0], obs)
    rng, total, steps = np.random.default_rng(0), 0.0, 0
    while True:
        action = rng.integers(0, 4)
        frames, reward, game_over, truncated, infos = envs.step(np.array([action]))
        obs, raw_reward, terminated, _, info = env.step(action)
        steps, total = steps + 1, total + raw_reward
        assert reward[0] == raw_reward and game_over[0] == terminated and not truncated[0]
        assert infos["lives"][0] == info["lives"] or terminated
        if terminated:  # SAME_STEP autoreset: the game's last stack is in final_obs
            np.testing.assert_array_equal(infos["final_obs"][0], obs)
            break
        np.testing.assert_array_equal(frames[0], obs)
    assert steps > 100 and total > 0  # a whole game, with scoring, was compared


def test_the_agent_launches_every_ball_where_the_game_has_fire():
    """Breakout's ball appears only after FIRE, and the env never presses it (the classic wrappers press it at
    a game's start and after each lost life): with NOOPs alone the screen stays still after reset; one FIRE
    launches the ball, which NOOPs then miss, and after the lost life the game again waits for FIRE."""

    def screen_moves(envs, first_action=0):
        first = envs.reset(seed=0)[0][0, -1]
        envs.step(np.array([first_action]))
        return any(not np.array_equal(envs.step(NOOP)[0][0, -1], first) for _ in range(20))

    assert not screen_moves(A.make_envs(BREAKOUT, 1))
    assert screen_moves(A.make_envs(BREAKOUT, 1), first_action=1)  # the check can fail: FIRE, a ball
    assert A.make_envs("FreewayNoFrameskip-v4", 1).single_action_space.n == 3  # NOOP, UP, DOWN: no FIRE to press

    envs = A.make_envs(BREAKOUT, 1)
    envs.reset(seed=0)
    envs.step(np.ones(1, np.int64))  # FIRE
    lives = 5
    while lives == 5:  # NOOPs lose the first life: the ball is missed
        frames, _, _, _, infos = envs.step(NOOP)
        lives = infos["lives"][0]
    for _ in range(30):  # after the lost life the game waits for FIRE: the screen no longer changes
        frames, *_ = envs.step(NOOP)
    still = frames[0, -1]
    assert all(np.array_equal(envs.step(NOOP)[0][0, -1], still) for _ in range(20))


def test_noop_starts_vary_the_first_frames():
    """0-29 no-op frames at reset (ale-py draws them from range(noop_max))."""
    envs = A.make_envs(BREAKOUT, 1)
    starts = [int(envs.reset(seed=seed)[1]["episode_frame_number"][0]) for seed in range(60)]
    assert max(starts) <= 29
    assert len(set(starts)) >= 15 and min(starts) <= 5 and max(starts) >= 25


def test_the_id_gives_the_game_sticky_actions_and_frame_cap(monkeypatch):
    seen = []
    monkeypatch.setattr(ale_py.vector_env, "AtariVectorEnv", lambda game, n, **kw: seen.append((game, n, kw)))
    A.make_envs("ALE/Breakout-v5", 3)
    A.make_envs("MsPacmanNoFrameskip-v4", 2, 1)
    (v5_game, v5_n, v5), (v4_game, v4_n, v4) = seen
    assert (v5_game, v5_n, v5["repeat_action_probability"], v5["num_threads"]) == ("breakout", 3, 0.25, 0)
    assert (v4_game, v4_n, v4["repeat_action_probability"], v4["num_threads"]) == ("ms_pacman", 2, 0.0, 1)
    for kw in (v5, v4):  # raw rewards and no life-loss signal: the script does both itself
        assert kw["max_num_frames_per_episode"] == 108000 and not kw["full_action_space"] and not kw["reward_clipping"]
        assert "episodic_life" not in kw and "life_loss_info" not in kw


def record_envs(monkeypatch):
    """Wraps make_envs so that every step's raw rewards and infos are kept."""
    steps, real = [], A.make_envs

    def recorded(*args):
        envs = real(*args)
        step = envs.step

        def recording_step(actions):
            result = step(actions)
            steps.append(dict(reward=result[1].copy(), game_over=result[2].copy(), truncated=result[3].copy(),
                              lives=result[4]["lives"].copy(), frame=result[4]["episode_frame_number"].copy()))  # fmt: skip
            return result

        envs.step = recording_step
        return envs

    monkeypatch.setattr(A, "make_envs", recorded)
    return steps


@pytest.mark.parametrize("env_id, lives_per_game", [(BREAKOUT, 5), ("SpaceInvadersNoFrameskip-v4", 3)])
def test_a_lost_life_ends_the_training_episode_but_not_the_game(env_id, lives_per_game, tmp_path, monkeypatch):
    """Real games: training episodes end at each lost life while the game's frames run on, the training
    rewards are the raw ones clipped (Space Invaders scores 5-30 a hit), and the logged game returns
    are the sums of raw rewards over all the lives of each game."""
    monkeypatch.chdir(tmp_path)
    steps = record_envs(monkeypatch)
    calls = record_gae_inputs(A, monkeypatch, probe=torch.zeros((1, 4, 84, 84), dtype=torch.uint8))
    A.main(A.Args(env_id=env_id, num_envs=2, num_steps=256, num_minibatches=2, update_epochs=1, total_timesteps=2048, seed=4, exp_name="life"))
    raw = np.array([s["reward"] for s in steps])  # [T, N]
    game_over, lives, frame = (np.array([s[k] for s in steps]) for k in ("game_over", "lives", "frame"))
    terminations = np.concatenate([c["terminations"] for c in calls])
    rewards = np.concatenate([c["rewards"] for c in calls])
    np.testing.assert_array_equal(rewards, np.sign(raw))
    assert raw.max() > 1 or env_id == BREAKOUT  # Breakout scores 1 a brick in its lower rows
    lost = np.zeros_like(game_over)
    lost[1:] = lives[1:] < lives[:-1]
    lost[0] = lives[0] < lives_per_game
    np.testing.assert_array_equal(terminations, game_over | lost)
    assert game_over.sum() >= 2 and lost.sum() >= 2 * (lives_per_game - 1)
    # the game goes on through a lost life: its frame counter runs on by the 4 skipped frames
    t, i = np.nonzero(lost[:-1])
    np.testing.assert_array_equal(frame[t + 1, i], frame[t, i] + 4)
    # every game: all its lives, and the logged return is the raw rewards of all of them
    games = []
    for i in range(2):
        ends = np.nonzero(game_over[:, i])[0]
        for start, end in zip(np.concatenate([[-1], ends[:-1]]), ends):
            assert lost[start + 1 : end + 1, i].sum() == lives_per_game - 1  # then the last life ends the game
            games.append(raw[start + 1 : end + 1, i].sum())
    logged = read_scalars(only_run(tmp_path, "life__"))["charts/episodic_return"]
    assert sorted(logged) == sorted(games) and len(games) >= 2


# --- the rollout: truncation vs termination -----------------------------------------------------------------


def frames(t):
    return np.full((4, 84, 84), 40 * t, np.uint8)


FRAMES = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
SAME_STEP = gym.vector.AutoresetMode.SAME_STEP
gym.register("FakeNoFrameskip", entry_point=lambda: count_env(False, FRAMES, gym.spaces.Discrete(3), frames))


@pytest.mark.parametrize("terminate, bootstrap", [(False, True), (True, True), (False, False)])
def test_rollout_bootstraps_truncation_with_the_final_observation(terminate, bootstrap, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env = lambda: WithLives(count_env(terminate, FRAMES, gym.spaces.Discrete(3), frames))  # noqa: E731
    monkeypatch.setattr(A, "make_envs", lambda env_id, n, threads=0: gym.vector.SyncVectorEnv([env] * n, autoreset_mode=SAME_STEP))
    monkeypatch.setattr(A, "check_env", lambda args: None)  # the fake game is not an ALE id
    calls = record_gae_inputs(A, monkeypatch, probe=torch.as_tensor(np.stack([frames(k) for k in range(6)])))
    A.main(A.Args(env_id="FakeNoFrameskip", num_envs=2, num_steps=12, num_minibatches=2, update_epochs=1, total_timesteps=48, bootstrap_truncation=bootstrap))
    assert len(calls) == 2
    for i, call in enumerate(calls):
        v = call["v"]
        ends = np.zeros((12, 2), bool)
        ends[[t for t in range(12) if (12 * i + t) % 5 == 4], :] = True
        np.testing.assert_array_equal(call["dones"], ends)
        np.testing.assert_array_equal(call["terminations"], ends if terminate or not bootstrap else 0 * ends)  # no bootstrap: as a termination
        for t in range(12):
            k = (12 * i + t) % 5  # step count of s_t
            np.testing.assert_allclose(call["values"][t], v[k], atol=1e-5)
            if not terminate or k != 4:  # s_{t+1}: the final frame (5) at a truncation, never the reset one
                np.testing.assert_allclose(call["next_values"][t], v[k + 1], atol=1e-5)


# --- the whole script ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("anneal", [None, True])
def test_the_clip_stays_at_its_value_unless_annealed(anneal, tmp_path, monkeypatch):
    """By default epsilon is 0.1 in every iteration (CleanRL's; it learned Breakout faster than the annealed one,
    benchmark/README.md); with --anneal-clip it is 0.1 x alpha, alpha = 1 - (iteration - 1) / iterations
    (the paper's Table 5), in the policy's clip and the value loss's clip alike."""
    monkeypatch.chdir(tmp_path)
    seen = {"policy": [], "value": []}
    policy_loss, value_loss = A.ppo_policy_loss, A.ppo_value_loss

    def recorded_policy_loss(ratio, advantages, kl, loss, clip_coef, kl_beta):
        seen["policy"].append(clip_coef)
        return policy_loss(ratio, advantages, kl, loss, clip_coef, kl_beta)

    def recorded_value_loss(newvalue, oldvalue, returns, clip_coef, clip_vloss):
        seen["value"].append(clip_coef)
        return value_loss(newvalue, oldvalue, returns, clip_coef, clip_vloss)

    monkeypatch.setattr(A, "ppo_policy_loss", recorded_policy_loss)
    monkeypatch.setattr(A, "ppo_value_loss", recorded_value_loss)
    flags = {} if anneal is None else {"anneal_clip": anneal}
    A.main(A.Args(env_id=BREAKOUT, num_envs=2, num_steps=16, num_minibatches=1, update_epochs=1, total_timesteps=128, **flags))
    expected = [0.1 * (1 - i / 4) for i in range(4)] if anneal else [0.1] * 4  # 4 iterations of 2 x 16 steps
    assert seen["policy"] == pytest.approx(expected) and seen["value"] == pytest.approx(expected)


def test_end_to_end_writes_tags_and_checkpoint_round_trip(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    args = dict(env_id=BREAKOUT, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1, total_timesteps=256, seed=2)
    A.main(A.Args(**args, save_model=True, exp_name="br"))
    run = only_run(tmp_path, "br__")
    scalars = read_scalars(run)
    for tag in ("charts/learning_rate", "charts/SPS", "losses/value_loss", "losses/policy_loss", "losses/entropy",
                "losses/approx_kl", "losses/clipfrac", "losses/explained_variance"):  # fmt: skip
        assert len(scalars[tag]) == 2, tag
    assert scalars["charts/learning_rate"][1] == pytest.approx(2.5e-4 / 2)
    (agent,) = A.load_policy(torch.load(str(run / "br.pt"), weights_only=True))
    returns = A.main(A.Args(env_id=BREAKOUT, eval_checkpoint=str(run / "br.pt"), eval_episodes=1, exp_name="br"))
    assert len(returns) == 1 and read_scalars(only_run(tmp_path, "-eval"))["eval/episodic_return"] == pytest.approx(returns)
    assert A.evaluate(agent, BREAKOUT, 1, seed=A.Args().seed) == returns  # the saved weights, evaluated again


def test_a_seed_beyond_ale_pys_int32_trains_resumes_and_evaluates(tmp_path, monkeypatch):
    """--seed takes numpy's range, [0, 2**32); ale-py's vector env takes int32 seeds (each env's is seed + its index)."""
    monkeypatch.chdir(tmp_path)
    args = dict(env_id=BREAKOUT, num_envs=2, num_steps=64, num_minibatches=2, update_epochs=1, seed=2**32 - 1, exp_name="top")
    A.main(A.Args(**args, total_timesteps=128))
    checkpoint = str(only_run(tmp_path, "top__") / "top.pt")
    A.main(A.Args(**args, total_timesteps=256, resume=checkpoint))  # reseeds the games from --seed and the step
    assert torch.load(checkpoint, weights_only=True)["training"]["global_step"] == 256
    assert len(A.main(A.Args(env_id=BREAKOUT, eval_checkpoint=checkpoint, eval_episodes=1, seed=2**32 - 1))) == 1


@pytest.mark.parametrize(
    "kw, expected",
    [
        (dict(env_id="Breakout-v4"), "skips 4 frames itself: pass --env-id BreakoutNoFrameskip-v4 (or ALE/..-v5)"),
        (dict(env_id="MsPacman-v4"), "pass --env-id MsPacmanNoFrameskip-v4"),
        (dict(env_id="CartPole-v1"), "CartPole-v1 is not an Atari game: pass --env-id e.g. BreakoutNoFrameskip-v4"),
        (dict(env_id="Breakout", eval_checkpoint="x.pt"), "did you mean"),
        (dict(env_id="BreakoutNoFrameskip-v9"), "did you mean BreakoutNoFrameskip-v4"),
        (dict(num_minibatches=3), "does not split into 3 minibatches: pick a --num-minibatches that divides 1024"),
        (dict(eval_checkpoint="missing.pt"), "no checkpoint at 'missing.pt'"),
    ],
)
def test_bad_input_one_line_exit_2(kw, expected, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        A.main(A.Args(**kw))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and expected in err[0], err


def test_checkpoint_from_another_script_is_refused(tmp_path):
    import ppo_discrete as D

    write_checkpoint(D, tmp_path / "d.pt", D.Agent(4, 2), "CartPole-v1")
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "ppo_atari.py"), "--eval-checkpoint", "d.pt"], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    lines = [line for line in proc.stderr.strip().splitlines() if not line.startswith(("A.L.E", "[Powered"))]
    assert proc.returncode == 2 and len(lines) == 1, lines
    assert "was saved by ppo_discrete.py: evaluate it with `python ppo_discrete.py --eval-checkpoint d.pt`" in lines[0]


def test_capture_video_records_the_first_games_of_env_0(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    A.main(A.Args(env_id=BREAKOUT, num_envs=2, num_steps=256, num_minibatches=2, update_epochs=1, total_timesteps=1024, capture_video=True, exp_name="vid"))
    (folder,) = (tmp_path / "videos").glob("*vid*")
    videos = sorted(p.name for p in folder.glob("*.mp4"))
    assert videos[:2] == ["rl-video-episode-0.mp4", "rl-video-episode-1.mp4"] and all((folder / v).stat().st_size > 1000 for v in videos)
    assert "rl-video-episode-2.mp4" not in videos  # games 2-7 are not on RecordVideo's schedule

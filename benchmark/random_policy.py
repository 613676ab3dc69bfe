"""Mean episodic return of the uniform random policy: the zero of the paper's Table 1 score.

    python benchmark/random_policy.py --env-ids Hopper-v4 Swimmer-v4 --episodes 100
    python benchmark/random_policy.py --env-ids BreakoutNoFrameskip-v4 \
        --atari-stack benchmark/baselines/cleanrl_ppo_atari.py   # after python benchmark/baselines/fetch.py

Prints a JSON object {env_id: mean return} for benchmark/reference.json's "random_policy". Atari ids
play whole games (all lives, raw rewards, one action per 4 frames) on ppo_atari.py's environments; with
--atari-stack, also on that script's wrapper stack (make_env(env_id, idx, capture_video, run_name), as
CleanRL's), to compare the two stacks.
"""

import importlib
import importlib.util
import json
import os
import sys

import ale_py
import gymnasium as gym
import numpy as np

from report import OneLineParser, fail  # beside this file: one-line errors, as every tool here

gym.register_envs(ale_py)  # the ALE's ids join gymnasium's registry


def random_return(env_id, episodes, seed):
    env = gym.make(env_id)
    env.action_space.seed(seed)
    returns = []
    for episode in range(episodes):
        env.reset(seed=seed + episode)
        total, done = 0.0, False
        while not done:
            _, reward, terminated, truncated, _ = env.step(env.action_space.sample())
            total += float(reward)
            done = terminated or truncated
        returns.append(total)
    env.close()
    return float(np.mean(returns))


def random_atari_games(env_id, games, seed, stack_script=None):
    """(mean return, mean length in agent steps) of random whole games on 8 envs."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    import ppo_atari

    script = stack_script or os.path.join(root, "ppo_atari.py")
    sys.path.insert(0, os.path.dirname(os.path.abspath(script)))  # CleanRL's imports its wrappers from beside it
    spec = importlib.util.spec_from_file_location("stack", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if stack_script is None:
        envs = module.make_envs(env_id, 8)
    else:
        thunks = [module.make_env(env_id, i, False, "random") for i in range(8)]
        envs = gym.vector.SyncVectorEnv(thunks, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)
    envs.reset(seed=seed)
    rng, stats, ended = np.random.default_rng(seed), ppo_atari.GameStats(8), []
    while len(ended) < games:
        _, reward, terminated, truncated, infos = envs.step(rng.integers(0, envs.single_action_space.n, 8))
        if stack_script is None:  # the env's terminated is the game's end
            ended += stats.update(reward, terminated | truncated)
        elif "final_info" in infos and "episode" in infos["final_info"]:  # RecordEpisodeStatistics: whole games
            episode = infos["final_info"]["episode"]
            ended += [(episode["r"][i], episode["l"][i]) for i in np.nonzero(infos["final_info"]["_episode"])[0]]
    envs.close()
    returns, lengths = np.array(ended[:games], float).T
    return float(np.mean(returns)), float(np.mean(lengths))


def check_env_id(env_id):
    """A registered id, or `module:EnvId` (module imported first); else one line."""
    module, _, name = env_id.rpartition(":")
    try:
        if module:
            importlib.import_module(module)
        gym.spec(name)
    except Exception as e:
        first = (str(e).splitlines() or [""])[0]
        fail(f"--env-ids {env_id}: not an env this machine can make ({type(e).__name__}: {first})")
    return name


if __name__ == "__main__":
    parser = OneLineParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-ids", nargs="+", required=True)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--atari-stack", default=None, help="also play Atari games on this script's wrapper stack")
    args = parser.parse_args()
    if not 1 <= args.episodes <= 10**6:
        fail(f"--episodes {args.episodes}: must be from 1 to 1000000")
    top = 2**31 - 1 - max(args.episodes, 8)  # episode i, or Atari's env i of 8, is seeded seed + i; ale-py's are int32s
    if not 0 <= args.seed <= top:
        fail(f"--seed {args.seed}: must be a whole number from 0 to {top}, as ale-py's seeds are below 2**31")
    if args.atari_stack is not None and not os.path.isfile(args.atari_stack):
        fail(f"--atari-stack {args.atari_stack}: no such file; CleanRL's ppo_atari.py is "
             "benchmark/baselines/cleanrl_ppo_atari.py, after python benchmark/baselines/fetch.py")
    results = {}
    for env_id in [check_env_id(env_id) for env_id in args.env_ids]:
        if gym.spec(env_id).entry_point == "ale_py.env:AtariEnv":
            ret, length = random_atari_games(env_id, args.episodes, args.seed)
            results[env_id] = round(ret, 2)
            print(f"{env_id}, ppo_atari.py's envs: return {ret:.2f}, {length:.0f} agent steps a game", file=sys.stderr)
            if args.atari_stack:
                # CleanRL's episode length counts frames, so only the return is kept
                ret, _ = random_atari_games(env_id, args.episodes, args.seed, args.atari_stack)
                print(f"{env_id}, {args.atari_stack}: return {ret:.2f}", file=sys.stderr)
        else:
            results[env_id] = round(random_return(env_id, args.episodes, args.seed), 2)
    print(json.dumps(results, indent=1))

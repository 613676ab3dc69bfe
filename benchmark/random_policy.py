"""Mean episodic return of the uniform random policy: the zero of the paper's Table 1 score.

    python benchmark/random_policy.py --env-ids Hopper-v4 Swimmer-v4 --episodes 100

Prints a JSON object {env_id: mean return} for benchmark/reference.json's "random_policy".
"""

import argparse
import json

import gymnasium as gym
import numpy as np


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


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env-ids", nargs="+", required=True)
    parser.add_argument("--episodes", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    print(json.dumps({env_id: round(random_return(env_id, args.episodes, args.seed), 2) for env_id in args.env_ids}, indent=1))

"""TRPO for continuous actions (MuJoCo), single file.

Trust Region Policy Optimization (Schulman et al. 2015, arXiv 1502.05477): the rollout, GAE, normalisation
and networks of ppo_continuous.py, with PPO's minibatch epochs replaced by one constrained policy step per
iteration: maximise E[r_t(theta) A_t] subject to E[KL(pi_old || pi)] <= delta, solved with conjugate gradient
on damped Fisher-vector products, (F + lambda I) v, and a backtracking line search. The value function is
fitted separately with Adam. `diff ppo_continuous.py trpo_continuous.py` shows the policy update and little else.

Defaults that differ from the paper or from sb3-contrib's TRPO (CleanRL has no TRPO). The rest are
sb3-contrib's: delta 0.01 (the paper's too), damping 0.1, line search 0.8 x 10 tries, the critic's Adam 1e-3
for 10 epochs of 128 samples, initial log-std 0, truncations bootstrapped. "-": the paper does not say.

what          | ours                                 | paper            | sb3-contrib    | why
--------------+--------------------------------------+------------------+----------------+-------------------------
advantages    | GAE, lambda 0.95, with a critic      | Monte Carlo Q    | as ours        | sb3-contrib's; GAE came
              | fitted by Adam                       | estimates        |                | later (Schulman et al.
              |                                      |                  |                | 2016)
CG iterations | 10                                   | not checked      | 15             | Spinning Up's,
              |                                      |                  |                | openai/baselines'
observations  | normalised by running mean and std,  | not checked      | raw            | as ppo_continuous.py:
              | clipped to [-10, 10]                 |                  |                | their diff is the policy
              |                                      |                  |                | update
rewards       | scaled by the running std of the     | not checked      | raw            | as ppo_continuous.py
              | discounted return, clipped to [-10,  |                  |                |
              | 10]; --no-scale-reward: raw          |                  |                |
device        | the CPU; --cuda: the GPU             | -                | the GPU if any | the CPU is faster for
              |                                      |                  |                | 64-unit networks

Above the fence line: Args, the env, the network, the algorithm's pieces and main's loop (collect, estimate,
optimise, log). Below it: this script's own part of run management; the rest is run_management.py.

    python trpo_continuous.py --env-id HalfCheetah-v4
    python trpo_continuous.py --resume runs/<run_name>/trpo_continuous.pt    # continue a stopped run where it was
    python trpo_continuous.py --env-id HalfCheetah-v4 --eval-checkpoint runs/<run_name>/trpo_continuous.pt
"""

import run_management  # first: a Ctrl-C during the slow imports below then ends in one line

import os
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Optional

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parameters_to_vector, vector_to_parameters


@dataclass
class Args:
    # Defaults: those that differ from the paper or from sb3-contrib's TRPO are in the module docstring's table
    env_id: str = "HalfCheetah-v4"
    """the id of the environment"""
    total_timesteps: int = 1000000
    """total timesteps of the experiment (--resume: a larger one extends the run)"""
    num_envs: int = 1
    """the number of parallel game environments (actors N)"""
    num_steps: int = 2048
    """the number of steps to run in each environment per policy rollout (horizon T)"""
    gamma: float = 0.99
    """the discount factor gamma"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    bootstrap_truncation: bool = True
    """bootstrap a time-limit truncation with gamma * V(final observation); with --no-bootstrap-truncation a
    truncation zeroes the bootstrap as a termination does (CleanRL's and openai/baselines' rule)"""
    scale_reward: bool = True
    """scale rewards by the running std of the discounted return, clipped to [-10, 10], as ppo_continuous.py does;
    sb3-contrib's TRPO trains on raw rewards (--no-scale-reward)"""
    norm_adv: bool = True
    """toggles advantages normalization (over the whole batch)"""
    init_logstd: float = 0.0
    """the policy's initial log std per action dimension (0: std 1, as sb3-contrib's TRPO; Spinning Up: -0.5).
    Ant-v4 needs -0.5 or -1: at std 1 the noise's control cost is twice the reward for staying up (benchmark/)"""
    max_kl: float = 0.01
    """delta: the trust region's radius, the largest mean KL[pi_old || pi] a policy step may take"""
    cg_iters: int = 10
    """conjugate gradient iterations for (F + damping I) x = g"""
    cg_damping: float = 0.1
    """damping added to the Fisher-vector products, (F + damping I) v"""
    backtrack_coef: float = 0.8
    """the line search shrinks the step by this factor per try"""
    backtrack_iters: int = 10
    """the line search's tries before it keeps the old policy"""
    vf_learning_rate: float = 1e-3
    """the Adam step size of the value function"""
    vf_epochs: int = 10
    """epochs of value-function fitting per iteration"""
    vf_num_minibatches: int = 16
    """the number of value-function mini-batches (2048 / 16 = 128 samples)"""

    # Running the experiment
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, `torch.backends.cudnn.deterministic=True`"""
    cuda: bool = False
    """if toggled, use the GPU when one is present (the default CPU is faster for these small networks)"""
    track: bool = False
    """if toggled, log to Weights and Biases (WANDB_MODE=offline works without an account)"""
    wandb_project_name: str = "ppo-trpo-reference"
    """the wandb project name"""
    wandb_entity: Optional[str] = None
    """the entity (team) of wandb's project"""
    capture_video: bool = False
    """if toggled, record videos of the agent's episodes into videos/{run_name}"""
    checkpoint_every: int = 100
    """write the full training state to runs/{run_name}/{exp_name}.pt every N iterations (0: only at the end
    with --save-model, or when stopped); 100 iterations are a few minutes of a MuJoCo or Atari run"""
    save_model: bool = False
    """if toggled, write the checkpoint runs/{run_name}/{exp_name}.pt at the end even with --checkpoint-every 0"""
    resume: Optional[str] = None
    """continue the run saved in this checkpoint (runs/{run_name}/{exp_name}.pt) where it stopped"""
    eval_checkpoint: Optional[str] = None
    """if set, do not train: load this checkpoint and evaluate it with the mean action"""
    eval_episodes: int = 10
    """number of episodes for --eval-checkpoint"""



def make_env(env_id, idx, capture_video, run_name):
    def thunk():
        if capture_video and idx == 0:
            env = gym.make(env_id, render_mode="rgb_array")
            env = gym.wrappers.RecordVideo(env, f"videos/{run_name}")
        else:
            env = gym.make(env_id)
        return env

    return thunk


class RunningMeanStd:
    """Running mean and variance of a stream of batches (parallel algorithm of Chan et al.)."""

    def __init__(self, shape=(), epsilon=1e-4):
        self.mean = np.zeros(shape, np.float64)
        self.var = np.ones(shape, np.float64)
        self.count = epsilon

    def update(self, x):
        # a batch of one row (one env) has that row as its mean and no variance: the same numbers, no reductions
        batch_mean, batch_var = (x[0], 0.0) if x.shape[0] == 1 else (x.mean(axis=0), x.var(axis=0))
        batch_count = x.shape[0]
        delta = batch_mean - self.mean
        total = self.count + batch_count
        self.mean = self.mean + delta * batch_count / total
        m2 = self.var * self.count + batch_var * batch_count + delta**2 * self.count * batch_count / total
        self.var = m2 / total
        self.count = total

    def state_dict(self):
        return {"mean": torch.tensor(self.mean), "var": torch.tensor(self.var), "count": self.count}

    def load_state_dict(self, state):
        self.mean, self.var, self.count = state["mean"].numpy(), state["var"].numpy(), state["count"]


def normalize_obs(obs, obs_rms, clip=10.0, epsilon=1e-8):
    """Observation normalisation with the running statistics, clipped to [-clip, clip]."""
    return ((obs - obs_rms.mean) / np.sqrt(obs_rms.var + epsilon)).clip(-clip, clip).astype(np.float32)


def scale_reward(reward, discounted_return, return_rms, gamma, dones, clip=10.0, epsilon=1e-8):
    """Reward scaling by the running std of the discounted return (updated in place), clipped. reward,
    discounted_return, dones: [N]. The return accumulator restarts after every episode end, truncations
    included (gymnasium's NormalizeReward restarts it only after a termination; the HalfCheetah
    investigation, benchmark/notes/halfcheetah.md, measures both rules)."""
    discounted_return[:] = discounted_return * gamma + reward
    return_rms.update(discounted_return)
    scaled = (reward / np.sqrt(return_rms.var + epsilon)).clip(-clip, clip)
    discounted_return[dones] = 0.0
    return scaled


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class MLP(nn.Module):
    """64-64 tanh network with orthogonal init: gain sqrt(2) on hidden layers, out_std on the output."""

    def __init__(self, in_dim, out_dim, out_std):
        super().__init__()
        self.layers = nn.ModuleList(
            [layer_init(nn.Linear(in_dim, 64)), layer_init(nn.Linear(64, 64)),
             layer_init(nn.Linear(64, out_dim), std=out_std)]
        )

    def forward(self, x):
        # F.linear on the layers' parameters skips nn.Module's per-call machinery: on a 64-unit network
        # that machinery costs more than the matrix products themselves.
        hidden1, hidden2, output = self.layers
        x = torch.tanh(F.linear(x, hidden1.weight, hidden1.bias))
        x = torch.tanh(F.linear(x, hidden2.weight, hidden2.bias))
        return F.linear(x, output.weight, output.bias)


class Agent(nn.Module):
    def __init__(self, obs_dim, act_dim, init_logstd=0.0):
        super().__init__()
        self.critic = MLP(obs_dim, 1, out_std=1.0)
        self.actor_mean = MLP(obs_dim, act_dim, out_std=0.01)
        self.actor_logstd = nn.Parameter(torch.full((1, act_dim), float(init_logstd)))

    def get_value(self, x):
        return self.critic(x).squeeze(-1)

    def get_action_and_value(self, x, action):
        """Scores actions taken in the rollout (sampled there from a numpy copy of the actor): returns the
        action [B, A], its log-probability [B], entropy [B], value [B] and the mean [B, A]."""
        mean = self.actor_mean(x)
        logprob = gaussian_log_prob(mean, self.actor_logstd, action)
        entropy = gaussian_entropy(self.actor_logstd).expand(x.shape[0])
        return action, logprob, entropy, self.get_value(x), mean


def mlp_to_numpy(mlp):
    """A numpy copy of a policy network for the rollout, where pi_old is frozen: on one observation a
    numpy forward pass costs a fifth of torch's. Returns [(W^T, b)] per layer."""
    return [(layer.weight.detach().cpu().numpy().T, layer.bias.detach().cpu().numpy()) for layer in mlp.layers]


def numpy_mlp(layers, x):
    """The MLP's output, as MLP.forward computes it: [B, in] -> [B, out]."""
    (w1, b1), (w2, b2), (w3, b3) = layers
    return np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2) @ w3 + b3


def gaussian_log_prob(mean, logstd, action):
    """log N(action; mean, exp(logstd)^2), summed over action dimensions: [B, A] -> [B]."""
    return (-0.5 * ((action - mean) / logstd.exp()) ** 2 - logstd - 0.5 * np.log(2 * np.pi)).sum(-1)


def gaussian_entropy(logstd):
    """Entropy of a diagonal Gaussian, summed over action dimensions: [1, A] -> [1]."""
    return (logstd + 0.5 * np.log(2 * np.pi * np.e)).sum(-1)


def gaussian_kl(mean_old, logstd_old, mean, logstd):
    """KL[N_old || N], exact, summed over action dimensions: [B, A] -> [B]."""
    var_old, var = torch.exp(2 * logstd_old), torch.exp(2 * logstd)
    return (logstd - logstd_old + (var_old + (mean_old - mean) ** 2) / (2 * var) - 0.5).sum(-1)


def compute_gae(rewards, values, next_values, terminations, dones, gamma, gae_lambda):
    """GAE over the T-step rollout (the paper's eq. 11-12, cut at the rollout's end); inputs: [T, N] arrays.

    next_values[t] is V of the state reached by step t: the final observation when step t ended an
    episode, so a truncated step bootstraps with gamma * V(final obs); terminations[t] zeroes that
    bootstrap; dones[t] (termination or truncation) stops the sum from running into the next episode.
    Returns advantages and value targets (advantages + values), both [T, N]."""
    deltas = rewards + gamma * next_values * (1.0 - terminations) - values  # delta_t, eq. 12
    advantages = np.zeros_like(rewards)
    lastgaelam = np.zeros_like(rewards[0])
    for t in reversed(range(rewards.shape[0])):
        lastgaelam = deltas[t] + gamma * gae_lambda * (1.0 - dones[t]) * lastgaelam  # eq. 11
        advantages[t] = lastgaelam
    return advantages, advantages + values


def flat_grad(y, params, create_graph=False, retain_graph=None):
    """dy/dparams as one flat vector [P]."""
    grads = torch.autograd.grad(y, params, create_graph=create_graph, retain_graph=retain_graph)
    return torch.cat([g.reshape(-1) for g in grads])


def fisher_vector_product(grad_kl, params, v, damping):
    """(F + damping I) v, F the Hessian at theta_old of the mean KL[pi_old || pi_theta] (pi_old held fixed), by
    double backprop through grad_kl, the KL's gradient with its graph (create_graph=True): F is never formed, and
    the graph is kept for the next product. v: [P] -> [P]."""
    return flat_grad(grad_kl @ v, params, retain_graph=True) + damping * v


def conjugate_gradient(matrix_vector_product, b, iters, residual_tol=1e-10):
    """Solves A x = b for symmetric positive-definite A, given only through v -> A v. b: [P] -> x: [P]."""
    x = torch.zeros_like(b)
    r, p = b.clone(), b.clone()  # residual b - A x, search direction
    rr = r @ r
    for _ in range(iters):
        Ap = matrix_vector_product(p)
        alpha = rr / (p @ Ap)
        x += alpha * p
        r -= alpha * Ap
        rr_new = r @ r
        if rr_new < residual_tol:
            break
        p = r + (rr_new / rr) * p
        rr = rr_new
    return x


def line_search(objective, old_params, full_step, max_kl, backtrack_coef, backtrack_iters):
    """Backtracking line search on theta_old + backtrack_coef^i * full_step, i = 0, 1, ...; objective(theta) ->
    (surrogate, mean KL) at the flat parameters theta. The first step whose KL is <= max_kl and whose surrogate
    improves is accepted: returns (theta, surrogate improvement, KL, i, True); when no step qualifies,
    (theta_old, 0, 0, backtrack_iters, False)."""
    surrogate_old, _ = objective(old_params)
    for i in range(backtrack_iters):
        params = old_params + backtrack_coef**i * full_step
        surrogate, kl = objective(params)
        if kl <= max_kl and surrogate > surrogate_old:
            return params, float(surrogate - surrogate_old), float(kl), i, True
    return old_params, 0.0, 0.0, backtrack_iters, False


def trpo_objective(agent, obs, actions, old_logprobs, old_means, old_logstd, advantages):
    """The TRPO problem (TRPO paper eq. 14) as a function of the policy's parameters alone: theta [P] (the actor's
    weights, then its log-std, flattened as parameters_to_vector orders them) -> (L(theta) = E[r_t(theta) A_t],
    mean KL[pi_old || pi_theta]). functional_call runs the actor at theta, so the agent never changes."""
    named = list(agent.actor_mean.named_parameters())
    sizes = [p.numel() for _, p in named] + [agent.actor_logstd.numel()]

    def objective(theta):
        *chunks, logstd = theta.split(sizes)
        weights = {name: chunk.view_as(p) for (name, p), chunk in zip(named, chunks)}
        mean = torch.func.functional_call(agent.actor_mean, weights, (obs,))
        logstd = logstd.view_as(agent.actor_logstd)
        ratio = torch.exp(gaussian_log_prob(mean, logstd, actions) - old_logprobs)  # r_t(theta)
        return (ratio * advantages).mean(), gaussian_kl(old_means, old_logstd, mean, logstd).mean()

    return objective


def trpo_step(objective, old_params, max_kl, cg_iters, cg_damping, backtrack_coef, backtrack_iters):
    """One TRPO policy step (TRPO paper, Appendix C), a pure function of its inputs.

    objective: theta [P] -> (L(theta), mean KL[pi_old || pi_theta]), differentiable (trpo_objective).
    The natural gradient x = (F + lambda I)^-1 g comes from CG on damped products (lambda = cg_damping),
    scaled so that the damped quadratic model of the KL, 1/2 s^T (F + lambda I) s, equals delta = max_kl at
    the full step s; the line search then shrinks s until the true KL is within delta and L improves.
    Returns line_search's (theta_new, improvement, KL, i, accepted)."""
    theta = old_params.detach().requires_grad_(True)
    g = flat_grad(objective(theta)[0], [theta])
    grad_kl = flat_grad(objective(theta)[1], [theta], create_graph=True)  # built once for all of CG's products

    def fvp(v):
        return fisher_vector_product(grad_kl, [theta], v, cg_damping)

    step_dir = conjugate_gradient(fvp, g, cg_iters)  # x = (F + lambda I)^-1 g
    # s = x sqrt(2 delta / x^T (F + lambda I) x)
    full_step = torch.sqrt(2 * max_kl / (step_dir @ fvp(step_dir))) * step_dir
    with torch.no_grad():
        return line_search(objective, old_params.detach(), full_step, max_kl, backtrack_coef, backtrack_iters)


def main(args):
    run = run_management.Run(args)  # checks the flags and the env, names the run (--resume: the saved one)
    if args.eval_checkpoint:
        return run.evaluate()  # --eval-checkpoint: no training
    args.batch_size = int(args.num_envs * args.num_steps)
    args.minibatch_size = int(args.batch_size // args.vf_num_minibatches)
    args.num_iterations = args.total_timesteps // args.batch_size

    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)  # exploration noise of the rollout
    torch.backends.cudnn.deterministic = args.torch_deterministic
    torch.set_num_threads(1)
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")

    envs = gym.vector.SyncVectorEnv(
        [make_env(args.env_id, i, args.capture_video, run.name) for i in range(args.num_envs)],
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,  # the final observation arrives in info
        copy=False,  # each step's observations are normalised into a new array before the next step reuses these
    )
    next_obs_raw, _ = run.reset(envs)  # seeded by --seed (--resume: see run_management)
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    act_dim = int(np.prod(envs.single_action_space.shape))

    agent = Agent(obs_dim, act_dim, args.init_logstd).to(device)
    # fused=True: one kernel for all parameters, 4x faster than the default per-tensor loop on the CPU
    optimizer = torch.optim.Adam(agent.critic.parameters(), lr=args.vf_learning_rate, eps=1e-5, fused=True)
    action_low, action_high = envs.single_action_space.low, envs.single_action_space.high

    # Rollout storage (numpy: a write per step costs far less than into a torch tensor)
    obs = np.zeros((args.num_steps, args.num_envs, obs_dim), np.float32)
    bootstrap_obs = np.zeros((args.num_steps, args.num_envs, obs_dim), np.float32)  # s_{t+1} (final obs at an end)
    actions = np.zeros((args.num_steps, args.num_envs, act_dim), np.float32)
    rewards = np.zeros((args.num_steps, args.num_envs), np.float32)
    terminations = np.zeros((args.num_steps, args.num_envs), np.float32)
    dones = np.zeros((args.num_steps, args.num_envs), np.float32)

    # Normalisation state, episode statistics
    obs_rms, return_rms = RunningMeanStd(obs_dim), RunningMeanStd()
    discounted_return = np.zeros(args.num_envs)
    episode_return, episode_length = np.zeros(args.num_envs), np.zeros(args.num_envs, dtype=np.int64)
    recent_returns = deque(maxlen=10)

    obs_rms.update(next_obs_raw)
    # What a checkpoint holds; --resume puts each back as it was at the end of the saved iteration
    last_iteration, global_step = run.keep(
        iteration=0, global_step=0, model=agent, optimizer=optimizer, obs_rms=obs_rms,
        return_rms=return_rms, discounted_return=discounted_return, recent_returns=recent_returns, rng=rng,
    )
    next_obs = normalize_obs(next_obs_raw, obs_rms)
    writer = run.start(envs)  # runs/{run.name}: the tensorboard log, and the checkpoint
    start_time, start_step = time.time(), global_step

    with run:  # a Ctrl-C or SIGTERM ends the run at its next run.check(); leaving saves the last iteration
        for iteration in range(last_iteration + 1, args.num_iterations + 1):
            # Collect: N actors x T steps with pi_old
            actor_layers, actor_std = mlp_to_numpy(agent.actor_mean), agent.actor_logstd.detach().exp().cpu().numpy()
            for step in range(args.num_steps):
                run.check()
                global_step += args.num_envs
                obs[step] = next_obs
                mean = numpy_mlp(actor_layers, next_obs)
                # a ~ pi_old(.|s) = N(mean, std^2): the numpy copy computes the same mean as the torch actor that
                # scores a in the loss, and std = exp(actor_logstd), so both describe one Gaussian
                action = mean + actor_std * rng.standard_normal(mean.shape, dtype=np.float32)
                actions[step] = action

                # The sampled action is stored and scored; only the env sees it clipped to the bounds.
                next_obs_raw, reward, terminated, truncated, infos = envs.step(action.clip(action_low, action_high))
                done = terminated | truncated
                rewards[step] = reward
                if args.scale_reward:
                    rewards[step] = scale_reward(reward, discounted_return, return_rms, args.gamma, done)
                terminations[step], dones[step] = (terminated if args.bootstrap_truncation else done), done
                obs_rms.update(next_obs_raw)
                next_obs = normalize_obs(next_obs_raw, obs_rms)
                bootstrap_obs[step] = next_obs

                episode_return += reward
                episode_length += 1
                if done.any():
                    # SAME_STEP autoreset: next_obs already starts the new episode; s_{t+1} is in final_obs
                    bootstrap_obs[step, done] = normalize_obs(np.stack(infos["final_obs"][done]), obs_rms)
                    for i in np.nonzero(done)[0]:
                        recent_returns.append(episode_return[i])
                        writer.add_scalar("charts/episodic_return", episode_return[i], global_step)
                        writer.add_scalar("charts/episodic_length", episode_length[i], global_step)
                    episode_return[done], episode_length[done] = 0.0, 0

            # Estimate: pi_old was fixed during the rollout, so log pi_old(a|s), V(s_t) and V(s_{t+1})
            # come from one batched forward pass here rather than a small one per step.
            b_obs = torch.as_tensor(obs.reshape(-1, obs_dim), device=device)
            b_actions = torch.as_tensor(actions.reshape(-1, act_dim), device=device)
            with torch.no_grad():
                _, b_logprobs, _, b_values, b_means = agent.get_action_and_value(b_obs, b_actions)
                next_values = agent.get_value(torch.as_tensor(bootstrap_obs.reshape(-1, obs_dim), device=device))
            old_logstd = agent.actor_logstd.detach().clone()
            shape = (args.num_steps, args.num_envs)
            advantages, returns = compute_gae(
                rewards, b_values.cpu().numpy().reshape(shape), next_values.cpu().numpy().reshape(shape),
                terminations, dones, args.gamma, args.gae_lambda,
            )  # fmt: skip

            # Optimise: one trust-region policy step, then the value function
            b_advantages = torch.as_tensor(advantages.reshape(-1), device=device)
            b_returns = torch.as_tensor(returns.reshape(-1), device=device)

            # Policy step: maximise L(theta) = E[r_t(theta) A_t] subject to E[KL(pi_old || pi)] <= delta
            if args.norm_adv:
                b_advantages = (b_advantages - b_advantages.mean()) / (b_advantages.std() + 1e-8)
            policy_params = [*agent.actor_mean.parameters(), agent.actor_logstd]
            objective = trpo_objective(agent, b_obs, b_actions, b_logprobs, b_means, old_logstd, b_advantages)
            new_params, improvement, kl, backtracks, accepted = trpo_step(
                objective, parameters_to_vector(policy_params), args.max_kl, args.cg_iters, args.cg_damping,
                args.backtrack_coef, args.backtrack_iters,
            )
            vector_to_parameters(new_params, policy_params)  # the one place the policy changes

            # Value function: its own Adam epochs on the returns
            for epoch in range(args.vf_epochs):
                b_inds = torch.randperm(args.batch_size, device=device)
                for start in range(0, args.batch_size, args.minibatch_size):
                    run.check()
                    mb_inds = b_inds[start : start + args.minibatch_size]
                    v_loss = 0.5 * ((agent.get_value(b_obs[mb_inds]) - b_returns[mb_inds]) ** 2).mean()
                    optimizer.zero_grad()
                    v_loss.backward()
                    optimizer.step()
            run.end_iteration((v_loss, improvement), iteration=iteration, global_step=global_step)

            # Log
            y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
            var_y = np.var(y_true)
            explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
            sps = int((global_step - start_step) / (time.time() - start_time))
            writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
            writer.add_scalar("losses/entropy", gaussian_entropy(agent.actor_logstd).item(), global_step)
            writer.add_scalar("losses/kl", kl, global_step)
            writer.add_scalar("losses/surrogate_improvement", improvement, global_step)
            writer.add_scalar("losses/line_search_steps", backtracks, global_step)
            writer.add_scalar("losses/step_accepted", float(accepted), global_step)
            writer.add_scalar("losses/explained_variance", explained_var, global_step)
            writer.add_scalar("charts/SPS", sps, global_step)
            recent = f"{np.mean(recent_returns):.1f}" if recent_returns else "n/a"
            print(f"global_step={global_step} SPS={sps} return(last 10)={recent}")
    return recent_returns


# ==================== Run management: not part of the algorithm; main calls it through Run ====================
# This script's own part (its flags' ranges, the env it takes, its policy evaluated); the rest is run_management.py.
RULES = {  # the ranges of this script's own numeric flags; run_management.RULES has the shared ones
    "a whole number of at least 1": ("cg_iters", "backtrack_iters", "vf_epochs", "vf_num_minibatches"),
    "positive": ("max_kl", "vf_learning_rate"),
    "0 or more": ("cg_damping",),
    "in (0, 1)": ("backtrack_coef",),
}
MAY_CHANGE = set()  # --resume: this script's flags that may differ from the run's own, besides the shared ones
ACTION_SPACE = gym.spaces.Box  # run_management.check_flat_env makes one env and checks its spaces


def load_policy(state):
    """The policy a checkpoint holds, as evaluate() takes it: the agent and its observation statistics."""
    model = state["model"]
    agent = Agent(model["actor_mean.layers.0.weight"].shape[1], model["actor_logstd"].shape[1])
    run_management.restore(agent, model)  # weights of another shape, or not finite, are refused
    obs_rms = RunningMeanStd(agent.actor_mean.layers[0].in_features)
    run_management.restore(obs_rms, state["obs_rms"])  # statistics of another shape are refused
    return agent, obs_rms


def evaluate(agent, obs_rms, env_id, eval_episodes, seed, capture_video=False, run_name="eval"):
    """Episodic returns of the mean action, with the saved normalisation statistics left frozen."""
    def act(obs, space):
        with torch.no_grad():
            mean = agent.actor_mean(torch.as_tensor(normalize_obs(obs[None], obs_rms)))
        return np.clip(mean[0].numpy(), space.low, space.high)

    sizes = (agent.actor_mean.layers[0].in_features, agent.actor_logstd.shape[1])
    return run_management.episodes(make_env, env_id, capture_video, run_name, sizes, act, eval_episodes, seed)


if __name__ == "__main__":
    run_management.cli(Args)

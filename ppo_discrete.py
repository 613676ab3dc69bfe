"""PPO for discrete actions (classic control), single file.

Proximal Policy Optimization (Schulman et al. 2017, arXiv 1707.06347) with a categorical policy, separate
64-64 tanh actor and critic, GAE and minibatch Adam epochs. The paper has no classic-control setting; the
defaults are CleanRL's ppo.py's (4 envs x 128 steps, lr 2.5e-4 x alpha, 4 epochs of 4 minibatches, clip 0.2,
entropy 0.01). The paper's other objectives are one flag away: --loss clip | kl-adaptive | kl-fixed | none.

Defaults that differ from the paper or from CleanRL's ppo.py. alpha: the fraction of training left, 1 -> 0;
"-": the paper does not say; ppo2: openai/baselines' PPO, which CleanRL follows; (notes): measured on a page of
benchmark/notes/.

what              | ours                                 | paper             | CleanRL           | why
------------------+--------------------------------------+-------------------+-------------------+----------------------
value loss        | 0.5 x (0.5 x squared error), V       | squared error, c1 | as ours           | ppo2's
                  | within epsilon of the rollout's V;   | (Atari: 1)        |                   |
                  | --no-clip-vloss: unclipped           |                   |                   |
advantages        | normalised per minibatch             | -                 | as ours           | ppo2's
gradient clipping | to a global norm of 0.5              | -                 | as ours           | ppo2's
Adam epsilon      | 1e-5 (torch's default: 1e-8)         | -                 | as ours           | ppo2's
initial weights   | orthogonal, gain sqrt(2); outputs:   | -                 | as ours           | ppo2's
                  | logits 0.01, value 1                 |                   |                   |
truncation        | at the time limit (CartPole-v1: 500  | -                 | zeroes the        | a time limit is no
                  | steps): bootstrapped with gamma      |                   | bootstrap         | terminal state
                  | V(final observation)                 |                   |                   | (notes)
device            | the CPU; --cuda: the GPU             | -                 | the GPU if any    | the CPU is faster for
                  |                                      |                   |                   | 64-unit networks

Above the fence line: Args, the env, the network, the algorithm's pieces and main's loop (collect, estimate,
optimise, log). Below it: this script's own part of run management; the rest is run_management.py.

    python ppo_discrete.py --env-id CartPole-v1
    python ppo_discrete.py --resume runs/<run_name>/ppo_discrete.pt    # continue a stopped run where it was
    python ppo_discrete.py --env-id CartPole-v1 --eval-checkpoint runs/<run_name>/ppo_discrete.pt
"""

import run_management  # first: a Ctrl-C during the slow imports below then ends in one line

import os
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal, Optional

import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class Args:
    env_id: str = "CartPole-v1"
    """the id of the environment"""
    total_timesteps: int = 500000
    """total timesteps of the experiment (--resume: a larger one extends the run, and the annealed schedules then
    reach 0 at the new total)"""
    learning_rate: float = 2.5e-4
    """the learning rate of the optimizer"""
    num_envs: int = 4
    """the number of parallel game environments (actors N)"""
    num_steps: int = 128
    """the number of steps to run in each environment per policy rollout (horizon T)"""
    anneal_lr: bool = True
    """toggle learning rate annealing (alpha, linear from 1 to 0)"""
    gamma: float = 0.99
    """the discount factor gamma"""
    gae_lambda: float = 0.95
    """the lambda for the general advantage estimation"""
    bootstrap_truncation: bool = True
    """bootstrap a time-limit truncation with gamma * V(final observation); with --no-bootstrap-truncation a
    truncation zeroes the bootstrap as a termination does (CleanRL's and openai/baselines' rule)"""
    num_minibatches: int = 4
    """the number of mini-batches (512 / 4 = 128 samples)"""
    update_epochs: int = 4
    """the K epochs to update the policy"""
    norm_adv: bool = True
    """toggles advantages normalization (per minibatch)"""
    loss: Literal["clip", "kl-adaptive", "kl-fixed", "none"] = "clip"
    """policy objective: clipped surrogate (eq. 7), adaptive or fixed KL penalty (eq. 8), or plain surrogate"""
    clip_coef: float = 0.2
    """the surrogate clipping coefficient epsilon"""
    anneal_clip: bool = False
    """if toggled, anneal epsilon with alpha like the learning rate (the paper's Atari setting); the value loss's
    clip (--clip-vloss) takes the annealed epsilon too"""
    kl_beta: float = 1.0
    """initial KL penalty coefficient beta for --loss kl-adaptive and kl-fixed"""
    kl_adaptive_target: float = 0.01
    """d_targ of --loss kl-adaptive (section 4): beta halves when the KL after an update is below d_targ / 1.5
    and doubles above 1.5 d_targ (not --target-kl, which stops the epochs)"""
    clip_vloss: bool = True
    """toggles a value loss clipped to within epsilon of the rollout's values (openai/baselines' ppo2; not in the
    paper)"""
    ent_coef: float = 0.01
    """coefficient of the entropy bonus c2"""
    vf_coef: float = 0.5
    """coefficient of the value loss; v_loss is 0.5 x the squared error, so eq. 9's c1 is 0.5 x vf_coef"""
    max_grad_norm: float = 0.5
    """the maximum norm for the gradient clipping"""
    target_kl: Optional[float] = None
    """if set, stop the epochs early once approx_kl exceeds it (CleanRL's early stop, in no paper variant)"""

    # Running the experiment
    exp_name: str = os.path.basename(__file__)[: -len(".py")]
    """the name of this experiment"""
    seed: int = 1
    """seed of the experiment"""
    torch_deterministic: bool = True
    """if toggled, `torch.backends.cudnn.deterministic=True`"""
    cuda: bool = False
    """if toggled, use the GPU when one is present (the default CPU is faster for these small networks)"""
    compile: bool = False
    """if toggled, torch.compile the minibatch loss and its backward (LeanRL's flag): faster per update, after
    seconds of compilation at the start; numbers differ from eager at float-rounding level"""
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
    """if set, do not train: load this checkpoint and evaluate it with the greedy action"""
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
    def __init__(self, obs_dim, n_actions):
        super().__init__()
        self.critic = MLP(obs_dim, 1, out_std=1.0)
        self.actor = MLP(obs_dim, n_actions, out_std=0.01)

    def get_value(self, x):
        return self.critic(x).squeeze(-1)

    def get_action_and_value(self, x, action):
        """Scores actions taken in the rollout (sampled there from a numpy copy of the actor): returns the
        action [B], its log-probability [B], entropy [B], value [B] and every action's log-probability [B, A]
        (log_softmax of the actor's logits)."""
        all_logprobs = F.log_softmax(self.actor(x), dim=-1)
        logprob = all_logprobs.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
        entropy = -(all_logprobs.exp() * all_logprobs).sum(-1)
        return action, logprob, entropy, self.get_value(x), all_logprobs


def mlp_to_numpy(mlp):
    """A numpy copy of a policy network for the rollout, where pi_old is frozen: on one observation a
    numpy forward pass costs a fifth of torch's. Returns [(W^T, b)] per layer."""
    return [(layer.weight.detach().cpu().numpy().T, layer.bias.detach().cpu().numpy()) for layer in mlp.layers]


def numpy_mlp(layers, x):
    """The MLP's output, as MLP.forward computes it: [B, in] -> [B, out]."""
    (w1, b1), (w2, b2), (w3, b3) = layers
    return np.tanh(np.tanh(x @ w1 + b1) @ w2 + b2) @ w3 + b3


def categorical_kl(all_logprobs_old, all_logprobs):
    """KL[pi_old || pi] of two categorical distributions given by every action's log-probability: [B, A] -> [B]."""
    return (all_logprobs_old.exp() * (all_logprobs_old - all_logprobs)).sum(-1)


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


def ppo_policy_loss(ratio, advantages, kl, loss, clip_coef, kl_beta):
    """The policy objective to minimise (the negative of the paper's L), a scalar.

    ratio, advantages, kl: [B]; kl = KL[pi_old || pi] per sample (only read by the KL variants).
    """
    if loss == "clip":  # L^CLIP, eq. 7: the min gives no credit for moving r outside [1-eps, 1+eps]
        return -torch.min(ratio * advantages, torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef) * advantages).mean()
    if loss in ("kl-adaptive", "kl-fixed"):  # L^KLPEN, eq. 8
        return -(ratio * advantages - kl_beta * kl).mean()
    return -(ratio * advantages).mean()


def ppo_value_loss(newvalue, oldvalue, returns, clip_coef, clip_vloss):
    """Squared error to the GAE returns, optionally clipped around the rollout's values (ppo2). [B] -> scalar."""
    v_loss_unclipped = (newvalue - returns) ** 2
    if not clip_vloss:
        return 0.5 * v_loss_unclipped.mean()
    v_clipped = oldvalue + torch.clamp(newvalue - oldvalue, -clip_coef, clip_coef)
    return 0.5 * torch.max(v_loss_unclipped, (v_clipped - returns) ** 2).mean()


def ppo_loss(agent, batch, mb_inds, clip_coef, kl_beta, args):
    """eq. 9 on the minibatch mb_inds [M] of the batch (obs, actions, and pi_old's log-probabilities, advantages,
    values, returns and log-probabilities of every action): the loss to minimise, its three terms, and log r_t and
    r_t [M] (detached)."""
    mb_obs, mb_actions, mb_logprobs, mb_advantages, mb_values, mb_returns, mb_all_logprobs = (
        b[mb_inds] for b in batch
    )
    _, newlogprob, entropy, newvalue, new_all_logprobs = agent.get_action_and_value(mb_obs, mb_actions)
    logratio = newlogprob - mb_logprobs
    ratio = logratio.exp()  # r_t(theta)
    if args.norm_adv:
        mb_advantages = (mb_advantages - mb_advantages.mean()) / (mb_advantages.std() + 1e-8)
    kl = categorical_kl(mb_all_logprobs, new_all_logprobs) if args.loss.startswith("kl") else None
    pg_loss = ppo_policy_loss(ratio, mb_advantages, kl, args.loss, clip_coef, kl_beta)
    v_loss = ppo_value_loss(newvalue, mb_values, mb_returns, clip_coef, args.clip_vloss)
    entropy_loss = entropy.mean()
    # eq. 9 (L^{CLIP+VF+S}, or L^KLPEN / L^CPI with --loss): v_loss is already 0.5 x MSE, so the effective c1 of
    # the paper's form is 0.5 x vf_coef = 0.25 at the default
    loss = pg_loss - args.ent_coef * entropy_loss + v_loss * args.vf_coef
    clipfrac = ((ratio.detach() - 1.0).abs() > clip_coef).float().mean()  # the share of r_t clipped
    return loss, pg_loss, v_loss, entropy_loss, logratio.detach(), ratio.detach(), clipfrac


def update_kl_beta(kl_beta, kl, d_targ):
    """Adaptive KL coefficient (section 4): halve beta below d_targ/1.5, double it above 1.5 d_targ."""
    if kl < d_targ / 1.5:
        return kl_beta / 2
    if kl > d_targ * 1.5:
        return kl_beta * 2
    return kl_beta


def main(args):
    run = run_management.Run(args)  # checks the flags and the env, names the run (--resume: the saved one)
    if args.eval_checkpoint:
        return run.evaluate()  # --eval-checkpoint: no training
    args.batch_size = int(args.num_envs * args.num_steps)
    args.minibatch_size = int(args.batch_size // args.num_minibatches)
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
    )
    next_obs, _ = run.reset(envs)  # seeded by --seed (--resume: see run_management)
    obs_dim = int(np.prod(envs.single_observation_space.shape))
    n_actions = int(envs.single_action_space.n)

    agent = Agent(obs_dim, n_actions).to(device)
    # fused=True: one kernel for all parameters, 4x faster than the default per-tensor loop on the CPU
    params = list(agent.parameters())  # listed once: clip_grad_norm_ reads them every minibatch
    optimizer = torch.optim.Adam(params, lr=args.learning_rate, eps=1e-5, fused=True)

    # Rollout storage (numpy: a write per step costs far less than into a torch tensor)
    obs = np.zeros((args.num_steps, args.num_envs, obs_dim), np.float32)
    bootstrap_obs = np.zeros((args.num_steps, args.num_envs, obs_dim), np.float32)  # s_{t+1} (final obs at an end)
    actions = np.zeros((args.num_steps, args.num_envs), np.int64)
    rewards = np.zeros((args.num_steps, args.num_envs), np.float32)
    terminations = np.zeros((args.num_steps, args.num_envs), np.float32)
    dones = np.zeros((args.num_steps, args.num_envs), np.float32)

    # Episode statistics
    episode_return, episode_length = np.zeros(args.num_envs), np.zeros(args.num_envs, dtype=np.int64)
    recent_returns = deque(maxlen=10)

    # What a checkpoint holds; --resume puts each back as it was at the end of the saved iteration
    last_iteration, global_step, kl_beta = run.keep(
        iteration=0, global_step=0, kl_beta=args.kl_beta,
        model=agent, optimizer=optimizer, recent_returns=recent_returns, rng=rng,
    )
    writer = run.start(envs)  # runs/{run.name}: the tensorboard log, and the checkpoint
    start_time, start_step = time.time(), global_step
    # --compile: the minibatch loss traced into one graph and its backward into another, at the first minibatch
    # (clip and beta are then tensors, so that new values reuse the graphs)
    loss_fn, compiling = (torch.compile(ppo_loss), True) if args.compile else (ppo_loss, False)

    with run:  # a Ctrl-C or SIGTERM ends the run at its next run.check(); leaving saves the last iteration
        for iteration in range(last_iteration + 1, args.num_iterations + 1):
            frac = 1.0 - (iteration - 1.0) / args.num_iterations  # alpha, annealed from 1 to 0
            if args.anneal_lr:
                optimizer.param_groups[0]["lr"] = frac * args.learning_rate
            clip_coef = frac * args.clip_coef if args.anneal_clip else args.clip_coef

            # Collect: N actors x T steps with pi_old
            actor_layers = mlp_to_numpy(agent.actor)
            for step in range(args.num_steps):
                run.check()
                global_step += args.num_envs
                obs[step] = next_obs
                logits = numpy_mlp(actor_layers, next_obs)
                # a ~ pi_old(.|s) by Gumbel-max: argmax(logits + Gumbel noise) is a draw from softmax(logits), the
                # categorical that the loss scores with log_softmax of the same logits
                action = (logits + rng.gumbel(size=logits.shape)).argmax(1)
                actions[step] = action

                next_obs, reward, terminated, truncated, infos = envs.step(action)
                done = terminated | truncated
                rewards[step] = reward
                terminations[step], dones[step] = (terminated if args.bootstrap_truncation else done), done
                bootstrap_obs[step] = next_obs

                episode_return += reward
                episode_length += 1
                if done.any():
                    # SAME_STEP autoreset: next_obs already starts the new episode; s_{t+1} is in final_obs
                    bootstrap_obs[step, done] = np.stack(infos["final_obs"][done])
                    for i in np.nonzero(done)[0]:
                        recent_returns.append(episode_return[i])
                        writer.add_scalar("charts/episodic_return", episode_return[i], global_step)
                        writer.add_scalar("charts/episodic_length", episode_length[i], global_step)
                    episode_return[done], episode_length[done] = 0.0, 0

            # Estimate: pi_old was fixed during the rollout, so log pi_old(a|s), V(s_t) and V(s_{t+1})
            # come from one batched forward pass here rather than a small one per step.
            b_obs = torch.as_tensor(obs.reshape(-1, obs_dim), device=device)
            b_actions = torch.as_tensor(actions.reshape(-1), device=device)
            with torch.no_grad():
                _, b_logprobs, _, b_values, b_all_logprobs = agent.get_action_and_value(b_obs, b_actions)
                next_values = agent.get_value(torch.as_tensor(bootstrap_obs.reshape(-1, obs_dim), device=device))
            shape = (args.num_steps, args.num_envs)
            advantages, returns = compute_gae(
                rewards, b_values.cpu().numpy().reshape(shape), next_values.cpu().numpy().reshape(shape),
                terminations, dones, args.gamma, args.gae_lambda,
            )  # fmt: skip

            # Optimise: K epochs of minibatch Adam on the N*T samples
            b_advantages = torch.as_tensor(advantages.reshape(-1), device=device)
            b_returns = torch.as_tensor(returns.reshape(-1), device=device)

            batch = (b_obs, b_actions, b_logprobs, b_advantages, b_values, b_returns, b_all_logprobs)
            coefs = (clip_coef, kl_beta) if not args.compile else (torch.tensor(clip_coef), torch.tensor(kl_beta))
            clipfracs, update_start = [], time.time()
            for epoch in range(args.update_epochs):
                b_inds = torch.randperm(args.batch_size, device=device)
                for start in range(0, args.batch_size, args.minibatch_size):
                    run.check()
                    mb_inds = b_inds[start : start + args.minibatch_size]
                    loss, pg_loss, v_loss, entropy_loss, logratio, ratio, clipfrac = loss_fn(
                        agent, batch, mb_inds, *coefs, args
                    )
                    clipfracs.append(clipfrac)
                    optimizer.zero_grad()
                    loss.backward()
                    nn.utils.clip_grad_norm_(params, args.max_grad_norm)
                    optimizer.step()
                    if compiling:
                        print(f"--compile: compiled the minibatch update in {time.time() - update_start:.1f} s")
                        compiling = False

                old_approx_kl, approx_kl = (-logratio).mean(), ((ratio - 1) - logratio).mean()  # the last minibatch's
                if args.target_kl is not None and approx_kl > args.target_kl:
                    break

            if args.loss == "kl-adaptive":  # d = E_t[KL] after the update, then the beta rule
                with torch.no_grad():
                    new_all_logprobs = F.log_softmax(agent.actor(b_obs), dim=-1)
                    mean_kl = categorical_kl(b_all_logprobs, new_all_logprobs).mean().item()
                kl_beta = update_kl_beta(kl_beta, mean_kl, args.kl_adaptive_target)

            run.end_iteration((pg_loss, v_loss), iteration=iteration, global_step=global_step, kl_beta=kl_beta)

            # Log
            y_pred, y_true = b_values.cpu().numpy(), b_returns.cpu().numpy()
            var_y = np.var(y_true)
            explained_var = np.nan if var_y == 0 else 1 - np.var(y_true - y_pred) / var_y
            sps = int((global_step - start_step) / (time.time() - start_time))
            writer.add_scalar("charts/learning_rate", optimizer.param_groups[0]["lr"], global_step)
            writer.add_scalar("losses/value_loss", v_loss.item(), global_step)
            writer.add_scalar("losses/policy_loss", pg_loss.item(), global_step)
            writer.add_scalar("losses/entropy", entropy_loss.item(), global_step)
            writer.add_scalar("losses/old_approx_kl", old_approx_kl.item(), global_step)
            writer.add_scalar("losses/approx_kl", approx_kl.item(), global_step)
            writer.add_scalar("losses/clipfrac", torch.stack(clipfracs).mean().item(), global_step)
            writer.add_scalar("losses/explained_variance", explained_var, global_step)
            if args.loss.startswith("kl"):
                writer.add_scalar("losses/kl_beta", kl_beta, global_step)
            writer.add_scalar("charts/SPS", sps, global_step)
            recent = f"{np.mean(recent_returns):.1f}" if recent_returns else "n/a"
            print(f"global_step={global_step} SPS={sps} return(last 10)={recent}")
    return recent_returns


# ==================== Run management: not part of the algorithm; main calls it through Run ====================
# This script's own part (its flags' ranges, the env it takes, its policy evaluated); the rest is run_management.py.
RULES = {  # the ranges of this script's own numeric flags; run_management.RULES has the shared ones
    "a whole number of at least 1": ("num_minibatches", "update_epochs"),
    "positive": ("learning_rate", "clip_coef", "kl_adaptive_target", "target_kl", "max_grad_norm"),
    "0 or more": ("kl_beta", "ent_coef", "vf_coef"),
}
MAY_CHANGE = set()  # --resume: this script's flags that may differ from the run's own, besides the shared ones
ACTION_SPACE = gym.spaces.Discrete  # run_management.check_flat_env makes one env and checks its spaces


def load_policy(state):
    """The policy a checkpoint holds, as evaluate() takes it."""
    model = state["model"]
    agent = Agent(model["actor.layers.0.weight"].shape[1], model["actor.layers.2.weight"].shape[0])
    run_management.restore(agent, model)  # weights of another shape, or not finite, are refused
    return (agent,)


def evaluate(agent, env_id, eval_episodes, seed, capture_video=False, run_name="eval"):
    """Episodic returns of the greedy action."""
    def act(obs, space):
        with torch.no_grad():
            return int(agent.actor(torch.as_tensor(obs[None], dtype=torch.float32)).argmax(-1))

    sizes = (agent.actor.layers[0].in_features, agent.actor.layers[2].out_features)
    return run_management.episodes(make_env, env_id, capture_video, run_name, sizes, act, eval_episodes, seed)


if __name__ == "__main__":
    run_management.cli(Args)

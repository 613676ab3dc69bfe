"""PPO for Atari from pixels, single file.

Proximal Policy Optimization (Schulman et al. 2017, arXiv 1707.06347) with a Nature CNN trunk shared by the
policy and value heads, at the paper's Atari settings (Table 5: 8 actors x 128 steps, minibatches of 32 x 8 =
256 samples, Adam 2.5e-4 x alpha, gamma 0.99, lambda 0.95, entropy 0.01) but for three of them, each set as in
CleanRL's ppo_atari.py: the epochs, the value loss's weight and the clip's schedule (the table's first three rows).
--loss picks the paper's objective (clip, kl-adaptive, kl-fixed, none).

The games run in ale-py's AtariVectorEnv (C++ threads, the standard preprocessing: 0-29 no-op frames at the
start of a game, frame skip 4 with a max over the last two frames, 84x84 grayscale, a stack of 4). Training
clips rewards to their sign and ends the training episode at a lost life (a termination; the game goes on).
The env could do both (reward_clipping, on by default, and life_loss_info); the script keeps both off and does
them in main, so that it still sees raw rewards and game overs: reported returns are whole games, raw rewards.
The env presses no FIRE: the agent launches the ball, at a game's start as after a lost life. With --cuda the
rollout stays on the GPU: per step, one copy of the observations in and one of the actions out.

Defaults that differ from Table 5 or from CleanRL's ppo_atari.py. alpha: the fraction of training left, 1 -> 0;
"-": the paper does not say; ppo2: openai/baselines' PPO, which CleanRL follows; (notes): measured on a page of
benchmark/notes/.

what              | ours                                   | paper       | CleanRL            | why
------------------+----------------------------------------+-------------+--------------------+------------------------
epochs K          | 4                                      | 3           | 4                  | CleanRL's, to compare
                  |                                        |             |                    | with it
value loss weight | 0.5 x (0.5 x squared error): c1 = 0.25 | c1 = 1      | as ours            | CleanRL's, to compare
                  |                                        |             |                    | with it
clip epsilon      | 0.1; --anneal-clip: 0.1 x alpha, and   | 0.1 x alpha | 0.1                | a constant one learned
                  | the value clip's epsilon with it       |             |                    | Breakout faster (notes)
value clipping    | V within epsilon of the rollout's V;   | none        | as ours            | ppo2's
                  | --no-clip-vloss: none                  |             |                    |
advantages        | normalised per minibatch               | -           | as ours            | ppo2's
gradient clipping | to a global norm of 0.5                | -           | as ours            | ppo2's
Adam epsilon      | 1e-5 (torch's default: 1e-8)           | -           | as ours            | ppo2's
initial weights   | orthogonal, gain sqrt(2); heads:       | -           | as ours            | ppo2's
                  | policy 0.01, value 1                   |             |                    |
truncation        | at 108,000 frames: bootstrapped with   | -           | zeroes the         | a time limit is no
                  | gamma V(final observation)             |             | bootstrap          | terminal state
FIRE              | the agent's to press                   | -           | pressed at reset   | learned Breakout faster
                  |                                        |             | and after a lost   | than the env's FIRE at
                  |                                        |             | life               | reset (notes)
env stack         | ale-py's AtariVectorEnv (C++ threads)  | -           | Python wrappers    | speed (notes)
device            | the CPU; --cuda: the GPU               | -           | the GPU if any     | GPU runs not yet
                  |                                        |             |                    | measured (notes)

Above the fence line: Args, the env, the network, the algorithm's pieces and main's loop (collect, estimate,
optimise, log). Below it: this script's own part of run management; the rest is run_management.py.

    python ppo_atari.py --env-id BreakoutNoFrameskip-v4
    python ppo_atari.py --resume runs/<run_name>/ppo_atari.pt    # continue a stopped run where it was
    python ppo_atari.py --env-id BreakoutNoFrameskip-v4 --eval-checkpoint runs/<run_name>/ppo_atari.pt
"""

import run_management  # first: a Ctrl-C during the slow imports below then ends in one line

import os
import random
import time
from collections import deque
from dataclasses import dataclass
from typing import Literal, Optional

import ale_py
import ale_py.vector_env
import gymnasium as gym
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from gymnasium.utils.save_video import capped_cubic_video_schedule, save_video

gym.register_envs(ale_py)  # the ALE's ids (BreakoutNoFrameskip-v4, ...) join gymnasium's registry


@dataclass
class Args:
    env_id: str = "BreakoutNoFrameskip-v4"
    """the id of the environment"""
    total_timesteps: int = 10000000
    """total timesteps of the experiment (agent steps; each is 4 frames); --resume: a larger one extends the run,
    and the annealed schedules then reach 0 at the new total"""
    learning_rate: float = 2.5e-4
    """the learning rate of the optimizer (paper Table 5)"""
    num_envs: int = 8
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
    """the number of mini-batches (1024 / 4 = 256 samples)"""
    update_epochs: int = 4
    """the K epochs to update the policy (the paper uses 3, CleanRL 4)"""
    norm_adv: bool = True
    """toggles advantages normalization (per minibatch)"""
    loss: Literal["clip", "kl-adaptive", "kl-fixed", "none"] = "clip"
    """policy objective: clipped surrogate (eq. 7), adaptive or fixed KL penalty (eq. 8), or plain surrogate"""
    clip_coef: float = 0.1
    """the surrogate clipping coefficient epsilon (paper Table 5)"""
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
    """if toggled, run the CNN and keep the rollout buffers on the GPU when one is present"""
    compile: bool = False
    """if toggled, torch.compile the minibatch loss and its backward (LeanRL's flag): faster per update, after
    seconds of compilation at the start; numbers differ from eager at float-rounding level"""
    torch_threads: int = 0
    """torch's CPU threads for the CNN; 0 = torch's default: every core, or OMP_NUM_THREADS (sweep.py sets 1)"""
    num_threads: int = 0
    """threads that step the emulators; 0 = one per core, at most one per env"""
    track: bool = False
    """if toggled, log to Weights and Biases (WANDB_MODE=offline works without an account)"""
    wandb_project_name: str = "ppo-trpo-reference"
    """the wandb project name"""
    wandb_entity: Optional[str] = None
    """the entity (team) of wandb's project"""
    capture_video: bool = False
    """if toggled, record env 0's games as the agent sees them (84x84 gray) into videos/{run_name}"""
    checkpoint_every: int = 100
    """write the full training state to runs/{run_name}/{exp_name}.pt every N iterations (0: only at the end
    with --save-model, or when stopped); 100 iterations are a few minutes of a MuJoCo or Atari run"""
    save_model: bool = False
    """if toggled, write the checkpoint runs/{run_name}/{exp_name}.pt at the end even with --checkpoint-every 0"""
    resume: Optional[str] = None
    """continue the run saved in this checkpoint (runs/{run_name}/{exp_name}.pt) where it stopped"""
    eval_checkpoint: Optional[str] = None
    """if set, do not train: load this checkpoint and evaluate it on whole games (actions sampled from the policy)"""
    eval_episodes: int = 10
    """number of episodes for --eval-checkpoint"""



def make_envs(env_id, num_envs, num_threads=0):
    """ale-py's AtariVectorEnv: the games step in C++ threads, which also do the standard preprocessing
    (0-29 no-op frames at a game's start, frame skip 4 with a max over the last two frames,
    84x84 grayscale, a stack of 4 zero-filled at first, games cut at 108,000 frames as a truncation). The
    id's registration gives the game, the sticky actions (0 for *NoFrameskip-v4, 0.25 for ALE/*-v5) and
    the minimal action set. Rewards stay raw and terminated means game over: main clips rewards for
    training and ends a training episode at each lost life."""
    kw = gym.spec(env_id.rpartition(":")[2]).kwargs  # module:EnvId: Run has imported module
    return ale_py.vector_env.AtariVectorEnv(
        kw["game"], num_envs, num_threads=num_threads,  # 0: one thread per core, at most one per env
        repeat_action_probability=kw["repeat_action_probability"], full_action_space=kw["full_action_space"],
        max_num_frames_per_episode=kw["max_num_frames_per_episode"], reward_clipping=False,
        autoreset_mode=gym.vector.AutoresetMode.SAME_STEP,  # the final observation arrives in info
        noop_max=30, use_fire_reset=False,  # the agent presses FIRE at a game's start too: it learns Breakout faster
    )  # fmt: skip


class GameStats:
    """Whole-game return (raw rewards, all lives) and length in agent steps, per env: the vector env
    reports neither. update() takes one step and returns (return, length) of each game it ended."""

    def __init__(self, num_envs):
        self.returns, self.lengths = np.zeros(num_envs), np.zeros(num_envs, np.int64)

    def update(self, rewards, game_ends):
        self.returns += rewards
        self.lengths += 1
        ended = [(self.returns[i], self.lengths[i]) for i in np.nonzero(game_ends)[0]]
        self.returns[game_ends], self.lengths[game_ends] = 0, 0
        return ended


def layer_init(layer, std=np.sqrt(2), bias_const=0.0):
    torch.nn.init.orthogonal_(layer.weight, std)
    torch.nn.init.constant_(layer.bias, bias_const)
    return layer


class Agent(nn.Module):
    """Nature CNN (Mnih et al. 2015) shared by the policy and value heads; input uint8 [B, 4, 84, 84]."""

    def __init__(self, n_actions):
        super().__init__()
        self.network = nn.Sequential(
            layer_init(nn.Conv2d(4, 32, 8, stride=4)),
            nn.ReLU(),
            layer_init(nn.Conv2d(32, 64, 4, stride=2)),
            nn.ReLU(),
            layer_init(nn.Conv2d(64, 64, 3, stride=1)),
            nn.ReLU(),
            nn.Flatten(),
            layer_init(nn.Linear(64 * 7 * 7, 512)),
            nn.ReLU(),
        )
        self.actor = layer_init(nn.Linear(512, n_actions), std=0.01)
        self.critic = layer_init(nn.Linear(512, 1), std=1)

    def get_value(self, x):
        return self.critic(self.network(x / 255.0)).squeeze(-1)

    def get_action_and_value(self, x, action=None):
        """Returns action [B], its log-probability [B], entropy [B], value [B] and every action's
        log-probability [B, A] (log_softmax of the actor's logits)."""
        hidden = self.network(x / 255.0)  # frames become floats here, one minibatch at a time
        all_logprobs = F.log_softmax(self.actor(hidden), dim=-1)
        if action is None:
            action = torch.multinomial(all_logprobs.exp(), 1).squeeze(-1)  # a draw from the categorical scored below
        logprob = all_logprobs.gather(-1, action.long().unsqueeze(-1)).squeeze(-1)
        entropy = -(all_logprobs.exp() * all_logprobs).sum(-1)
        return action, logprob, entropy, self.critic(hidden).squeeze(-1), all_logprobs


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
    mb_obs, mb_actions, mb_logprobs, mb_advantages, mb_values, mb_returns = (b[mb_inds] for b in batch[:6])
    mb_all_logprobs = batch[6][mb_inds] if args.loss.startswith("kl") else None  # only the KL variants store them
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
    torch.backends.cudnn.deterministic = args.torch_deterministic
    if args.torch_threads > 0:
        torch.set_num_threads(args.torch_threads)
    device = torch.device("cuda" if torch.cuda.is_available() and args.cuda else "cpu")

    envs = make_envs(args.env_id, args.num_envs, args.num_threads)
    obs_shape = envs.single_observation_space.shape  # (4, 84, 84), uint8
    n_actions = int(envs.single_action_space.n)

    # channels_last: the convolutions (most of the run's time) are faster in this layout, on the CPU too
    agent = Agent(n_actions).to(device, memory_format=torch.channels_last)
    # fused=True: one kernel for all parameters, 4x faster than the default per-tensor loop on the CPU
    params = list(agent.parameters())  # listed once: clip_grad_norm_ reads them every minibatch
    optimizer = torch.optim.Adam(params, lr=args.learning_rate, eps=1e-5, fused=True)

    # Rollout storage. What the network produces stays on its device (with --cuda, the GPU), so a step
    # copies only the observations in and the actions out. Frames stay uint8 (29 MB for 8 x 128 x 4 x
    # 84 x 84; float32 would be 116 MB) until a minibatch is formed. What the env returns stays in numpy.
    obs = torch.zeros((args.num_steps, args.num_envs) + obs_shape, dtype=torch.uint8, device=device)
    actions = torch.zeros((args.num_steps, args.num_envs), dtype=torch.long, device=device)
    logprobs = torch.zeros((args.num_steps, args.num_envs), device=device)
    values = torch.zeros((args.num_steps, args.num_envs), device=device)
    kl_loss = args.loss.startswith("kl")  # only the KL variants read log pi_old(.|s) of every action
    all_logprobs = torch.zeros((args.num_steps, args.num_envs, n_actions), device=device) if kl_loss else None
    final_values = np.zeros((args.num_steps, args.num_envs), np.float32)  # V(final obs) where a step truncated
    rewards = np.zeros((args.num_steps, args.num_envs), np.float32)
    terminations = np.zeros((args.num_steps, args.num_envs), np.float32)
    dones = np.zeros((args.num_steps, args.num_envs), np.float32)

    # Episode statistics
    recent_returns = deque(maxlen=10)

    frames, infos = run.reset(envs)  # seeded by --seed (--resume: see run_management)
    next_obs, lives = torch.as_tensor(frames, device=device), infos["lives"]
    stats, video = GameStats(args.num_envs), VideoRecorder(f"videos/{run.name}", frames) if args.capture_video else None

    # What a checkpoint holds; --resume puts each back as it was at the end of the saved iteration
    last_iteration, global_step, kl_beta = run.keep(
        iteration=0, global_step=0, kl_beta=args.kl_beta,
        model=agent, optimizer=optimizer, recent_returns=recent_returns,
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
            # The CNN is too costly to run twice, so log pi_old(a|s) and V(s_t) come from the forward pass
            # that samples the action, and V(s_{t+1}) is V(s_t) of the next step unless an episode ended.
            for step in range(args.num_steps):
                run.check()
                global_step += args.num_envs
                obs[step] = next_obs
                with torch.no_grad():
                    action, logprob, _, value, step_all_logprobs = agent.get_action_and_value(next_obs)
                actions[step], logprobs[step], values[step] = action, logprob, value
                if kl_loss:
                    all_logprobs[step] = step_all_logprobs

                frames, reward, game_over, truncated, infos = envs.step(action.cpu().numpy())  # the one copy out
                next_obs = torch.as_tensor(frames, device=device)  # the one copy in
                # A lost life ends the training episode (no bootstrap through it) but not the game, which
                # goes on from the next frame. At a game over the new game's lives are reported, never fewer.
                life_lost, lives = infos["lives"] < lives, infos["lives"]
                terminated, game_end = game_over | life_lost, game_over | truncated
                done = terminated | truncated
                rewards[step] = np.sign(reward)  # clipped for training; the game's return counts raw rewards
                terminations[step], dones[step] = (terminated if args.bootstrap_truncation else done), done

                final_values[step] = 0.0
                if truncated.any():  # the game reached the frame cap: bootstrap with V(final observation)
                    # SAME_STEP autoreset: frames already start the new game; s_{t+1} is in final_obs
                    with torch.no_grad():
                        final_obs = torch.as_tensor(np.stack(infos["final_obs"][truncated]), device=device)
                        final_values[step, truncated] = agent.get_value(final_obs).cpu().numpy()
                for game_return, game_length in stats.update(reward, game_end):
                    recent_returns.append(game_return)
                    writer.add_scalar("charts/episodic_return", game_return, global_step)
                    writer.add_scalar("charts/episodic_length", game_length, global_step)
                if video:
                    video.update(frames, game_end, infos)
            with torch.no_grad():
                last_values = agent.get_value(next_obs)
            # One copy of the values per rollout: GAE runs in numpy, on the CPU
            values_np = values.cpu().numpy()
            # V(s_{t+1}) within an episode
            following_values = np.concatenate([values_np[1:], last_values.cpu().numpy()[None]])
            next_values = np.where(dones > 0, final_values, following_values)

            # Estimate
            advantages, returns = compute_gae(rewards, values_np, next_values, terminations, dones, args.gamma,
                                              args.gae_lambda)  # fmt: skip
            b_obs = obs.reshape((-1,) + obs_shape)  # still uint8
            b_actions = actions.reshape(-1)
            b_logprobs = logprobs.reshape(-1)
            b_all_logprobs = all_logprobs.reshape(-1, n_actions) if kl_loss else None
            b_values = values.reshape(-1)

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
                    new_all_logprobs = agent.get_action_and_value(b_obs, b_actions)[4]
                    mean_kl = categorical_kl(b_all_logprobs, new_all_logprobs).mean().item()
                kl_beta = update_kl_beta(kl_beta, mean_kl, args.kl_adaptive_target)

            run.end_iteration((pg_loss, v_loss), iteration=iteration, global_step=global_step, kl_beta=kl_beta)

            # Log
            y_pred, y_true = values_np.reshape(-1), returns.reshape(-1)
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
            if kl_loss:
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
    "0 or more": ("kl_beta", "ent_coef", "vf_coef"), "a whole number in [0, 1024]": ("num_threads", "torch_threads"),
}
MAY_CHANGE = {"torch_threads", "num_threads"}  # --resume: this script's flags that may differ, besides the shared ones


def check_env(args):
    """An Atari game whose frames this script can skip itself; anything else ends the run in one line."""
    spec = gym.spec(args.env_id.rpartition(":")[2])
    if spec.entry_point != "ale_py.env:AtariEnv":
        run_management.fail(f"{args.env_id} is not an Atari game: pass --env-id e.g. BreakoutNoFrameskip-v4")
    if spec.kwargs["frameskip"] != 1 and not args.env_id.endswith("-v5"):  # e.g. Breakout-v4: a random skip of 2-4
        game = spec.kwargs["game"]
        no_skip = next(k for k, s in gym.registry.items() if s.kwargs.get("game") == game and "NoFrameskip-v4" in k)
        run_management.fail(f"{run_management.PROG} skips 4 frames itself: pass --env-id {no_skip} (or ALE/..-v5)")


class VideoRecorder:
    """--capture-video: env 0's games as the agent sees them (the newest 84x84 frame of each stack), the
    games gymnasium's RecordVideo would pick (0, 1, 8, 27, ..., then every 1000th), as mp4 files."""

    def __init__(self, folder, frames):
        self.folder, self.game, self.frames = folder, 0, [frames[0, -1]]

    def update(self, frames, game_ends, infos):
        if game_ends[0]:
            self.frames.append(infos["final_obs"][0, -1])
            if capped_cubic_video_schedule(self.game):
                rgb = [np.repeat(f[:, :, None], 3, axis=2) for f in self.frames]
                save_video(rgb, self.folder, episode_index=self.game, fps=15)
            self.game, self.frames = self.game + 1, []
        if capped_cubic_video_schedule(self.game):
            self.frames.append(frames[0, -1])


def load_policy(state):
    """The policy a checkpoint holds, as evaluate() takes it."""
    agent = Agent(state["model"]["actor.weight"].shape[0])
    run_management.restore(agent, state["model"])  # weights of another shape, or not finite, are refused
    return (agent,)


def evaluate(agent, env_id, eval_episodes, seed, capture_video=False, run_name="eval"):
    """Whole-game returns (all lives, unclipped) on the training envs, actions sampled from the policy:
    a greedy Atari policy can lock into a loop that its sampled twin never enters."""
    envs = make_envs(env_id, 1)
    frames, _ = envs.reset(seed=seed % (2**31 - envs.num_envs))  # ale-py's seeds, seed + index, are int32s
    torch.manual_seed(seed)
    stats, video = GameStats(1), VideoRecorder(f"videos/{run_name}", frames) if capture_video else None
    episodic_returns = []
    while len(episodic_returns) < eval_episodes:
        with torch.no_grad():
            action = agent.get_action_and_value(torch.as_tensor(frames))[0]
        frames, reward, game_over, truncated, infos = envs.step(action.numpy())
        episodic_returns += [float(r) for r, _ in stats.update(reward, game_over | truncated)]
        if video:
            video.update(frames, game_over | truncated, infos)
    envs.close()
    return episodic_returns


if __name__ == "__main__":
    run_management.cli(Args)

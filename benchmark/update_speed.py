"""Time of one PPO update of ppo_atari.py, run as the script runs it and compiled, in one run on one device.

    python benchmark/update_speed.py                     # the CPU: eager, compile
    python benchmark/update_speed.py --cuda              # the GPU: eager, compile, cudagraphs
    python benchmark/update_speed.py --cuda --modes eager cudagraphs --repeats 50

One update is ppo_atari.py's at its defaults: 4 epochs x 4 minibatches of 256 frames from a 1024-frame batch, its
Agent (channels-last) and loss functions, gradient clipping at 0.5 and its fused Adam. The frames are random:
the time of an update does not depend on what they show. Modes, each from the same start (seed 0):
- eager: as ppo_atari.py runs it;
- compile: torch.compile of the minibatch's loss (the forward pass and the losses; the backward pass compiled
  with it, by AOTAutograd); the gradient clipping and Adam stay as they are;
- cudagraphs (--cuda): the same with mode="reduce-overhead", which replays the forward and backward passes as
  CUDA graphs, one launch each instead of one per kernel.
For each mode: the first updates (compilation, graph capture) timed apart, then --repeats updates, the median
ms per update and its ratio to eager; and the loss of the first minibatch against eager's (relative
difference), which says that the compiled update computes what the script's does.
"""

import os
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import ppo_atari  # noqa: E402
from report import OneLineParser, fail  # noqa: E402  (beside this file: one-line errors, as every tool here)

ARGS = ppo_atari.Args()  # the script's defaults
BATCH, EPOCHS = ARGS.num_envs * ARGS.num_steps, ARGS.update_epochs
MINIBATCH, N_ACTIONS = BATCH // ARGS.num_minibatches, 4  # Breakout's 4 actions
WARMUP = 3  # updates before the timed ones: compilation and graph capture happen in these


def minibatch_loss(agent, obs, actions, logprobs, values, advantages, returns, clip_coef):
    """ppo_atari.py's loss for one minibatch (--loss clip, its default coefficients; main inlines it)."""
    _, newlogprob, entropy, newvalue, _ = agent.get_action_and_value(obs, actions)
    ratio = (newlogprob - logprobs).exp()
    advantages = (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    pg_loss = ppo_atari.ppo_policy_loss(ratio, advantages, None, "clip", clip_coef, 0.0)
    v_loss = ppo_atari.ppo_value_loss(newvalue, values, returns, clip_coef, ARGS.clip_vloss)
    return pg_loss - ARGS.ent_coef * entropy.mean() + v_loss * ARGS.vf_coef


def make_batch(device, seed=0):
    """The rollout's arrays (frames, actions, log-probabilities, values, advantages, returns) and the 16
    minibatches' indices, on the device."""
    g = torch.Generator().manual_seed(seed)
    frames = torch.randint(0, 256, (BATCH, 4, 84, 84), dtype=torch.uint8, generator=g)
    actions, logprobs = torch.randint(0, N_ACTIONS, (BATCH,), generator=g), -torch.rand(BATCH, generator=g) - 1.0
    values, advantages, returns = torch.randn(3, BATCH, generator=g)
    orders = [torch.randperm(BATCH, generator=g) for _ in range(EPOCHS)]
    minibatches = [order[i : i + MINIBATCH] for order in orders for i in range(0, BATCH, MINIBATCH)]
    return [x.to(device) for x in (frames, actions, logprobs, values, advantages, returns)], \
        [mb.to(device) for mb in minibatches]  # fmt: skip


def measure(mode, device, repeats):
    """(median ms per update, warm-up seconds, first minibatch's loss) of one mode."""
    torch.manual_seed(0)
    agent = ppo_atari.Agent(N_ACTIONS).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(agent.parameters(), lr=ARGS.learning_rate, eps=1e-5, fused=True)
    loss_fn = {"eager": minibatch_loss, "compile": torch.compile(minibatch_loss),
               "cudagraphs": torch.compile(minibatch_loss, mode="reduce-overhead")}[mode]  # fmt: skip
    batch, minibatches = make_batch(device)
    clip_coef = torch.tensor(ARGS.clip_coef, device=device)  # a tensor: with --anneal-clip, no recompile
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    first_loss, times = None, []
    for update in range(WARMUP + repeats):
        sync()
        start = time.perf_counter()
        for mb in minibatches:
            loss = loss_fn(agent, *(x[mb] for x in batch), clip_coef)
            first_loss = float(loss.detach()) if first_loss is None else first_loss
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(agent.parameters(), ARGS.max_grad_norm)
            optimizer.step()
        sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times[WARMUP:]) * 1000, sum(times[:WARMUP]), first_loss


def main():
    parser = OneLineParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cuda", action="store_true", help="on the GPU (default: the CPU)")
    parser.add_argument("--modes", nargs="+", default=None, choices=["eager", "compile", "cudagraphs"],
                        help="default: eager compile, and cudagraphs with --cuda")  # fmt: skip
    parser.add_argument("--repeats", type=int, default=10, help="timed updates per mode (default 10)")
    parser.add_argument("--threads", type=int, default=0, help="torch's CPU threads (0: torch's default)")
    args = parser.parse_args()
    modes = args.modes or ["eager", "compile"] + (["cudagraphs"] if args.cuda else [])
    if args.repeats < 1:
        fail("--repeats must be at least 1")
    if args.threads < 0:
        fail("--threads must be 0 (torch's default) or more")
    if args.cuda and not torch.cuda.is_available():
        fail("--cuda: torch sees no GPU; leave --cuda out to measure the CPU")
    if "cudagraphs" in modes and not args.cuda:
        fail("--modes cudagraphs needs --cuda (CUDA graphs are the GPU's)")
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device("cuda" if args.cuda else "cpu")
    name = torch.cuda.get_device_name() if args.cuda else f"CPU, {torch.get_num_threads()} threads"
    print(f"one update ({EPOCHS} epochs x {BATCH // MINIBATCH} minibatches of {MINIBATCH}), {name}, torch "
          f"{torch.__version__}; median of {args.repeats} after {WARMUP} warm-up updates", flush=True)  # fmt: skip
    results = {}
    for mode in modes:
        results[mode] = measure(mode, device, args.repeats)
        ms, warmup, loss = results[mode]
        print(f"{mode:<11} {ms:9.1f} ms per update   warm-up {warmup:6.1f} s   first loss {loss:.6f}", flush=True)
    if "eager" in results:
        eager_ms, _, eager_loss = results["eager"]
        for mode, (ms, _, loss) in results.items():
            if mode != "eager":
                print(f"{mode}: {eager_ms / ms:.2f}x eager's speed, first loss differs from eager's by "
                      f"{abs(loss - eager_loss) / abs(eager_loss):.1e} (relative)")  # fmt: skip


if __name__ == "__main__":
    main()

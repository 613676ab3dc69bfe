#!/usr/bin/env bash
# ppo_atari.py's GPU measurements, in one command of about 9 minutes on a machine with a GPU:
#   1. benchmark/update_speed.py --cuda: one update eager, with torch.compile, and as CUDA graphs;
#   2. benchmark/sps.py --atari --cuda: end to end, rollout only and envs only, against CleanRL's ppo_atari.py,
#      alternating;
#   3. Breakout (10M-step settings) for the minutes left, stopped by SIGTERM; its log and events kept.
# Everything lands in $OUT/gpu_check.tar.gz (or /tmp/gpu_check_out/ where OUT is unset).
#
# What the machine lacks travels with the working tree, in git-ignored files made beforehand:
#   .whl/              cp312 wheels of gymnasium, ale-py, tyro and what they need (benchmark/README.md, "Atari on
#                      a GPU", has the pip download command); installed here with --target
#   benchmark/baselines/cleanrl_ppo_atari.py and cleanrl_atari_wrappers.py: CleanRL's ppo_atari.py and its
#                      wrappers, where sps.py looks for the baseline (python benchmark/baselines/fetch.py)
# Settings (environment variables): GPU_FLAG (default --cuda; empty for a dry run on the CPU), BUDGET_S (seconds
# for the whole script, default 540), REPEATS (update_speed.py's, default 30), SPS_REPEATS (default 3), SPS_STEPS
# (default 40960), WHEELS (the wheels' folder, default .whl; empty: install nothing). A dry run here:
#   PATH=.venv/bin:$PATH WHEELS= GPU_FLAG= BUDGET_S=300 REPEATS=1 SPS_REPEATS=1 SPS_STEPS=2048 \
#       bash benchmark/gpu_check.sh
set -u
BUDGET_S=${BUDGET_S:-540}
GPU_FLAG=${GPU_FLAG---cuda}
OUT=${OUT:-/tmp/gpu_check_out}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 1
WHEELS=${WHEELS-.whl}
if [ -n "$WHEELS" ]; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site \
        "$WHEELS"/*.whl && export PYTHONPATH=/tmp/site || exit 1
fi
export PYTHONUNBUFFERED=1
R=$(mktemp -d)/gpu_check
mkdir -p "$R" "$OUT"
left() { echo $((BUDGET_S - SECONDS)); }

(nvidia-smi || echo "no nvidia-smi") > "$R/nvidia-smi.txt" 2>&1
python3 -c "import torch; print(torch.__version__, torch.cuda.is_available())" > "$R/torch.txt" 2>&1
timeout $(($(left) / 4)) python3 benchmark/update_speed.py $GPU_FLAG --repeats "${REPEATS:-30}" \
    > "$R/update_speed.txt" 2>&1
echo "exit $?" >> "$R/update_speed.txt"
timeout $(($(left) * 2 / 3)) python3 benchmark/sps.py --atari $GPU_FLAG --repeats "${SPS_REPEATS:-3}" \
    --steps "${SPS_STEPS:-40960}" > "$R/sps.txt" 2>&1
echo "exit $?" >> "$R/sps.txt"
# Breakout until 20 s before the budget's end: timeout's SIGTERM ends the run at its next check (timeout exits 124)
(cd "$R" && timeout $(($(left) - 20)) python3 "$ROOT/ppo_atari.py" $GPU_FLAG --env-id BreakoutNoFrameskip-v4 \
    --checkpoint-every 0 > breakout.txt 2>&1; echo "exit $?" >> breakout.txt)
find "$R" -name "*.pt" -delete  # a checkpoint (about 20 MB) is over what comes back; the events are kept
tar czf "$OUT/gpu_check.tar.gz" -C "$(dirname "$R")" gpu_check
echo "$(left) s of the budget left; $OUT/gpu_check.tar.gz:"
tail -n 3 "$R"/*.txt

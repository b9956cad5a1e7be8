#!/usr/bin/env bash
# The CUDA checks, prepared to run in one go on a GPU machine (no network there), most important
# first, each under its own timeout (8 minutes in all at most, the set-up aside), one log:
#   CUDA training with the defaults (bf16, compiled) and fp16, then the bench scripts on the GPU.
# Needs, carried beside the tree: .whl/ (pysdtw, tomli-w wheels) and .bench_text/ (MiniLM's
# config + tokenizer; the text encoder gets random weights there, which does not change timing).
set -uo pipefail
export PYTHONUNBUFFERED=1
source bench/device_env.sh || exit 1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import torch, timm, transformers; print('torch', torch.__version__, 'timm', timm.__version__, 'transformers', transformers.__version__)"
python3 -c "
from transformers import AutoConfig, AutoModel, AutoTokenizer
AutoModel.from_config(AutoConfig.from_pretrained('.bench_text')).save_pretrained('/tmp/text_random')
AutoTokenizer.from_pretrained('.bench_text').save_pretrained('/tmp/text_random')"
LOG=${OUT:-/tmp}/gpu_checks.log   # one log; every step has its own timeout, so a cut run still reports
exec > >(tee -a "$LOG") 2>&1
echo "== CUDA training: the defaults (bf16, compiled whole step, CUDA graphs), then fp16 eager"
timeout 30 python3 -m seqclip data synth --out /tmp/ds --clips 40 --workers 8 --max-frames 100 2>&1 | tail -1
timeout 100 python3 -m seqclip train --data /tmp/ds --text-model /tmp/text_random --device cuda \
  --epochs 2 --batch-size 8 --out /tmp/run_bf16 2>&1 | grep -v -E "^\s*$" | tail -12
tail -n 1 /tmp/run_bf16/metrics.jsonl | cut -c1-300; grep -E "^(compile|precision|data_on_device)" /tmp/run_bf16/config.toml
timeout 50 python3 -m seqclip train --data /tmp/ds --text-model /tmp/text_random --device cuda --precision fp16 \
  --no-compile --epochs 2 --batch-size 8 --out /tmp/run_fp16 2>&1 | grep -v -E "^\s*$" | tail -12
tail -n 1 /tmp/run_fp16/metrics.jsonl | cut -c1-300
echo "== bench/compiled_step.py: compile time, parity with eager, ms per step (small, batch 256, bf16, CUDA graphs)"
BENCH_TEXT_MODEL=/tmp/text_random BENCH_PRESET=small BENCH_BATCH=256 timeout 100 python3 bench/compiled_step.py 2>&1 | tail -12
echo "== bench/step_syncs.py: where one device_step (bf16, on the card) waits for the host"
timeout 30 python3 bench/step_syncs.py 2>&1 | tail -12
echo "== fused Triton soft-DTW on CUDA against the torch wavefront"
timeout 20 python3 -c "
import torch
from seq_similarity import soft_dtw
torch.manual_seed(0)
for dt, tol in ((torch.float32, 1e-4), (torch.bfloat16, 2e-2)):
    cost = (torch.rand(512, 31, 32, device='cuda') * 3).to(dt).requires_grad_()
    lx = torch.randint(1, 32, (512,), device='cuda'); ly = torch.randint(1, 33, (512,), device='cuda')
    out = {}
    for b in ('triton', 'torch'):
        v = soft_dtw(cost, 0.1, lx, ly, backend=b); (g,) = torch.autograd.grad(v.float().sum(), cost)
        out[b] = (v.float(), g.float())
    dv = float((out['triton'][0] - out['torch'][0]).abs().max() / out['torch'][0].abs().max())
    dg = float((out['triton'][1] - out['torch'][1]).abs().max())
    print(dt, 'max rel value diff', dv, 'max grad diff', dg, 'OK' if dv < tol and dg < tol else 'MISMATCH')
"
echo "== bench/train_throughput.py: the real loop, on device, compiled: small at 256 and 1,024, base at 256 (MFU)"
BENCH_TEXT_MODEL=/tmp/text_random BENCH_PRESETS=small,base BENCH_SIMILARITIES=temporal BENCH_BATCHES=256 \
  BENCH_DATA_ON_DEVICE=1 BENCH_COMPILE=1 timeout 120 python3 bench/train_throughput.py 2>&1 | grep -v "clip/s"
echo "== bench/hard_negatives.py: the sequence loss, every pair against K hard negatives, batch 256 and 1,024"
BENCH_BATCHES=256,1024 BENCH_K=0,8,32 timeout 30 python3 bench/hard_negatives.py 2>&1 | tail -10
echo "== [$(date +%T)] done"

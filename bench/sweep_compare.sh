#!/usr/bin/env bash
# A sweep's throughput (runs per minute): `ganscope sweep` against the same grid run as plain
# PyTorch training loops (bench/torch_reference.py, one thread per run, JOBS at a time).
# ganscope's runs also evaluate every train.eval_every steps and write their summaries; the
# PyTorch loops only train — the comparison favours PyTorch.
# Usage: bench/sweep_compare.sh   (ROUNDS=2 STEPS=1500 SEEDS=3 JOBS=2 PYTHON=python3)
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-2}
STEPS=${STEPS:-1500}
SEEDS=${SEEDS:-3}
JOBS=${JOBS:-2}
PYTHON=${PYTHON:-python3}
BIN=${BIN:-target/release/ganscope}
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/ganscope"
[ -x "$BIN" ] || { cargo build --release; BIN="${CARGO_TARGET_DIR:-target}/release/ganscope"; }
export GANSCOPE_NO_GPU_PROBE=1

LRS="1e-4 1e-3"
LOSSES="ns hinge"
runs=$(( $(wc -w <<<"$LRS") * $(wc -w <<<"$LOSSES") * SEEDS ))
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# One TOML per PyTorch run, written once (not timed).
for lr in $LRS; do for loss in $LOSSES; do for seed in $(seq 0 $((SEEDS - 1))); do
  "$BIN" config --preset ns-ring --set optim.d.lr=$lr --set loss.kind=$loss --set train.seed=$seed > "$tmp/cfg-$lr-$loss-$seed.toml"
done; done; done

now() { date +%s.%N; }
for r in $(seq 1 "$ROUNDS"); do
  rm -rf "$tmp/sweep"
  t0=$(now)
  RAYON_NUM_THREADS=1 "$BIN" sweep --preset ns-ring --grid optim.d.lr=${LRS// /,} --grid loss.kind=${LOSSES// /,} \
    --seeds "$SEEDS" --steps "$STEPS" --jobs "$JOBS" --out "$tmp/sweep" > /dev/null 2>&1
  t1=$(now)
  ls "$tmp"/cfg-*.toml | xargs -P "$JOBS" -I{} "$PYTHON" bench/torch_reference.py --config {} --steps "$STEPS" --warmup 0 --threads 1 > /dev/null
  t2=$(now)
  "$PYTHON" - "$t0" "$t1" "$t2" "$runs" "$r" <<'EOF'
import sys
t0, t1, t2, runs, r = map(float, sys.argv[1:])
g, p = runs / (t1 - t0) * 60, runs / (t2 - t1) * 60
print(f"round {int(r)}: {int(runs)} runs  ganscope sweep {g:.1f} runs/min ({t1 - t0:.1f} s)  PyTorch loops {p:.1f} runs/min ({t2 - t1:.1f} s)  ratio {g / p:.2f}x")
EOF
done

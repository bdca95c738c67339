#!/usr/bin/env bash
# Side-by-side: ganscope bench vs the same work in PyTorch eager, PyTorch + torch.compile
# (inductor, CPU) and JAX jit, alternating, ROUNDS rounds each.
# Usage: bench/compare.sh [workload...]   (workloads: mlp128, gan-toy, r1, diffusion; default: all)
#   PEERS="pytorch torch-compile jax" (default: all three; PEERS="" for ganscope alone);
#   PYTHON=python3 (with torch / jax)
# Needs the peers: pip install torch jax (CPU wheels are enough).
# gan-toy also runs examples/gemm_peak in each round and prints how close ganscope comes to
# two ceilings: the peak (128×512·512×512 products, each thread its own) and the step's own
# products replayed alone (`ganscope bench --products-out`, `gemm_peak --replay`): what `gemm`
# allows this step with nothing else in it. A gan_toy WGAN-GP step is ≈ 16.2 GFLOP.
# diffusion: the diffusion-ring preset's DDPM against the same DDPM in PyTorch eager
# (bench/ddpm_reference.py; the pytorch peer only): training steps/s and sampling time
# (2,500 ancestral samples, 100 network calls each).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-3}
STEPS=${STEPS:-300}
WARMUP=${WARMUP:-30}
THREADS=${THREADS:-2}
PYTHON=${PYTHON:-python3}
PEERS=${PEERS-pytorch torch-compile jax}
BIN=${BIN:-target/release/ganscope}
[ -x "$BIN" ] || BIN="${CARGO_TARGET_DIR:-target}/release/ganscope"
[ -x "$BIN" ] || { cargo build --release; BIN="${CARGO_TARGET_DIR:-target}/release/ganscope"; }
export GANSCOPE_NO_GPU_PROBE=1 RAYON_NUM_THREADS=$THREADS
GEMM_PEAK="${CARGO_TARGET_DIR:-target}/release/examples/gemm_peak"

workload_args() {
  case "$1" in
    # (1) 2→128→128→128→{2,1} ReLU, batch 256, NS loss, Adam, 1:1.
    mlp128) echo "--preset ns-ring --set generator.latent_dim=2 --set generator.depth=3 --set generator.width=128 --set discriminator.depth=3 --set discriminator.width=128 --set train.batch_size=256" ;;
    # (2) gan_toy.py WGAN-GP: 3×512 ReLU, batch 256, 5 critic steps with the penalty.
    gan-toy) echo "--preset gan-toy-wgan-gp" ;;
    # (3) R1 on the ring.
    r1) echo "--preset ns-ring --set reg.r1=1" ;;
    *) echo "unknown workload $1" >&2; exit 2 ;;
  esac
}

peer() {
  local name=$1 cfg=$2
  case "$name" in
    pytorch) "$PYTHON" bench/torch_reference.py --config "$cfg" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" ;;
    torch-compile) "$PYTHON" bench/torch_reference.py --compile --config "$cfg" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" ;;
    jax) "$PYTHON" bench/jax_reference.py --config "$cfg" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" ;;
    *) echo "unknown peer $name" >&2; exit 2 ;;
  esac | tail -n 1 | "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["steps_per_second"])'
}

# The DDPM: training and sampling, ganscope and PyTorch alternating.
diffusion_compare() {
  local cfg a b ours=() theirs=() train=() sample=()
  cfg=$(mktemp --suffix .toml)
  "$BIN" config --preset diffusion-ring > "$cfg"
  for r in $(seq "$ROUNDS"); do
    a=$("$BIN" bench --preset diffusion-ring --steps "$STEPS" --warmup "$WARMUP" --backend cpu --sample-rounds 3 | tail -n 1)
    b=$("$PYTHON" bench/ddpm_reference.py --config "$cfg" --steps "$STEPS" --warmup "$WARMUP" --threads "$THREADS" --sample-rounds 3 | tail -n 1)
    read -r sa ma < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["steps_per_second"], d["sample_ms_per_1000"])' "$a")
    read -r sb mb < <(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(d["steps_per_second"], d["sample_ms_per_1000"])' "$b")
    echo "  diffusion round $r: ganscope $sa steps/s, $ma ms per 1000 samples; pytorch $sb steps/s, $mb ms"
    ours+=("$sa"); theirs+=("$sb")
    train+=("$(python3 -c "print($sa/$sb)")"); sample+=("$(python3 -c "print($mb/$ma)")")
  done
  echo "diffusion: training ganscope/pytorch $(stats "${train[@]}"); sampling pytorch time/ganscope time $(stats "${sample[@]}")"
  rm -f "$cfg"
}

stats() { python3 -c 'import sys,statistics as s; v=sorted(float(x) for x in sys.argv[1:]); print(f"min {v[0]:.2f}  median {s.median(v):.2f}  max {v[-1]:.2f}")' "$@"; }

workloads=("$@")
[ ${#workloads[@]} -gt 0 ] || workloads=(mlp128 gan-toy r1 diffusion)
for w in "${workloads[@]}"; do
  if [ "$w" = diffusion ]; then
    case " $PEERS " in *" pytorch "*) diffusion_compare ;; *) echo "diffusion: needs the pytorch peer (PEERS=pytorch)" ;; esac
    continue
  fi
  args=$(workload_args "$w")
  cfg=$(mktemp --suffix .toml)
  # shellcheck disable=SC2086
  "$BIN" config $args > "$cfg"
  declare -A runs=()
  ours=(); vs_fastest=(); peaks=(); alone=()
  if [ "$w" = gan-toy ]; then
    [ -x "$GEMM_PEAK" ] || cargo build --release --quiet --example gemm_peak
    products=$(mktemp --suffix .csv)
    # shellcheck disable=SC2086
    gflop=$("$BIN" bench $args --steps 1 --warmup 1 --backend cpu --products-out "$products" | sed -n 's/.* products, \([0-9.]*\) GFLOP a step.*/\1/p')
  fi
  for r in $(seq "$ROUNDS"); do
    # shellcheck disable=SC2086
    a=$("$BIN" bench $args --steps "$STEPS" --warmup "$WARMUP" --backend cpu | tail -n 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["steps_per_second"])')
    ours+=("$a")
    line="  $w round $r: ganscope $a"
    fastest=0
    for p in $PEERS; do
      b=$(peer "$p" "$cfg")
      runs[$p]="${runs[$p]:-} $b"
      line+=", $p $b"
      fastest=$(python3 -c "print(max($fastest, $b))")
    done
    if [ "$fastest" != 0 ]; then vs_fastest+=("$(python3 -c "print($a/$fastest)")"); fi
    if [ "$w" = gan-toy ]; then
      # The best of gemm_peak's rounds (the step's products alone, the peak beside them),
      # alternating with ganscope's.
      read -r solo peak < <("$GEMM_PEAK" --replay "$products" "$THREADS" | python3 -c '
import sys, re
rates = [[float(x) for x in re.findall(r"([0-9.]+) GFLOP/s", l)] for l in sys.stdin]
print(max(r[0] for r in rates), max(r[1] for r in rates))')
      peaks+=("$peak"); alone+=("$solo")
      echo "$line steps/s; gemm peak $peak GFLOP/s, the step's products alone $solo GFLOP/s"
    else
      echo "$line steps/s"
    fi
  done
  echo "$w: ganscope       $(stats "${ours[@]}") steps/s"
  for p in $PEERS; do
    # shellcheck disable=SC2206
    theirs=(${runs[$p]})
    ratios=()
    for i in "${!ours[@]}"; do ratios+=("$(python3 -c "print(${ours[$i]}/${theirs[$i]})")"); done
    printf '%s: %-14s %s steps/s; ganscope/%s %s\n' "$w" "$p" "$(stats "${theirs[@]}")" "$p" "$(stats "${ratios[@]}")"
  done
  [ ${#vs_fastest[@]} -eq 0 ] || echo "$w: ganscope / fastest peer of each round  $(stats "${vs_fastest[@]}")"
  if [ "$w" = gan-toy ]; then
    python3 - "$gflop" "${#ours[@]}" "${ours[@]}" "${peaks[@]}" "${alone[@]}" <<'PY'
import statistics as s, sys
g, n = float(sys.argv[1]), int(sys.argv[2])
ours, peaks, alone = ([float(x) for x in sys.argv[3 + i * n:3 + (i + 1) * n]] for i in range(3))
ach = [g * o for o in ours]
def share(a, b):
    r = sorted(x / y for x, y in zip(a, b))
    return f"{100 * s.median(r):.0f} %", f"rounds {100 * r[0]:.0f}-{100 * r[-1]:.0f} %"
print(f"gan-toy: ganscope at {share(ach, peaks)[0]} of the gemm peak ({s.median(ach):.0f} of {s.median(peaks):.0f} GFLOP/s; {share(ach, peaks)[1]}; {g:.2f} GFLOP a step)")
print(f"gan-toy: the step's products alone at {share(alone, peaks)[0]} of the gemm peak ({s.median(alone):.0f} GFLOP/s; {share(alone, peaks)[1]}); ganscope at {share(ach, alone)[0]} of its products alone ({share(ach, alone)[1]})")
PY
    rm -f "$products"
  fi
  unset runs
  rm -f "$cfg"
done

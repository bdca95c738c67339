#!/usr/bin/env bash
# Redraws the README's images with the current build, so they never drift from what ganscope
# draws: the window (under Xvfb at 1440×900, the CI's screen), the collapse GIF and a lesson's GIF.
# Needs xvfb-run and Mesa (apt-get install xvfb xauth libgl1-mesa-dri mesa-vulkan-drivers).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet
bin="$CARGO_TARGET_DIR/release/ganscope"
export GANSCOPE_NO_GPU_PROBE=1
# A fresh window: none of this user's saved window state (layers, panels, zoom).
XDG_DATA_HOME="$(mktemp -d)"
export XDG_DATA_HOME

xvfb-run -a -s "-screen 0 1440x900x24" "$bin" --preset wgan-gp --backend cpu --steps 3000 \
    --screenshot docs/screenshot.png
"$bin" --backend cpu render --preset collapse --steps 3000 --every 150 --size 300x340 --plots "" \
    --fps 4 --out docs/collapse.gif
# A lesson: the collapse, a pause at the cure (held 2 s), WGAN-GP spreading the samples.
"$bin" --backend cpu render --lesson collapse-cure --every 200 --size 640x560 --plots "" \
    --fps 4 --hold 2 --out docs/lesson.gif
ls -l docs/screenshot.png docs/collapse.gif docs/lesson.gif

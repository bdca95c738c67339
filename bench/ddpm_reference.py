#!/usr/bin/env python3
"""The same DDPM as ganscope's `model.kind = "diffusion"` (src/diffusion.rs), in PyTorch eager,
for a side-by-side timing of training and of sampling.

Reads a ganscope config (the TOML `ganscope config --preset diffusion-ring` prints) and mirrors
it: ε_θ is the generator's MLP shape on [x, sinusoidal embedding of t] (PyTorch-default init),
the linear β schedule of DDPM rescaled to T steps (or the cosine one), t uniform in 1..T, loss
mean (ε_θ(x_t, t) − ε)², the generator's optimizer, the batch size; sampling is ancestral
(T network calls per sample, σ_t² = β̃_t) or DDIM (η = 0). Prints one JSON line with
steps_per_second and, with --sample-rounds, the median sample_ms_per_1000 over
`train.eval_samples` samples.

    ganscope config --preset diffusion-ring > cfg.toml
    python3 bench/ddpm_reference.py --config cfg.toml --steps 500 --warmup 50 --threads 2 --sample-rounds 3
"""
import argparse
import json
import math
import statistics
import time
import tomllib
import warnings

warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402

from torch_reference import activation, mlp, optimizer  # noqa: E402  (the same MLP, units and optimizers)


def betas(kind, t_max):
    if kind == "linear":
        scale = 1000.0 / t_max
        lo, hi = 1e-4 * scale, 0.02 * scale
        return [min(lo + (hi - lo) * i / max(t_max - 1, 1), 0.999) for i in range(t_max)]
    s = 0.008
    f = lambda t: math.cos(((t / t_max + s) / (1 + s)) * math.pi / 2) ** 2  # noqa: E731
    return [min(1 - f(t) / f(t - 1), 0.999) for t in range(1, t_max + 1)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--sample-rounds", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    m, data, g = cfg["model"], cfg["data"], cfg["generator"]
    assert m["kind"] == "diffusion" and data["kind"] == "ring", "the reference is the diffusion model on the ring"
    k, r, std = data["modes"], data["radius"], data["std"]
    centres = torch.tensor([[r * math.cos(2 * math.pi * i / k), r * math.sin(2 * math.pi * i / k)] for i in range(k)])
    batch, t_max, emb = cfg["train"]["batch_size"], m["diffusion_steps"], m["time_embedding"]
    net = mlp(2 + emb, 2, g["depth"], g["width"], activation(g))
    opt = optimizer(net.parameters(), cfg["optim"]["g"])
    beta = torch.tensor(betas(m["beta_schedule"], t_max), dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - beta, 0)
    ab = torch.cat([torch.ones(1, dtype=torch.float64), alpha_bar])  # ᾱ_0 = 1, then ᾱ_1..ᾱ_T
    half = emb // 2
    freqs = torch.exp(-math.log(10_000.0) * torch.arange(half, dtype=torch.float64) / half)
    # Every step's embedding, looked up per row (as ganscope computes it per row).
    table = torch.cat([torch.sin(torch.arange(t_max + 1, dtype=torch.float64)[:, None] * freqs), torch.cos(torch.arange(t_max + 1, dtype=torch.float64)[:, None] * freqs)], 1).float()
    sqrt_ab, sqrt_1mab = ab.sqrt().float(), (1 - ab).sqrt().float()

    def train_step():
        idx = torch.randint(k, (batch,))
        x0 = centres[idx] + std * torch.randn(batch, 2)
        t = torch.randint(1, t_max + 1, (batch,))
        eps = torch.randn(batch, 2)
        xt = sqrt_ab[t, None] * x0 + sqrt_1mab[t, None] * eps
        loss = (net(torch.cat([xt, table[t]], 1)) - eps).pow(2).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    for _ in range(args.warmup):
        train_step()
    t0 = time.perf_counter()
    for _ in range(args.steps):
        train_step()
    secs = time.perf_counter() - t0

    n = cfg["train"]["eval_samples"]

    @torch.no_grad()
    def sample():
        x = torch.randn(n, 2, dtype=torch.float64)
        if m["sampler"] == "ancestral":
            for t in range(t_max, 0, -1):
                e = net(torch.cat([x.float(), table[t].expand(n, -1)], 1)).double()
                b = beta[t - 1]
                x = (x - b / (1 - ab[t]).sqrt() * e) / (1 - b).sqrt()
                if t > 1:
                    x = x + ((1 - ab[t - 1]) / (1 - ab[t]) * b).sqrt() * torch.randn(n, 2, dtype=torch.float64)
        else:
            steps = m["ddim_steps"]
            ts = []
            for i in range(steps):
                v = round(t_max - i * t_max / steps)
                if not ts or ts[-1] != v:
                    ts.append(v)
            ts.append(0)
            for t, prev in zip(ts, ts[1:]):
                e = net(torch.cat([x.float(), table[t].expand(n, -1)], 1)).double()
                x0 = (x - (1 - ab[t]).sqrt() * e) / ab[t].sqrt()
                x = ab[prev].sqrt() * x0 + (1 - ab[prev]).sqrt() * e
        return x

    ms = []
    for _ in range(args.sample_rounds):
        t0 = time.perf_counter()
        sample()
        ms.append((time.perf_counter() - t0) * 1e6 / n)
    print(json.dumps({"impl": "pytorch-ddpm", "steps": args.steps, "seconds": secs, "steps_per_second": args.steps / secs,
                      "sample_ms_per_1000": statistics.median(ms) if ms else None, "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "batch_size": batch, "diffusion_steps": t_max, "sampler": m["sampler"]}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The same training work as `ganscope bench`, in PyTorch, for a side-by-side timing.

Reads a ganscope config (the TOML that `ganscope config ...` prints) and mirrors it: MLP
architecture and activation, PyTorch-default init (what ganscope's `init = "default"`
reproduces), loss, WGAN-GP / R1 / R2 penalties, optimizer, batch size and the D:G step
structure. Data and noise are sampled on the fly as ganscope does. Prints one JSON line.

    ganscope config --preset ns-ring > cfg.toml
    python3 bench/torch_reference.py --config cfg.toml --steps 500 --warmup 50 --threads 2
"""
import argparse
import json
import math
import time
import tomllib
import warnings

# PyTorch warns on every run when NumPy is absent; nothing here needs NumPy.
warnings.filterwarnings("ignore", message="Failed to initialize NumPy")
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def mlp(inp, out, depth, width, act):
    layers, d = [], inp
    for _ in range(depth):
        layers += [nn.Linear(d, width), act()]
        d = width
    layers.append(nn.Linear(d, out))
    return nn.Sequential(*layers)


def activation(cfg):
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "leaky-relu": lambda: nn.LeakyReLU(cfg.get("leak", 0.2))}[cfg["activation"]]


def optimizer(params, o):
    if o["kind"] == "adam":
        return torch.optim.Adam(params, lr=o["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    if o["kind"] == "sgd":
        return torch.optim.SGD(params, lr=o["lr"], momentum=o["momentum"])
    return torch.optim.RMSprop(params, lr=o["lr"], alpha=o["alpha"], eps=o["eps"], momentum=o["momentum"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--compile", action="store_true", help="torch.compile (inductor, CPU) the networks")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    data, g_cfg, d_cfg, loss = cfg["data"], cfg["generator"], cfg["discriminator"], cfg["loss"]
    assert data["kind"] in ("ring", "grid"), "the reference samples ring and grid mixtures"
    if data["kind"] == "ring":
        k = data["modes"]
        centres = torch.tensor([[data["radius"] * math.cos(2 * math.pi * i / k), data["radius"] * math.sin(2 * math.pi * i / k)] for i in range(k)])
    else:
        n, s = data["grid_n"], data["spacing"]
        off = (n - 1) / 2
        centres = torch.tensor([[(i - off) * s, (j - off) * s] for i in range(n) for j in range(n)])
    std = data["std"]
    batch = cfg["train"]["batch_size"]
    latent = g_cfg["latent_dim"]
    G = mlp(latent, 2, g_cfg["depth"], g_cfg["width"], activation(g_cfg))
    D = mlp(2, 1, d_cfg["depth"], d_cfg["width"], activation(d_cfg))
    opt_g = optimizer(G.parameters(), cfg["optim"]["g"])
    opt_d = optimizer(D.parameters(), cfg["optim"]["d"])
    G_eager, D_eager = G, D
    if args.compile:
        G, D = torch.compile(G), torch.compile(D)
    kind = loss["kind"]
    r1, r2 = cfg["reg"]["r1"], cfg["reg"]["r2"]
    gp = loss["gp_lambda"] if kind == "wgan-gp" else 0.0
    d_steps, g_steps = cfg["schedule"]["d_steps"], cfg["schedule"]["g_steps"]

    def real_batch():
        idx = torch.randint(len(centres), (batch,))
        return centres[idx] + std * torch.randn(batch, 2)

    def grad_at(x):
        # Double backward (the penalties' gradient of ∂D/∂x) is not supported through
        # torch.compile's AOTAutograd, so penalised points go through the eager module.
        x = x.detach().requires_grad_(True)
        out = D_eager(x)
        (g,) = torch.autograd.grad(out.sum(), x, create_graph=True)
        return out, g

    def d_step():
        real = real_batch()
        with torch.no_grad():
            fake = G(torch.randn(batch, latent))
        if r1 > 0:
            dr, g_real = grad_at(real)
        else:
            dr = D(real)
        if r2 > 0:
            df, g_fake = grad_at(fake)
        else:
            df = D(fake)
        if kind in ("ns", "minimax"):
            l = F.softplus(-dr).mean() + F.softplus(df).mean()
        elif kind == "ls":
            l = 0.5 * ((dr - 1) ** 2).mean() + 0.5 * (df ** 2).mean()
        elif kind == "hinge":
            l = F.relu(1 - dr).mean() + F.relu(1 + df).mean()
        else:
            l = df.mean() - dr.mean()
        if r1 > 0:
            l = l + 0.5 * r1 * g_real.pow(2).sum(1).mean()
        if r2 > 0:
            l = l + 0.5 * r2 * g_fake.pow(2).sum(1).mean()
        if gp > 0:
            eps = torch.rand(batch, 1)
            _, g_hat = grad_at(eps * real + (1 - eps) * fake)
            l = l + gp * ((g_hat.pow(2).sum(1) + 1e-12).sqrt() - 1).pow(2).mean()
        opt_d.zero_grad(set_to_none=True)
        l.backward()
        opt_d.step()
        if kind == "wgan":
            with torch.no_grad():
                for p in D.parameters():
                    p.clamp_(-loss["clip"], loss["clip"])

    def g_step():
        # As gan_toy.py does: no gradients into D's weights during G's update.
        D.requires_grad_(False)
        df = D(G(torch.randn(batch, latent)))
        if kind == "ns":
            l = F.softplus(-df).mean()
        elif kind == "minimax":
            l = -F.softplus(df).mean()
        elif kind == "ls":
            l = 0.5 * ((df - 1) ** 2).mean()
        else:
            l = -df.mean()
        opt_g.zero_grad(set_to_none=True)
        l.backward()
        opt_g.step()
        D.requires_grad_(True)

    def step():
        for _ in range(d_steps):
            d_step()
        for _ in range(g_steps):
            g_step()

    for _ in range(args.warmup):
        step()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    secs = time.perf_counter() - t
    print(json.dumps({"impl": "torch-compile" if args.compile else "pytorch", "steps": args.steps, "seconds": secs, "steps_per_second": args.steps / secs,
                      "threads": torch.get_num_threads(), "torch": torch.__version__, "batch_size": batch,
                      "loss": kind, "d_steps": d_steps}))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The same training work as `ganscope bench`, in JAX with the whole step under `jax.jit`.

Mirrors bench/torch_reference.py: MLP architecture and activation, PyTorch-default init
(U(±1/√fan_in)), loss, WGAN-GP / R1 / R2 penalties (by `jax.grad` of the input gradient),
Adam / SGD / RMSProp with PyTorch's update rules, batch size and the D:G step structure,
data and noise sampled on the fly inside the jitted step. Prints one JSON line.

    ganscope config --preset ns-ring > cfg.toml
    python3 bench/jax_reference.py --config cfg.toml --steps 500 --warmup 50 --threads 2
"""
import argparse
import json
import math
import os
import time
import tomllib


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", required=True)
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    # XLA's CPU client sizes its pool from this flag (set before importing jax).
    os.environ.setdefault("XLA_FLAGS", f"--xla_cpu_multi_thread_eigen=true intra_op_parallelism_threads={args.threads}")
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    import jax
    import jax.numpy as jnp

    with open(args.config, "rb") as f:
        cfg = tomllib.load(f)
    data, g_cfg, d_cfg, loss = cfg["data"], cfg["generator"], cfg["discriminator"], cfg["loss"]
    assert data["kind"] in ("ring", "grid"), "the reference samples ring and grid mixtures"
    if data["kind"] == "ring":
        k = data["modes"]
        centres = jnp.array([[data["radius"] * math.cos(2 * math.pi * i / k), data["radius"] * math.sin(2 * math.pi * i / k)] for i in range(k)])
    else:
        n, s = data["grid_n"], data["spacing"]
        off = (n - 1) / 2
        centres = jnp.array([[(i - off) * s, (j - off) * s] for i in range(n) for j in range(n)])
    std, batch, latent = data["std"], cfg["train"]["batch_size"], g_cfg["latent_dim"]
    kind = loss["kind"]
    r1, r2 = cfg["reg"]["r1"], cfg["reg"]["r2"]
    gp = loss["gp_lambda"] if kind == "wgan-gp" else 0.0
    d_steps, g_steps = cfg["schedule"]["d_steps"], cfg["schedule"]["g_steps"]

    def act_fn(c):
        return {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid, "leaky-relu": lambda x: jax.nn.leaky_relu(x, c.get("leak", 0.2))}[c["activation"]]

    def init(key, inp, out, c):
        dims = [inp] + [c["width"]] * c["depth"] + [out]
        params = []
        for a, b in zip(dims[:-1], dims[1:]):
            key, kw, kb = jax.random.split(key, 3)
            bound = 1.0 / math.sqrt(a)
            params.append((jax.random.uniform(kw, (a, b), minval=-bound, maxval=bound), jax.random.uniform(kb, (b,), minval=-bound, maxval=bound)))
        return params

    def mlp(params, x, act):
        for w, b in params[:-1]:
            x = act(x @ w + b)
        w, b = params[-1]
        return x @ w + b

    g_act, d_act = act_fn(g_cfg), act_fn(d_cfg)

    def opt_init(params):
        zeros = jax.tree_util.tree_map(jnp.zeros_like, params)
        return (0, zeros, zeros)

    def opt_step(o, params, grads, state):
        t, m, v = state
        t = t + 1
        if o["kind"] == "adam":
            b1, b2 = o["beta1"], o["beta2"]
            m = jax.tree_util.tree_map(lambda m, g: b1 * m + (1 - b1) * g, m, grads)
            v = jax.tree_util.tree_map(lambda v, g: b2 * v + (1 - b2) * g * g, v, grads)
            bc1, bc2 = 1 - b1 ** t, 1 - b2 ** t
            params = jax.tree_util.tree_map(lambda p, m, v: p - o["lr"] * (m / bc1) / (jnp.sqrt(v / bc2) + o["eps"]), params, m, v)
        elif o["kind"] == "sgd":
            mu = o["momentum"]
            m = jax.tree_util.tree_map(lambda m, g: mu * m + g, m, grads) if mu > 0 else grads
            params = jax.tree_util.tree_map(lambda p, u: p - o["lr"] * u, params, m)
        else:
            a = o["alpha"]
            v = jax.tree_util.tree_map(lambda v, g: a * v + (1 - a) * g * g, v, grads)
            params = jax.tree_util.tree_map(lambda p, g, v: p - o["lr"] * g / (jnp.sqrt(v) + o["eps"]), params, grads, v)
        return params, (t, m, v)

    def input_grad(dp, x):
        return jax.grad(lambda x: mlp(dp, x, d_act).sum())(x)

    def d_loss(dp, gparams, key):
        k1, k2, k3, k4 = jax.random.split(key, 4)
        real = centres[jax.random.randint(k1, (batch,), 0, len(centres))] + std * jax.random.normal(k2, (batch, 2))
        fake = jax.lax.stop_gradient(mlp(gparams, jax.random.normal(k3, (batch, latent)), g_act))
        dr, df = mlp(dp, real, d_act), mlp(dp, fake, d_act)
        if kind in ("ns", "minimax"):
            l = jax.nn.softplus(-dr).mean() + jax.nn.softplus(df).mean()
        elif kind == "ls":
            l = 0.5 * ((dr - 1) ** 2).mean() + 0.5 * (df ** 2).mean()
        elif kind == "hinge":
            l = jax.nn.relu(1 - dr).mean() + jax.nn.relu(1 + df).mean()
        else:
            l = df.mean() - dr.mean()
        if r1 > 0:
            l = l + 0.5 * r1 * (input_grad(dp, real) ** 2).sum(1).mean()
        if r2 > 0:
            l = l + 0.5 * r2 * (input_grad(dp, fake) ** 2).sum(1).mean()
        if gp > 0:
            eps = jax.random.uniform(k4, (batch, 1))
            g = input_grad(dp, eps * real + (1 - eps) * fake)
            l = l + gp * ((jnp.sqrt((g ** 2).sum(1) + 1e-12) - 1) ** 2).mean()
        return l

    def g_loss(gparams, dp, key):
        df = mlp(dp, mlp(gparams, jax.random.normal(key, (batch, latent)), g_act), d_act)
        if kind == "ns":
            return jax.nn.softplus(-df).mean()
        if kind == "minimax":
            return -jax.nn.softplus(df).mean()
        if kind == "ls":
            return 0.5 * ((df - 1) ** 2).mean()
        return -df.mean()

    @jax.jit
    def step(state, key):
        gparams, dp, gs, ds = state
        for _ in range(d_steps):
            key, k = jax.random.split(key)
            grads = jax.grad(d_loss)(dp, gparams, k)
            dp, ds = opt_step(cfg["optim"]["d"], dp, grads, ds)
            if kind == "wgan":
                dp = jax.tree_util.tree_map(lambda p: jnp.clip(p, -loss["clip"], loss["clip"]), dp)
        for _ in range(g_steps):
            key, k = jax.random.split(key)
            grads = jax.grad(g_loss)(gparams, dp, k)
            gparams, gs = opt_step(cfg["optim"]["g"], gparams, grads, gs)
        return (gparams, dp, gs, ds), key

    key = jax.random.PRNGKey(0)
    key, kg, kd = jax.random.split(key, 3)
    gparams, dp = init(kg, latent, 2, g_cfg), init(kd, 2, 1, d_cfg)
    state = (gparams, dp, opt_init(gparams), opt_init(dp))
    for _ in range(max(args.warmup, 1)):
        state, key = step(state, key)
    jax.block_until_ready(state)
    t = time.perf_counter()
    for _ in range(args.steps):
        state, key = step(state, key)
    jax.block_until_ready(state)
    secs = time.perf_counter() - t
    print(json.dumps({"impl": "jax-jit", "steps": args.steps, "seconds": secs, "steps_per_second": args.steps / secs,
                      "threads": args.threads, "jax": jax.__version__, "batch_size": batch, "loss": kind, "d_steps": d_steps}))


if __name__ == "__main__":
    main()

"""E11: what the NTK costs — kernels Ω(n²), the kernel solve O(n³), the empirical NTK by
implementation — measured side by side in one run (ratios, not only times).

The workflow runs a size that fits the paper's time budget; `make bench` runs the larger
suite in benchmarks/. Timings take the median of a few repeats after one compiling call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper import data as datasets
from ntkpaper import kernels as own
from ntkpaper import keys, predict
from ntkpaper.empirical import empirical_ntk, nt_empirical_ntk, ntk_flops
from ntkpaper.fits import loglog_slope
from ntkpaper.models import init_params, model_spec, stax_network
from ntkpaper.timing import median_time

# How the workflow runs this kind (read by ntkpaper.workflow without importing this module).
WORKFLOW = {"priority": 40, "mem_mb": 10000}


def matmul_gflops(n: int = 2048, dtype=jnp.float32) -> float:
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda a: a @ a)
    return 2 * n**3 / median_time(lambda: f(a)) / 1e9


def run(spec: Mapping[str, Any], data=None, *, key) -> dict[str, Any]:
    ns = np.array(spec["ns"])
    x_all = datasets.prepare(
        "digits", {"source": "digits", "n_train": 1797}, key=keys.fold(key, "digits")
    )["x_train"]
    # Beyond the 1797 digits, tile them with a small perturbation: repeated inputs would make
    # the kernel singular, and the solve would time a regularization search, not a solve.
    copies = int(np.ceil(ns.max() / len(x_all)))
    jitter = 0.01 * np.asarray(
        jax.random.normal(keys.fold(key, "tile"), (copies - 1, *x_all.shape)), np.float64
    )
    x_all = np.concatenate([x_all, *(x_all + j for j in jitter)])
    model = spec["model"]
    arch = model_spec(model, width=1, out_dim=1)
    kernel_fn = jax.jit(stax_network(arch)[2], static_argnames="get")
    out: dict[str, Any] = {"ns": ns}
    t_ours, t_nt, t_solve = [], [], []
    for n in ns:
        x = jnp.asarray(x_all[:n])
        t_nt.append(median_time(lambda x=x: kernel_fn(x, None, "ntk")))
        t_ours.append(
            median_time(
                lambda x=x: (
                    own.kernels(
                        x,
                        depth=arch.depth,
                        activation=arch.activation,
                        W_std=arch.W_std,
                        b_std=arch.b_std,
                    ).ntk
                )
            )
        )
        k = np.asarray(kernel_fn(x, None, ("ntk", "nngp")).ntk)
        kern = {"ntk_train_train": k, "ntk_test_train": k[:10]}
        y = np.ones((n, 1))
        t_solve.append(
            median_time(
                lambda kern=kern, y=y: predict.gp_moments(
                    kern, y, np.array([np.inf]), lr=1.0, compute_cov=False
                )["mean"]
            )
        )
    out.update(kernel_ours=np.array(t_ours), kernel_nt=np.array(t_nt), solve=np.array(t_solve))
    # Empirical NTK of a finite net: ours (layerwise) against neural-tangents.
    widths = np.array(spec["widths"])
    n_emp = spec["n_empirical"]
    x = jnp.asarray(x_all[:n_emp], jnp.float32)
    emp: dict[str, list] = {"ours": [], "nt3": [], "nt1": [], "gflops": []}
    for width in widths:
        mspec = model_spec(model, width=int(width), out_dim=1)
        params = init_params(mspec, key=keys.fold(key, "params", int(width)), in_dim=x.shape[1])
        emp["ours"].append(median_time(lambda m=mspec, p=params: empirical_ntk(m, p, x)))
        emp["nt3"].append(median_time(lambda m=mspec, p=params: nt_empirical_ntk(m, p, x, None, 3)))
        small = width <= spec["max_width_jacobian"]
        emp["nt1"].append(
            median_time(lambda m=mspec, p=params: nt_empirical_ntk(m, p, x, None, 1), repeats=1)
            if small
            else np.nan
        )
        emp["gflops"].append(ntk_flops(mspec, x.shape[1], n_emp)["total"] / emp["ours"][-1] / 1e9)
    out.update(
        {f"emp_{k}": np.array(v) for k, v in emp.items()},
        widths=widths,
        n_empirical=np.asarray(n_emp),
        matmul_gflops=np.asarray(matmul_gflops()),
    )
    return out


def analyze(
    runs: Sequence[Mapping[str, np.ndarray]], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    ns, widths = run["ns"], run["widths"]
    numbers = {
        "ns": ns.tolist(),
        "n_max": int(ns.max()),
        "exponent_kernel_ours": loglog_slope(ns, run["kernel_ours"])[0],
        "exponent_kernel_nt": loglog_slope(ns, run["kernel_nt"])[0],
        "exponent_solve": loglog_slope(ns, run["solve"])[0],
        "kernel_ratio_largest_n": float(run["kernel_ours"][-1] / run["kernel_nt"][-1]),
        "kernel_s_largest_n": float(run["kernel_ours"][-1]),
        "solve_s_largest_n": float(run["solve"][-1]),
        "n_empirical": int(run["n_empirical"]),
        "matmul_gflops": float(run["matmul_gflops"]),
        "empirical": {
            f"w{int(w)}": {
                "ours_s": float(o),
                "nt3_s": float(s),
                "nt1_s": float(j),
                "ratio_nt3": float(o / s),
                "ratio_nt1": float(o / j),
                "gflops": float(g),
                "matmul_fraction": float(g / run["matmul_gflops"]),
            }
            for w, o, s, j, g in zip(
                widths,
                run["emp_ours"],
                run["emp_nt3"],
                run["emp_nt1"],
                run["emp_gflops"],
                strict=True,
            )
        },
        "widths": widths.tolist(),
        "width_widest": int(widths.max()),
    }
    numbers["empirical_widest"] = numbers["empirical"][f"w{int(widths.max())}"]
    fig = {
        k: run[k]
        for k in (
            "ns",
            "kernel_ours",
            "kernel_nt",
            "solve",
            "widths",
            "emp_ours",
            "emp_nt3",
            "emp_nt1",
        )
    }
    return numbers, {"cost": fig}

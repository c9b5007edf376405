"""Infinite-width kernels, computed once per (data set, architecture).

`analytic_kernels` evaluates the NNGP (K) and NTK (Θ) of the architecture on training and
test inputs in float64, in blocks so memory stays bounded. The predictions made from them
are in `ntkpaper.kernels.predict` (numpy only), so editing the recursion reruns exactly what
computes kernels, and editing the predictions never recomputes a kernel.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.kernels import analytic as own
from ntkpaper.networks.models import KERNEL_NAMES, MLPSpec, stax_network


def analytic_kernels(
    spec: MLPSpec, x_train: np.ndarray, x_test: np.ndarray, *, block_size: int = 1024
) -> dict[str, np.ndarray]:
    """NTK and NNGP blocks train×train, test×train and test×test, float64.

    ReLU and erf nets in NTK parameterization use our own closed-form recursion
    (`ntkpaper.kernels.analytic`, tiled in `block_size` blocks so memory stays bounded; it
    agrees with neural-tangents to ~1e-15, see E4); anything else uses neural-tangents' kernel_fn.
    """
    x_train = np.asarray(x_train, np.float64)
    x_test = np.asarray(x_test, np.float64)
    blocks = {
        "train_train": (x_train, None),
        "test_train": (x_test, x_train),
        "test_test": (x_test, None),
    }
    out: dict[str, np.ndarray] = {}
    own_recursion = spec.parameterization == "ntk" and spec.activation in ("relu", "erf")
    kernel_fn = None if own_recursion else stax_network(spec)[2]
    for block, (a, b) in blocks.items():
        if len(a) == 0 or (b is not None and len(b) == 0):
            for name in KERNEL_NAMES:
                out[f"{name}_{block}"] = np.zeros((len(a), len(a) if b is None else len(b)))
            continue
        if own_recursion:
            k = own.kernels(
                a,
                b,
                depth=spec.depth,
                activation=spec.activation,
                W_std=spec.W_std,
                b_std=spec.b_std,
                block_size=block_size,
            )
        else:
            k = kernel_fn(jnp.asarray(a), None if b is None else jnp.asarray(b), KERNEL_NAMES)
        for name in KERNEL_NAMES:
            out[f"{name}_{block}"] = np.asarray(getattr(k, name), np.float64)
    return out

"""Full-batch gradient descent for the paper's MLP on a few training points, fast on CPU.

The same iteration as ``train.train`` with ``optax.sgd`` and no minibatches,
θ_{t+1} = θ_t − η·∇L(θ_t) with L = 0.5·mean((f − y)²), computed differently because E3 and
E5 train wide nets (E3: width 4096, two 4096² weight matrices per net) on 16 or 4 points.
There a step is memory-bound: ``jax.grad`` writes each weight gradient, a dense
(n_l × n_{l+1}) outer product, and the update reads and writes the weights again, so a step
streams every weight matrix about five times for a few MFLOPs per point.

Each weight gradient is a sum of n outer products, ∇W_l = s_l·a_lᵀ δ_{l+1} (see
``empirical``'s docstring for the notation), so K consecutive updates add a matrix of rank
≤ n·K. They are kept as factors, W_l + A_l D_l with A_l (n_l, n·K) the layer inputs and
D_l (n·K, n_{l+1}) the scaled back-propagated signals −η·s_l·δ_{l+1}, and folded into W_l
once every K steps (``flush_every``) by one matmul. The forward and backward passes apply the
factors through thin matmuls, so a step reads each weight matrix twice and writes it once per
K steps. The forward pass is batch-major (a @ W) and the backward pass feature-major
(W @ δ): on XLA:CPU both are several times faster than their transposes with a wide W
(measured at width 4096, n = 16: 8 ms for a @ W against 39 ms for Wᵀ a).

Exact in exact arithmetic. In float32 it is closer to the float64 iterates than optax's
float32 GD (width 2048, 32 steps: largest parameter error 1.2e-6 against 1.7e-4), since the
small per-step updates are summed in the factors rather than added one by one to weights
of order 1. tests/test_full_batch_gd.py checks it against optax GD in float64 and float32.
It has no divergence handling: use it at learning rates known to be stable.
"""

from __future__ import annotations

import functools
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.networks.empirical import bias_scale_of, dot, layers, weight_scales
from ntkpaper.networks.models import (
    MLPSpec,
    Params,
    activation_derivative,
    activation_fn,
    layer_names,
)

DEFAULT_FLUSH_EVERY = 16


def _mm(a: jax.Array, b: jax.Array) -> jax.Array:
    """a @ b (at full precision, in a's dtype)."""
    return dot(a, b, 1, 0)


def _forward(spec, scales, kernels, biases, factors, x):
    """Layer inputs a_l (n, n_l), slopes σ'(h_l) (n, n_{l+1}) and the output (n, out_dim)."""
    sigma, sigma_prime = activation_fn(spec.activation), activation_derivative(spec.activation)
    bias_scale = bias_scale_of(spec)
    a, inputs, slopes = x, [], []
    for layer, (W, b, (A, D)) in enumerate(zip(kernels, biases, factors, strict=True)):
        inputs.append(a)
        h = scales[layer] * (_mm(a, W) + _mm(_mm(a, A), D)) + bias_scale * b  # a (W + A D)
        if layer == spec.depth - 1:
            return inputs, slopes, h
        a = sigma(h)
        slopes.append(sigma_prime(h))
    raise AssertionError("unreachable: the loop returns at the output layer")


def _step(spec, lr, kernels, x, y, slot, biases_factors):
    """One GD step; the weight updates go into the factors' columns/rows at ``slot``."""
    biases, factors = biases_factors
    n = x.shape[0]
    scales = weight_scales(spec, kernels)
    inputs, slopes, f = _forward(spec, scales, kernels, biases, factors, x)
    delta = (f - y).T / y.size  # ∂L/∂h_L for L = 0.5·mean(r²), feature-major (out_dim, n)
    new_biases, new_factors = list(biases), list(factors)
    for layer in range(spec.depth - 1, -1, -1):
        W, (A, D) = kernels[layer], factors[layer]
        new_biases[layer] = biases[layer] - (lr * bias_scale_of(spec)) * delta.sum(1)
        new_factors[layer] = (
            lax.dynamic_update_slice(A, inputs[layer].T, (0, slot * n)),
            lax.dynamic_update_slice(D, (-lr * scales[layer]) * delta.T, (slot * n, 0)),
        )
        if layer:  # δ_l = s_l·(W_l + A D) δ_{l+1} ⊙ σ'(h_l), with the weights before this step
            back = _mm(W, delta) + _mm(A, _mm(D, delta))
            delta = scales[layer] * back * slopes[layer - 1].T
    return new_biases, new_factors


def _train_one(spec, kernels, biases, x, y, lr, steps, flush_every):
    rank = x.shape[0] * flush_every

    def block(b, carry):
        kernels, biases = carry
        factors = [
            (jnp.zeros((W.shape[0], rank), W.dtype), jnp.zeros((rank, W.shape[1]), W.dtype))
            for W in kernels
        ]
        length = jnp.minimum(flush_every, steps - b * flush_every)
        biases, factors = lax.fori_loop(
            0,
            length,
            functools.partial(_step, spec, lr, kernels, x, y),
            (biases, factors),
        )
        return [W + _mm(A, D) for W, (A, D) in zip(kernels, factors, strict=True)], biases

    n_blocks = -(-steps // flush_every)
    return lax.fori_loop(0, n_blocks, block, (kernels, biases))


@functools.partial(jax.jit, static_argnames=("spec", "steps", "flush_every", "seeds_in_parallel"))
def _train(spec, params0, x, y, lr, *, steps, flush_every, seeds_in_parallel):
    kernels, biases = layers(params0)
    dtype = kernels[0].dtype
    x, y = jnp.asarray(x, dtype), jnp.asarray(y, dtype)

    def one(kernels_biases):
        return _train_one(spec, *kernels_biases, x, y, lr, steps, flush_every)

    # Wide nets fill both cores with one seed's matmuls; batching seeds then only changes
    # the matmuls' shapes to ones XLA:CPU runs slower, so they go one after another.
    if seeds_in_parallel:
        kernels, biases = jax.vmap(one)((kernels, biases))
    else:
        kernels, biases = lax.map(one, (kernels, biases))
    names = layer_names(params0)
    return {
        "params": {
            name: {"kernel": W, "bias": b}
            for name, W, b in zip(names, kernels, biases, strict=True)
        }
    }


def full_batch_gd(
    spec: MLPSpec,
    params0: Params,
    x_train: Any,
    y_train: Any,
    *,
    lr: float,
    steps: int,
    flush_every: int = DEFAULT_FLUSH_EVERY,
    seeds_in_parallel: bool | None = None,
) -> Params:
    """θ after ``steps`` full-batch GD steps at learning rate ``lr``, for every seed.

    ``params0`` is an ensemble stacked on a leading seed axis (``models.init_ensemble``);
    training runs in its dtype. ``seeds_in_parallel`` (default: for widths below 256, where
    a step is a few small matmuls per seed) vmaps over seeds instead of training them one
    after another. Measured on the 2-core machine, 16 points, 10 seeds, float32, per step
    against ``train.train``: 17 vs 22 ms at width 512, 141 vs 318 ms at 2048 and (2 seeds)
    89 vs 256 ms at 4096; below width 512, where the weights stay in cache, it is slower
    (7.4 vs 5.3 ms at 256) but costs E3 and E5 about a second each.
    """
    if steps < 0 or flush_every < 1:
        raise ValueError(f"need steps >= 0 and flush_every >= 1, got {steps=}, {flush_every=}")
    if seeds_in_parallel is None:
        seeds_in_parallel = spec.width < 256
    return _train(
        spec,
        params0,
        x_train,
        y_train,
        lr,
        steps=steps,
        flush_every=min(flush_every, max(steps, 1)),
        seeds_in_parallel=seeds_in_parallel,
    )

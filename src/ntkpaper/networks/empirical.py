"""Exact empirical NTK of the paper's MLP, layer by layer, without forming Jacobians.

For the net of ``ntkpaper.networks.models`` (layer l maps a_l → h_{l+1}, a_0 = x, a_l = σ(h_l)), the
gradient of an output f_k with respect to layer l's weights is an outer product,
∂f_k/∂W_l = s_l · a_l ⊗ δ^k_{l+1} and ∂f_k/∂b_l = c · δ^k_{l+1}, where δ^k_l = ∂f_k/∂h_l is the
back-propagated signal and (s_l, c) = (W_std/sqrt(n_l), b_std) in NTK parameterization or
(1, 1) in standard parameterization. Hence, with ⟨·,·⟩ the dot product over units,

    Θ_l(x, x') = (1/K) Σ_k ⟨δ^k_{l+1}(x), δ^k_{l+1}(x')⟩ · g_l(x, x'),
    g_l = W_std²·⟨a_l(x), a_l(x')⟩/n_l + b_std²   (ntk),
    g_l = ⟨a_l(x), a_l(x')⟩ + 1                     (standard),

and Θ = Σ_l Θ_l. The 1/K average over the K = out_dim outputs is the trace-averaged kernel,
i.e. neural-tangents' ``empirical_ntk_fn(..., trace_axes=(-1,))``, which averages.

Algorithm: one forward pass (the output layer's forward is never needed) and one backward
pass of δ (batched matmuls; ∂f/∂x is never computed), then two Gram matmuls per layer and an
elementwise product. Two shortcuts: δ_L = e_k gives a δ-Gram of exactly 1 for the output
layer, and (1/K)Σ_k⟨δ^k_{L-1}, δ'^k_{L-1}⟩ = Σ_j σ'_j σ'_j' s²·mean_k W_{L-1}[j, k]², one
weighted Gram whatever K is. For K > 1 the deeper δ are propagated for all K outputs at once
as one (units, K·n) matmul per layer, i.e. K backward passes batched together (no cheaper
exact route exists: the chain has input-dependent diagonals). Arrays are kept
feature-major, (units, n): on XLA:CPU (2-core dev machine, depth 4, n = 256, float32) the
same algorithm in the batch-major layout (a @ W, δ @ Wᵀ) took 3× longer at width 512, 4.5×
at 2048 and 4.7× at 8192.

FLOPs (``ntk_flops``; N inputs through the passes, n1·n2 Gram entries, m hidden width,
depth L ≥ 3): forward 2N(n_0 m + (L−2) m²), backward 2NK(L−2) m², Grams
2 n1 n2 (n_0 + (L−1) m + m + K(L−2) m). All dots use Precision.HIGHEST (a no-op on CPU; keeps
TF32 out on GPUs) and accumulate in the parameters' dtype: float32 params give a float32
kernel, float64 params a float64 one (inputs are cast to the parameters' dtype).

``block_size`` tiles the inputs: the kernel is built from (block_size × block_size) tiles,
each row block's features computed once and each column block's recomputed per row block,
so memory is O(L·width·block_size) beyond the output and compute grows by about
n1/block_size forward/backward passes of x2.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ntkpaper._compat import nt
from ntkpaper.networks.models import (
    MLPSpec,
    Params,
    activation_derivative,
    activation_fn,
    layer_names,
    make_apply,
    params_dtype,
)

_PRECISION = lax.Precision.HIGHEST


def dot(a: jax.Array, b: jax.Array, contract_a: int, contract_b: int) -> jax.Array:
    """Contract one axis of a with one axis of b, accumulating in a's dtype."""
    return lax.dot_general(
        a,
        b,
        (((contract_a,), (contract_b,)), ((), ())),
        precision=_PRECISION,
        preferred_element_type=a.dtype,
    )


def _gram(u: jax.Array, v: jax.Array) -> jax.Array:
    """uᵀv for feature-major u (p, n1), v (p, n2) → (n1, n2)."""
    return dot(u, v, 0, 0)


def layers(params: Params) -> tuple[list[jax.Array], list[jax.Array]]:
    names = layer_names(params)
    kernels = [params["params"][name]["kernel"] for name in names]
    biases = [params["params"][name]["bias"] for name in names]
    return kernels, biases


def weight_scales(spec: MLPSpec, kernels: list[jax.Array]) -> list[float]:
    """s_l multiplying a_l W_l in the forward pass (and δ W_lᵀ in the backward pass)."""
    if spec.parameterization == "ntk":
        return [spec.W_std / math.sqrt(W.shape[0]) for W in kernels]
    return [1.0] * len(kernels)


def bias_scale_of(spec: MLPSpec) -> float:
    """c multiplying b_l in the forward pass."""
    return spec.b_std if spec.parameterization == "ntk" else 1.0


def hidden_forward(
    spec: MLPSpec, kernels: list[jax.Array], biases: list[jax.Array], x: jax.Array
) -> tuple[list[jax.Array], list[jax.Array]]:
    """The forward pass through the hidden layers only (f itself never enters the kernel):
    feature-major layer inputs a_l (n_l, n), a_0 = xᵀ, and the activation slopes σ'(h_l)."""
    sigma, sigma_prime = activation_fn(spec.activation), activation_derivative(spec.activation)
    scales, bias_scale = weight_scales(spec, kernels), bias_scale_of(spec)
    a = x.T
    inputs, slopes = [a], []
    for layer in range(spec.depth - 1):
        h = scales[layer] * dot(kernels[layer], a, 0, 0) + bias_scale * biases[layer][:, None]
        a = sigma(h)
        inputs.append(a)
        slopes.append(sigma_prime(h))
    return inputs, slopes


def _features(
    spec: MLPSpec, kernels: list[jax.Array], biases: list[jax.Array], x: jax.Array
) -> tuple[list[jax.Array], list[jax.Array | None]]:
    """Feature-major layer inputs a_l (n_l, n) and back-propagated signals for the Grams.

    Returns (inputs, deltas): inputs[l] = a_lᵀ; deltas[l] is what layer l's δ-Gram needs:
    None for the output layer (Gram 1), σ'(h_{L-1})ᵀ (m, n) for layer L−2 (weighted Gram),
    δ_{l+1}ᵀ reshaped (K·m, n) for deeper layers.
    """
    depth, n_out = spec.depth, spec.out_dim
    scales = weight_scales(spec, kernels)
    inputs, slopes = hidden_forward(spec, kernels, biases, x)

    deltas: list[jax.Array | None] = [None] * depth
    if depth >= 2:
        deltas[depth - 2] = slopes[depth - 2]
    if depth >= 3:
        # δ_{L-1} for every output k at once: (m, K, n).
        last = scales[depth - 1] * kernels[depth - 1]
        delta = slopes[depth - 2][:, None, :] * last[:, :, None]
        for layer in range(depth - 2, 0, -1):
            width_in = kernels[layer].shape[0]
            n = delta.shape[-1]
            back = dot(kernels[layer], delta.reshape(kernels[layer].shape[1], n_out * n), 1, 0)
            delta = (scales[layer] * back.reshape(width_in, n_out, n)) * slopes[layer - 1][
                :, None, :
            ]
            deltas[layer - 1] = delta.reshape(width_in * n_out, n)
    return inputs, deltas


def _layer_grams(
    spec: MLPSpec,
    kernels: list[jax.Array],
    feats1: tuple[list[jax.Array], list[jax.Array | None]],
    feats2: tuple[list[jax.Array], list[jax.Array | None]],
) -> list[jax.Array]:
    """Θ_l(x1, x2) for each layer l from the two inputs' features."""
    (inputs1, deltas1), (inputs2, deltas2) = feats1, feats2
    depth, n_out = spec.depth, spec.out_dim
    scales = weight_scales(spec, kernels)
    per_layer = []
    for layer in range(depth):
        activation_gram = _gram(inputs1[layer], inputs2[layer])
        if spec.parameterization == "ntk":
            g = (spec.W_std**2 / inputs1[layer].shape[0]) * activation_gram + spec.b_std**2
        else:
            g = activation_gram + 1.0
        if layer == depth - 1:
            per_layer.append(g)
            continue
        if layer == depth - 2:
            # (1/K)Σ_k⟨δ^k, δ'^k⟩ with δ^k = σ'(h)·s·W[:, k]: one Gram weighted per unit.
            W_last = kernels[depth - 1]
            unit_weight = scales[depth - 1] ** 2 * jnp.mean(jnp.square(W_last), axis=1)
            delta_gram = _gram(deltas1[layer] * unit_weight[:, None], deltas2[layer])
        else:
            delta_gram = _gram(deltas1[layer], deltas2[layer])
            if n_out > 1:
                delta_gram = delta_gram / n_out
        per_layer.append(delta_gram * g)
    return per_layer


def _symmetrize(kernels: jax.Array) -> jax.Array:
    """Make K(x, x) exactly symmetric (a matmul's rounding need not be); costs O(n²)."""
    return 0.5 * (kernels + jnp.swapaxes(kernels, -1, -2))


def _layerwise_unblocked(
    spec: MLPSpec, params: Params, x1: jax.Array, x2: jax.Array | None
) -> jax.Array:
    kernels, biases = layers(params)
    if x2 is None:
        feats = _features(spec, kernels, biases, x1)
        return _symmetrize(jnp.stack(_layer_grams(spec, kernels, feats, feats)))
    # One pass over [x1; x2]: bigger, more efficient matmuls than two passes.
    n1 = x1.shape[0]
    inputs, deltas = _features(spec, kernels, biases, jnp.concatenate([x1, x2]))
    feats1 = ([a[:, :n1] for a in inputs], [None if d is None else d[:, :n1] for d in deltas])
    feats2 = ([a[:, n1:] for a in inputs], [None if d is None else d[:, n1:] for d in deltas])
    return jnp.stack(_layer_grams(spec, kernels, feats1, feats2))


def _pad_blocks(x: jax.Array, block_size: int) -> jax.Array:
    """(n, d) → (n_blocks, block_size, d), zero-padded at the end."""
    n_blocks = -(-x.shape[0] // block_size)
    padded = jnp.pad(x, ((0, n_blocks * block_size - x.shape[0]), (0, 0)))
    return padded.reshape(n_blocks, block_size, x.shape[1])


def _layerwise_blocked(
    spec: MLPSpec, params: Params, x1: jax.Array, x2: jax.Array | None, block_size: int
) -> jax.Array:
    kernels, biases = layers(params)
    n1 = x1.shape[0]
    symmetric = x2 is None
    x2 = x1 if symmetric else x2
    n2 = x2.shape[0]
    blocks1, blocks2 = _pad_blocks(x1, block_size), _pad_blocks(x2, block_size)

    def row(x_block1: jax.Array) -> jax.Array:
        feats1 = _features(spec, kernels, biases, x_block1)

        def tile(x_block2: jax.Array) -> jax.Array:
            feats2 = _features(spec, kernels, biases, x_block2)
            return jnp.stack(_layer_grams(spec, kernels, feats1, feats2))

        return lax.map(tile, blocks2)  # (B2, L, b, b)

    tiles = lax.map(row, blocks1)  # (B1, B2, L, b, b)
    n_rows, n_cols = tiles.shape[0] * block_size, tiles.shape[1] * block_size
    kernel = tiles.transpose(2, 0, 3, 1, 4).reshape(spec.depth, n_rows, n_cols)[:, :n1, :n2]
    return _symmetrize(kernel) if symmetric else kernel


@functools.partial(jax.jit, static_argnames=("spec", "block_size"))
def layerwise_ntk(
    spec: MLPSpec,
    params: Params,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    block_size: int | None = None,
) -> jax.Array:
    """Per-layer contributions Θ_l(x1, x2), shape (depth, n1, n2); x2=None means x2 = x1
    (one pass, and the result is exactly symmetric).

    Layer l is Dense_l (its weights and bias). Summing over layers gives ``empirical_ntk``.
    """
    dtype = params_dtype(params)
    x1 = jnp.asarray(x1).astype(dtype)
    x2 = None if x2 is None else jnp.asarray(x2).astype(dtype)
    if block_size is None:
        return _layerwise_unblocked(spec, params, x1, x2)
    return _layerwise_blocked(spec, params, x1, x2, block_size)


@functools.partial(jax.jit, static_argnames=("spec", "block_size"))
def empirical_ntk(
    spec: MLPSpec,
    params: Params,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    block_size: int | None = None,
) -> jax.Array:
    """Θ(x1, x2) of shape (n1, n2), trace-averaged over outputs; x2=None means x2 = x1."""
    return jnp.sum(layerwise_ntk(spec, params, x1, x2, block_size=block_size), axis=0)


def ensemble_layerwise_ntk(
    spec: MLPSpec,
    params: Params,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    block_size: int | None = None,
) -> jax.Array:
    """``layerwise_ntk`` for params stacked on a leading seed axis → (seeds, depth, n1, n2).

    A Python loop over seeds of one compiled per-seed kernel (the seed index is an argument,
    so the slicing happens inside it). Batching gains nothing on CPU: the work is already
    large matmuls, and in benchmarks/bench_empirical_ntk.py (width 512, 8 seeds, shared
    2-core machine) ``jax.vmap`` and ``lax.map`` of ``empirical_ntk`` took 0.96–1.3× and
    1.0–1.1× the loop's time over several runs. The loop holds one seed's features at a time.
    """
    n_seeds = jax.tree.leaves(params)[0].shape[0]
    return jnp.stack(
        [_seed_kernel(spec, params, s, x1, x2, block_size, True) for s in range(n_seeds)]
    )


def ensemble_empirical_ntk(
    spec: MLPSpec,
    params: Params,
    x1: jax.Array,
    x2: jax.Array | None = None,
    *,
    block_size: int | None = None,
) -> jax.Array:
    """``empirical_ntk`` for params stacked on a leading seed axis → (seeds, n1, n2)."""
    n_seeds = jax.tree.leaves(params)[0].shape[0]
    return jnp.stack(
        [_seed_kernel(spec, params, s, x1, x2, block_size, False) for s in range(n_seeds)]
    )


@functools.partial(jax.jit, static_argnums=(0, 5, 6))
def _seed_kernel(
    spec: MLPSpec,
    params: Params,
    seed: jax.Array,
    x1: jax.Array,
    x2: jax.Array | None,
    block_size: int | None,
    per_layer: bool,
) -> jax.Array:
    """The kernel of seed ``seed`` (traced: one compilation serves every seed)."""
    member = jax.tree.map(lambda leaf: leaf[seed], params)
    kernel_fn = layerwise_ntk if per_layer else empirical_ntk
    return kernel_fn(spec, member, x1, x2, block_size=block_size)


def ntk_flops(spec: MLPSpec, in_dim: int, n1: int, n2: int | None = None) -> dict[str, int]:
    """FLOPs (2 per multiply-add) of the matmuls ``empirical_ntk`` does, unblocked.

    x2=None (n2 None) passes n1 inputs and computes n1² Gram entries; otherwise n1 + n2
    inputs and n1·n2 entries. Elementwise work (O(n·width) per layer) is not counted.
    """
    widths = spec.layer_widths(in_dim)
    depth, n_out = spec.depth, spec.out_dim
    n_pass = n1 if n2 is None else n1 + n2
    n_entries = n1 * (n1 if n2 is None else n2)
    forward = sum(2 * n_pass * widths[i] * widths[i + 1] for i in range(depth - 1))
    backward = sum(2 * n_pass * n_out * widths[i] * widths[i + 1] for i in range(1, depth - 1))
    gram_inputs = sum(2 * n_entries * widths[i] for i in range(depth))
    gram_deltas = 2 * n_entries * widths[depth - 1] if depth >= 2 else 0
    gram_deltas += sum(2 * n_entries * n_out * widths[i] for i in range(1, depth - 1))
    total = forward + backward + gram_inputs + gram_deltas
    return {
        "forward": forward,
        "backward": backward,
        "gram": gram_inputs + gram_deltas,
        "total": total,
    }


@functools.lru_cache(maxsize=32)
def _nt_kernel_fn(spec: MLPSpec, implementation: int) -> Any:
    kernel_fn = nt.empirical_ntk_fn(
        make_apply(spec), trace_axes=(-1,), vmap_axes=0, implementation=implementation
    )
    return jax.jit(kernel_fn)


def nt_empirical_ntk(
    spec: MLPSpec,
    params: Params,
    x1: jax.Array,
    x2: jax.Array | None = None,
    implementation: int = 3,
) -> jax.Array:
    """neural-tangents' empirical NTK of the same net (trace-averaged, vmap_axes=0).

    implementation: 1 Jacobian contraction, 2 NTK-vector products, 3 structured derivatives.
    """
    dtype = params_dtype(params)
    params = jax.tree.map(jnp.asarray, params)  # nt needs jax arrays, not numpy
    x1 = jnp.asarray(x1).astype(dtype)
    x2 = None if x2 is None else jnp.asarray(x2).astype(dtype)
    return _nt_kernel_fn(spec, implementation)(x1, x2, params)


@functools.lru_cache(maxsize=32)
def _nt_full_kernel_fn(spec: MLPSpec) -> Any:
    kernel_fn = nt.empirical_ntk_fn(make_apply(spec), trace_axes=(), vmap_axes=0, implementation=3)
    return jax.jit(kernel_fn)


def nt_full_empirical_ntk(spec: MLPSpec, params: Params, x1: jax.Array, x2: jax.Array) -> jax.Array:
    """The full empirical NTK of one net, every pair of outputs: (n1, n2, K, K).

    At finite width the blocks between different outputs are not zero (they vanish only in
    the limit), so the exact linearized dynamics of a multi-output net need this kernel, not
    the trace-averaged one. neural-tangents' structured derivatives (implementation 3)."""
    dtype = params_dtype(params)
    params = jax.tree.map(jnp.asarray, params)
    x1, x2 = jnp.asarray(x1).astype(dtype), jnp.asarray(x2).astype(dtype)
    return _nt_full_kernel_fn(spec)(x1, x2, params)


# ----------------------------------------------------------------------------- full NTK
# ``full_ntk`` is exact and never forms a Jacobian: for the paper's MLP the gradient of output
# k with respect to layer l's weights is s_l·a_l ⊗ δ^k_{l+1} (notation above), so
#
#     Θ[(x, k), (x', k')] = Σ_l ⟨δ^k_{l+1}(x), δ^{k'}_{l+1}(x')⟩ · g_l(x, x'),
#
# with δ^k_L = e_k (the output layer contributes g_{L-1}(x, x')·[k = k']) and g_l the layer's
# input Gram (``_layer_grams``). Indices are example-major, (x, k) → x·K + k, the
# order of ``Y.reshape(-1)``.


def _input_gram(spec: MLPSpec, a: jax.Array) -> jax.Array:
    """g_l for feature-major layer inputs a (n_l, n): the Gram of ∂h/∂(W_l, b_l) per unit."""
    gram = dot(a, a, 0, 0)
    if spec.parameterization == "ntk":
        return (spec.W_std**2 / a.shape[0]) * gram + spec.b_std**2
    return gram + 1.0


@functools.partial(jax.jit, static_argnames="spec")
def full_ntk(spec: MLPSpec, params: Params, x: jax.Array) -> jax.Array:
    """The full empirical NTK on x: (n·K, n·K), example-major (see the comment above)."""
    kernels, biases = layers(params)
    x = jnp.asarray(x).astype(params_dtype(params))
    scales = weight_scales(spec, kernels)
    n, n_out, depth = x.shape[0], spec.out_dim, spec.depth
    inputs, slopes = hidden_forward(spec, kernels, biases, x)

    def expand(g: jax.Array) -> jax.Array:  # g(x, x') on every output pair (k, k')
        return jnp.repeat(jnp.repeat(g, n_out, axis=0), n_out, axis=1)

    theta = jnp.kron(_input_gram(spec, inputs[depth - 1]), jnp.eye(n_out, dtype=x.dtype))
    if depth >= 2:
        # δ_{L-1} for every output at once, (units, n, K): σ'(h_{L-1}) ⊙ s·W_{L-1}[:, k].
        delta = slopes[depth - 2][:, :, None] * (scales[depth - 1] * kernels[depth - 1])[:, None]
        for layer in range(depth - 2, -1, -1):
            flat = delta.reshape(delta.shape[0], n * n_out)
            theta = theta + dot(flat, flat, 0, 0) * expand(_input_gram(spec, inputs[layer]))
            if layer:  # δ_layer = s·(W_layer δ_{layer+1}) ⊙ σ'(h_layer)
                back = dot(kernels[layer], flat, 1, 0).reshape(-1, n, n_out)
                delta = scales[layer] * back * slopes[layer - 1][:, :, None]
    return 0.5 * (theta + theta.T)


def ensemble_full_ntk(spec: MLPSpec, params: Params, x: jax.Array) -> np.ndarray:
    """``full_ntk`` of every member of params stacked on a leading axis, float64 numpy
    (members one after another: each kernel is already large matmuls)."""
    members = jax.tree.leaves(params)[0].shape[0]
    member = [jax.tree.map(lambda leaf, i=i: leaf[i], params) for i in range(members)]
    return np.stack([np.asarray(full_ntk(spec, p, x), np.float64) for p in member])

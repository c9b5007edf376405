"""The layerwise empirical NTK against neural-tangents' three implementations and against a
naive per-layer Jacobian contraction; blocking, symmetry, PSD, dtypes, and the seed-batched
version."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkpaper.networks import empirical, models
from ntkpaper.networks.models import MLPSpec

# Float32 rounding of sums over ~width terms vs float64's; errors are measured relative to the
# largest kernel entry, the scale of the summands (entries near 0 carry the same absolute error).
RTOL = {jnp.float32: 1e-5, jnp.float64: 1e-10}
IN_DIM = 3


def _params(spec: MLPSpec, dtype: type, seed: int = 0) -> models.Params:
    """Parameters with the distribution of ``spec`` drawn by numpy (nothing to compile)."""
    rng = np.random.default_rng(seed)
    widths = spec.layer_widths(IN_DIM)
    layers = {}
    for i in range(spec.depth):
        kernel = rng.standard_normal((widths[i], widths[i + 1]))
        bias = rng.standard_normal(widths[i + 1])
        if spec.parameterization == "standard":
            kernel, bias = kernel * spec.W_std / np.sqrt(widths[i]), bias * spec.b_std
        layers[f"Dense_{i}"] = {
            "kernel": jnp.asarray(kernel, dtype),
            "bias": jnp.asarray(bias, dtype),
        }
    return {"params": layers}


def _inputs(n: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, IN_DIM))  # float64, as numpy hands it


def _assert_close(actual: jax.Array, expected: jax.Array, dtype: type) -> None:
    expected = np.asarray(expected, np.float64)
    scale = np.max(np.abs(expected))
    np.testing.assert_allclose(
        np.asarray(actual, np.float64), expected, rtol=RTOL[dtype], atol=RTOL[dtype] * scale
    )


# Every (activation, parameterization, out_dim) combination once; the nt implementation cycles
# 1, 2, 3 and the dtype flips every three cases, so each implementation meets both dtypes, both
# parameterizations and both out_dims.
NT_CASES = [
    pytest.param(impl, act, par, k, dt, id=f"impl{impl}-{act}-{par}-K{k}-{dt.__name__}")
    for i, (act, par, k) in enumerate(
        itertools.product(["relu", "erf", "tanh"], ["ntk", "standard"], [1, 3])
    )
    for impl, dt in [(i % 3 + 1, [jnp.float32, jnp.float64][(i // 3) % 2])]
]


@pytest.mark.parametrize(
    ("implementation", "activation", "parameterization", "out_dim", "dtype"), NT_CASES
)
def test_matches_neural_tangents(
    implementation: int, activation: str, parameterization: str, out_dim: int, dtype: type
) -> None:
    spec = MLPSpec(
        width=24,
        depth=4,
        activation=activation,
        parameterization=parameterization,
        W_std=1.4,
        b_std=0.3,
        out_dim=out_dim,
    )
    params = _params(spec, dtype)
    x1, x2 = _inputs(5, 1), _inputs(4, 2)
    # One nt call on [x1; x2] gives both the cross block and the x1 block.
    reference = empirical.nt_empirical_ntk(
        spec, params, np.concatenate([x1, x2]), None, implementation
    )
    cross = empirical.empirical_ntk(spec, params, x1, x2)
    same = empirical.empirical_ntk(spec, params, x1)
    assert cross.dtype == same.dtype == dtype
    _assert_close(cross, reference[:5, 5:], dtype)
    _assert_close(same, reference[:5, :5], dtype)


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_shallow_nets_match_neural_tangents(depth: int) -> None:
    """depth 1 (linear), 2 (no δ matmul), 3 (one δ matmul) exercise the special cases."""
    spec = MLPSpec(width=16, depth=depth, activation="erf", out_dim=2)
    params = _params(spec, jnp.float64)
    x1, x2 = _inputs(4, 3), _inputs(3, 4)
    reference = empirical.nt_empirical_ntk(spec, params, x1, x2, 3)
    _assert_close(empirical.empirical_ntk(spec, params, x1, x2), reference, jnp.float64)


def _naive_layerwise_ntk(spec: MLPSpec, params: models.Params, x1, x2) -> np.ndarray:
    """Θ_l = (1/K) Σ_k J_l^k(x1) J_l^k(x2)ᵀ from full Jacobians w.r.t. layer l's params."""
    apply = models.make_apply(spec)
    jacobian = jax.jit(jax.jacrev(apply))
    jac1 = jacobian(params, jnp.asarray(x1))["params"]
    jac2 = jacobian(params, jnp.asarray(x2))["params"]
    per_layer = []
    for name in models.layer_names(params):
        total = 0.0
        for leaf in ("kernel", "bias"):
            j1 = np.asarray(jac1[name][leaf]).reshape(len(x1), spec.out_dim, -1)
            j2 = np.asarray(jac2[name][leaf]).reshape(len(x2), spec.out_dim, -1)
            total = total + np.einsum("ikp,jkp->ij", j1, j2) / spec.out_dim
        per_layer.append(total)
    return np.stack(per_layer)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_layerwise_matches_naive_per_layer_jacobians_and_sums_to_total(
    parameterization: str,
) -> None:
    spec = MLPSpec(
        width=12, depth=4, activation="tanh", parameterization=parameterization, out_dim=3
    )
    params = _params(spec, jnp.float64)
    x1, x2 = _inputs(5, 5), _inputs(3, 6)
    per_layer = empirical.layerwise_ntk(spec, params, x1, x2)
    assert per_layer.shape == (4, 5, 3)
    _assert_close(per_layer, _naive_layerwise_ntk(spec, params, x1, x2), jnp.float64)
    np.testing.assert_allclose(
        per_layer.sum(axis=0), empirical.empirical_ntk(spec, params, x1, x2), rtol=1e-13
    )


@pytest.mark.parametrize("block_size", [3, 16])  # 3: padded last tile; 16: one tile > n
@pytest.mark.parametrize("symmetric", [True, False], ids=["x2=None", "x2"])
def test_blocked_equals_unblocked(block_size: int, symmetric: bool) -> None:
    spec = MLPSpec(width=16, depth=4, out_dim=2)
    params = _params(spec, jnp.float64)
    x1 = _inputs(7, 7)
    x2 = None if symmetric else _inputs(5, 8)
    blocked = empirical.layerwise_ntk(spec, params, x1, x2, block_size=block_size)
    unblocked = empirical.layerwise_ntk(spec, params, x1, x2)
    assert blocked.shape == unblocked.shape == (4, 7, 7 if symmetric else 5)
    np.testing.assert_allclose(blocked, unblocked, rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_kernel_is_symmetric_psd(dtype: type) -> None:
    spec = MLPSpec(width=32, depth=4, activation="erf")
    params = _params(spec, dtype)
    kernel = np.asarray(empirical.empirical_ntk(spec, params, _inputs(20, 9)), np.float64)
    np.testing.assert_array_equal(kernel, kernel.T)
    eigenvalues = np.linalg.eigvalsh(kernel)
    assert eigenvalues[0] > 0  # J Jᵀ with 20 inputs and ~2000 parameters: positive definite
    assert eigenvalues[0] > -RTOL[dtype] * eigenvalues[-1]


def test_float32_stays_float32() -> None:
    """x64 is on globally: no float64 may sneak into the float32 path (not even a scalar)."""
    spec = MLPSpec(width=8, depth=4, activation="erf", out_dim=2)
    params = _params(spec, jnp.float32)
    x = _inputs(3, 0)  # float64, as numpy hands it
    assert empirical.layerwise_ntk(spec, params, x).dtype == jnp.float32
    assert empirical.empirical_ntk(spec, params, x, block_size=2).dtype == jnp.float32
    x32 = x.astype(np.float32)
    for kernel_fn in (
        lambda p: empirical.empirical_ntk(spec, p, x32, x32[:2]),
        lambda p: empirical.empirical_ntk(spec, p, x32, block_size=2),
    ):
        assert "f64" not in str(jax.make_jaxpr(kernel_fn)(params))


def test_ensemble_equals_loop_over_seeds() -> None:
    spec = MLPSpec(width=16, depth=4, activation="relu", out_dim=2)
    members = [_params(spec, jnp.float64, seed=s) for s in range(3)]
    ensemble = jax.tree.map(lambda *leaves: jnp.stack(leaves), *members)
    x1, x2 = _inputs(5, 10), _inputs(4, 11)
    batched = empirical.ensemble_empirical_ntk(spec, ensemble, x1, x2)
    batched_layers = empirical.ensemble_layerwise_ntk(spec, ensemble, x1, x2, block_size=2)
    assert batched.shape == (3, 5, 4)
    for s in range(3):
        single = empirical.empirical_ntk(spec, members[s], x1, x2)
        np.testing.assert_allclose(batched[s], single, rtol=1e-13)
        np.testing.assert_allclose(batched_layers[s].sum(axis=0), single, rtol=1e-13)
    assert not np.allclose(batched[0], batched[1])


def test_flop_count_by_hand() -> None:
    """depth 4, width m, in_dim d, K outputs, x2=None with n inputs."""
    n, d, m, k = 10, 3, 20, 2
    flops = empirical.ntk_flops(MLPSpec(width=m, depth=4, out_dim=k), d, n)
    assert flops["forward"] == 2 * n * (d * m + 2 * m * m)
    assert flops["backward"] == 2 * n * k * 2 * m * m
    assert flops["gram"] == 2 * n * n * ((d + 3 * m) + (m + 2 * k * m))
    assert flops["total"] == flops["forward"] + flops["backward"] + flops["gram"]

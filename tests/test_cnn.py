"""The Flax CNN of E13 is the stax conv net: same outputs from the same parameters (both
readouts), and its empirical NTK concentrates on neural-tangents' analytic CNTK as the
channel count grows — a check that fails on a mismatched net (wrong fan-in, pooling, bias)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkpaper.networks import cnn

from .conftest import relative_error

READOUTS = ["flatten", "pool"]


def _inputs(n: int, shape=(8, 8, 1), seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, int(np.prod(shape))))


@pytest.mark.parametrize(("readout", "filter_size"), [("flatten", 3), ("pool", 3), ("pool", 2)])
def test_flax_cnn_equals_the_stax_cnn(readout, filter_size):
    """Same parameters → same outputs, both ways round (Flax init → stax, stax init → Flax);
    an even filter checks the SAME padding's asymmetric split."""
    spec = cnn.CNNSpec(channels=6, conv_layers=2, readout=readout, out_dim=3, b_std=0.3,
                       W_std=1.4, filter_size=filter_size)  # fmt: skip
    x = _inputs(5)
    _, stax_apply, _ = cnn.stax_network(spec)
    params = cnn.init_params(spec, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    ours = np.asarray(cnn.apply(spec, params, x))
    theirs = np.asarray(stax_apply(cnn.to_stax_params(spec, params), cnn.images(spec, x)))
    assert ours.shape == (5, 3)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    _, stax_params = cnn.stax_network(spec)[0](jax.random.PRNGKey(1), (-1, 8, 8, 1))
    flax_params = cnn.from_stax_params(spec, stax_params)
    np.testing.assert_allclose(
        np.asarray(cnn.apply(spec, flax_params, x)),
        np.asarray(stax_apply(stax_params, cnn.images(spec, x))),
        rtol=1e-5,
        atol=1e-6,
    )  # fmt: skip  (stax initializes float32)
    # the layouts map both ways without loss
    back = cnn.from_stax_params(spec, cnn.to_stax_params(spec, params))
    assert jax.tree.all(jax.tree.map(lambda a, b: bool(jnp.array_equal(a, b)), params, back))


@pytest.mark.parametrize("readout", READOUTS)
def test_parameter_layout(readout):
    spec = cnn.CNNSpec(channels=4, conv_layers=3, readout=readout, out_dim=2)
    shapes = jax.eval_shape(lambda: cnn.init_params(spec, key=jax.random.PRNGKey(0)))["params"]
    assert shapes["Conv_0"]["kernel"].shape == (3, 3, 1, 4)
    assert shapes["Conv_2"]["kernel"].shape == (3, 3, 4, 4)
    assert shapes["Conv_2"]["bias"].shape == (4,)
    assert shapes["Dense_0"]["kernel"].shape == ((64 * 4 if readout == "flatten" else 4), 2)


@pytest.mark.parametrize(("field", "value"), [("channels", 0), ("readout", "max"),
                                              ("activation", "tanh"), ("W_std", 0.0)])  # fmt: skip
def test_spec_rejects_bad_values(field, value):
    with pytest.raises(ValueError, match=f"CNNSpec.{field}|CNNSpec needs"):
        cnn.CNNSpec(**{"channels": 2, field: value})


@pytest.mark.parametrize("readout", READOUTS)
def test_tiled_analytic_kernels_equal_one_call(readout):
    spec = cnn.CNNSpec(channels=1, readout=readout, image_shape=(5, 5, 1))
    x1, x2 = _inputs(7, (5, 5, 1), 1), _inputs(4, (5, 5, 1), 2)
    kernel_fn = cnn.stax_network(spec)[2]
    full = kernel_fn(cnn.images(spec, x1), None, ("ntk", "nngp"))
    cross = kernel_fn(cnn.images(spec, x2), cnn.images(spec, x1), "ntk")
    tiled = cnn.analytic_kernels(spec, x1, block_size=3)
    # Diagonal entries (correlation 1, where arccos turns rounding δ into sqrt δ) agree only to
    # ~1e-10 between jitted and eager neural-tangents; off the diagonal to rounding.
    off = ~np.eye(len(x1), dtype=bool)
    np.testing.assert_allclose(tiled["ntk"][off], np.asarray(full.ntk)[off], rtol=1e-12)
    np.testing.assert_allclose(tiled["ntk"], full.ntk, rtol=1e-8)
    np.testing.assert_allclose(tiled["nngp"], full.nngp, rtol=1e-8)
    assert np.array_equal(tiled["ntk"], tiled["ntk"].T)
    np.testing.assert_allclose(cnn.analytic_kernels(spec, x2, x1, block_size=3)["ntk"], cross,
                               rtol=1e-12)  # fmt: skip


def test_structured_derivatives_equal_the_jacobian_contraction():
    """neural-tangents' implementation 3 (what E13 uses) against the plain J·Jᵀ of impl. 1."""
    spec = cnn.CNNSpec(channels=5, readout="pool", out_dim=2, image_shape=(5, 5, 1))
    params = cnn.init_params(spec, key=jax.random.PRNGKey(3), dtype=jnp.float64)
    x = _inputs(4, (5, 5, 1), 3)
    k3 = cnn.empirical_ntk(spec, params, x, implementation=3)
    k1 = cnn.empirical_ntk(spec, params, x, implementation=1)
    np.testing.assert_allclose(k3, k1, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("readout", READOUTS)
def test_empirical_cntk_converges_to_the_analytic_cntk(readout):
    """At 1024 channels the empirical kernel at init is within a few percent of the analytic
    CNTK, and much closer than at 16 channels (deviation ∝ C^{-1/2}: 8× fewer at 64×)."""
    shape = (6, 6, 1)
    x = _inputs(3, shape, 4)
    analytic = cnn.analytic_kernels(cnn.CNNSpec(channels=1, readout=readout, image_shape=shape),
                                    x, block_size=3, get=("ntk",))["ntk"]  # fmt: skip

    def deviation(channels: int) -> float:
        spec = cnn.CNNSpec(channels=channels, readout=readout, image_shape=shape)
        devs = []
        for seed in range(3):
            params = cnn.init_params(spec, key=jax.random.PRNGKey(seed), dtype=jnp.float32)
            emp = np.asarray(cnn.empirical_ntk(spec, params, x), np.float64)
            devs.append(relative_error(emp, analytic))
        return float(np.mean(devs))

    wide, narrow = deviation(1024), deviation(16)
    assert wide < 0.08
    assert wide < narrow / 3

"""The Flax MLP is the stax network: same function given the same numbers, and its empirical NTK
converges to stax's analytic NTK at rate 1/sqrt(width) — a check that fails on a mismatched net."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkpaper.networks import models
from ntkpaper.networks.empirical import empirical_ntk
from ntkpaper.networks.models import MLPSpec

from .conftest import relative_error

ACTIVATIONS = ["relu", "erf", "tanh"]
PARAMETERIZATIONS = ["ntk", "standard"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("width", 0),
        ("width", 2.5),
        ("depth", 0),
        ("depth", True),
        ("activation", "gelu"),
        ("parameterization", "mup"),
        ("W_std", 0.0),
        ("b_std", -0.1),
        ("out_dim", 0),
    ],
)
def test_spec_rejects_bad_values_naming_the_field(field: str, value: object) -> None:
    kwargs = {"width": 8, field: value}
    with pytest.raises(ValueError, match=f"MLPSpec.{field}"):
        MLPSpec(**kwargs)


def test_spec_error_lists_allowed_values() -> None:
    with pytest.raises(ValueError, match=r"relu.*erf.*tanh"):
        MLPSpec(width=8, activation="sigmoid")


def _unit_params(spec: MLPSpec, in_dim: int, *, seed: int, dtype: type = np.float32) -> dict:
    """N(0, 1) parameters drawn by numpy (no jax PRNG: nothing to compile, version-independent);
    NTK-parameterization params for any W_std, b_std and activation (the scaling is inside the
    module)."""
    rng = np.random.default_rng(seed)
    widths = spec.layer_widths(in_dim)
    return {
        "params": {
            f"Dense_{i}": {
                "kernel": jnp.asarray(rng.standard_normal((widths[i], widths[i + 1]), dtype)),
                "bias": jnp.asarray(rng.standard_normal(widths[i + 1], dtype)),
            }
            for i in range(spec.depth)
        }
    }


def _standard_from_unit(spec: MLPSpec, params: models.Params) -> models.Params:
    """Rescale N(0, 1) params to standard parameterization's N(0, W_std²/n_in), N(0, b_std²)."""
    return {
        "params": {
            name: {
                "kernel": layer["kernel"] * (spec.W_std / math.sqrt(layer["kernel"].shape[0])),
                "bias": layer["bias"] * spec.b_std,
            }
            for name, layer in params["params"].items()
        }
    }


# One small spec shared by the init tests, so its (slow-to-compile: threefry) init compiles once.
SMALL = MLPSpec(width=16, depth=3, out_dim=2)


def test_init_params_layout_and_dtype() -> None:
    """float64 asked → float64 params (flax.linen would keep float32 under x64)."""
    params = models.init_params(SMALL, key=jax.random.PRNGKey(0), in_dim=5, dtype=jnp.float64)
    assert models.layer_names(params) == ["Dense_0", "Dense_1", "Dense_2"]
    shapes = {
        name: (layer["kernel"].shape, layer["bias"].shape)
        for name, layer in params["params"].items()
    }
    assert shapes == {
        "Dense_0": ((5, 16), (16,)),
        "Dense_1": ((16, 16), (16,)),
        "Dense_2": ((16, 2), (2,)),
    }
    assert all(leaf.dtype == jnp.float64 for leaf in jax.tree.leaves(params))


def test_float32_net_stays_float32_on_float64_inputs() -> None:
    params = _unit_params(SMALL, 5, seed=0, dtype=np.float32)
    x = np.random.default_rng(0).normal(size=(4, 5))  # numpy's default float64
    assert models.apply(SMALL, params, x).dtype == jnp.float32


def test_layer_names_are_in_network_order() -> None:
    spec = MLPSpec(width=4, depth=12)
    shapes = jax.eval_shape(lambda: models.init_params(spec, key=jax.random.PRNGKey(0), in_dim=3))
    assert models.layer_names(shapes) == [f"Dense_{i}" for i in range(12)]


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
def test_init_distribution(parameterization: str) -> None:
    """NTK: every parameter N(0, 1). Standard: W ~ N(0, W_std²/n_in), b ~ N(0, b_std²)."""
    spec = MLPSpec(width=512, depth=3, parameterization=parameterization, W_std=1.5, b_std=0.5)
    params = models.init_params(spec, key=jax.random.PRNGKey(1), in_dim=64)
    assert all(leaf.dtype == jnp.float32 for leaf in jax.tree.leaves(params))
    for name, fan_in in zip(models.layer_names(params), spec.layer_widths(64)[:-1], strict=True):
        kernel, bias = params["params"][name]["kernel"], params["params"][name]["bias"]
        if parameterization == "ntk":
            kernel_std, bias_std = 1.0, 1.0
        else:
            kernel_std, bias_std = 1.5 / math.sqrt(fan_in), 0.5
        # Sample std of N ≥ 512 normals is within 4/sqrt(2N) relative (4 standard errors).
        assert abs(float(jnp.std(kernel)) / kernel_std - 1) < 4 / math.sqrt(2 * kernel.size)
        if bias.size >= 512:
            assert abs(float(jnp.std(bias)) / bias_std - 1) < 4 / math.sqrt(2 * bias.size)
        assert abs(float(jnp.mean(kernel))) < 4 * kernel_std / math.sqrt(kernel.size)


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_flax_apply_equals_stax_apply_exactly(
    parameterization: str, activation: str, dtype: jnp.dtype
) -> None:
    """Same numbers in both layouts → bitwise the same outputs (both jitted, so XLA sees the
    same dots; eager op-by-op dispatch of stax's tensordot rounds differently)."""
    spec = MLPSpec(
        width=48,
        depth=4,
        activation=activation,
        parameterization=parameterization,
        W_std=1.3,
        b_std=0.2,
        out_dim=3,
    )
    params = _unit_params(spec, 5, seed=2, dtype=dtype)
    if parameterization == "standard":
        params = _standard_from_unit(spec, params)
    x = jnp.asarray(np.random.default_rng(2).normal(size=(9, 5)), dtype)
    _, stax_apply, _ = models.stax_network(spec)
    ours = jax.jit(models.make_apply(spec))(params, x)
    theirs = jax.jit(stax_apply)(models.to_stax_params(params), x)
    assert ours.dtype == theirs.dtype == dtype
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))


def test_stax_params_round_trip() -> None:
    params = _unit_params(SMALL, 4, seed=3)
    stax_params = models.to_stax_params(params)
    assert [len(p) for p in stax_params] == [2, 0, 2, 0, 2]  # Dense, act, Dense, act, Dense
    assert stax_params[2][1].shape == (1, 16)
    round_trip = models.from_stax_params(stax_params)
    assert jax.tree.all(jax.tree.map(np.array_equal, round_trip, params))


def test_ensemble_member_s_is_init_with_fold_in_key_s() -> None:
    """Member s is init_params(fold_in(key, s)) whatever n_seeds is: adding seeds changes no
    other seed's parameters."""
    key = jax.random.PRNGKey(4)
    ensemble = models.init_ensemble(SMALL, key=key, in_dim=5, n_seeds=3, dtype=jnp.float64)
    for s in range(3):
        single = models.init_params(
            SMALL, key=jax.random.fold_in(key, s), in_dim=5, dtype=jnp.float64
        )
        member = jax.tree.map(lambda a, s=s: a[s], ensemble)
        assert jax.tree.all(jax.tree.map(np.array_equal, member, single))
    kernels = ensemble["params"]["Dense_1"]["kernel"]
    assert kernels.shape == (3, 16, 16)
    assert not np.array_equal(kernels[0], kernels[1])


# --- Large width: empirical NTK of the Flax net vs stax's analytic NTK ----------------------

WIDTH = 4096
# sqrt(width)·‖Θ_emp − Θ_∞‖_F/‖Θ_∞‖_F, measured over 40 seeds at widths 256 and 1024 and 12 at
# 4096 for relu/erf, depth 3/4, these 6 inputs (float64): means 1.3–3.5, constant in width
# (so the 1/sqrt(width) rate holds), largest of ~450 draws 7.1. C = 10 leaves that margin.
C_TOLERANCE = 10.0


def _circle_inputs() -> jnp.ndarray:
    angles = np.linspace(0, np.pi, 6, endpoint=False)
    return jnp.asarray(np.stack([np.cos(angles), np.sin(angles), np.full(6, 0.5)], axis=1))


@pytest.fixture(scope="module", params=[3, 4], ids=lambda d: f"depth{d}")
def unit_params(request: pytest.FixtureRequest) -> tuple[int, models.Params]:
    """N(0, 1) parameters at width 4096, shared by the checks below."""
    depth = request.param
    return depth, _unit_params(MLPSpec(width=WIDTH, depth=depth), 3, seed=5)


def _relative_error_times_sqrt_width(
    net_spec: MLPSpec, params: models.Params, kernel_spec: MLPSpec
) -> float:
    x = _circle_inputs()
    analytic = models.stax_network(kernel_spec)[2](x, None, "ntk")
    empirical = empirical_ntk(net_spec, params, x).astype(jnp.float64)
    return relative_error(empirical, analytic) * math.sqrt(WIDTH)


@pytest.mark.parametrize("parameterization", PARAMETERIZATIONS)
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_empirical_ntk_converges_to_stax_kernel(
    unit_params: tuple[int, models.Params], activation: str, parameterization: str
) -> None:
    """In standard parameterization nt's kernel_fn uses the finite widths (Θ grows ∝ width),
    and the empirical kernel matches it at the same relative rate."""
    depth, params = unit_params
    spec = MLPSpec(
        width=WIDTH, depth=depth, activation=activation, parameterization=parameterization
    )
    if parameterization == "standard":
        params = _standard_from_unit(spec, params)
    assert _relative_error_times_sqrt_width(spec, params, spec) < C_TOLERANCE


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_convergence_check_fails_on_a_mismatched_net(
    unit_params: tuple[int, models.Params], activation: str
) -> None:
    """The check has teeth: the same numbers under a wrong b_std, or a standard-parameterization
    net against the NTK-parameterization kernel, miss the tolerance."""
    depth, params = unit_params
    spec = MLPSpec(width=WIDTH, depth=depth, activation=activation)
    wrong_bias = MLPSpec(width=WIDTH, depth=depth, activation=activation, b_std=0.3)
    assert _relative_error_times_sqrt_width(wrong_bias, params, spec) > 2 * C_TOLERANCE
    standard = MLPSpec(width=WIDTH, depth=depth, activation=activation, parameterization="standard")
    standard_params = _standard_from_unit(standard, params)
    assert _relative_error_times_sqrt_width(standard, standard_params, spec) > 2 * C_TOLERANCE

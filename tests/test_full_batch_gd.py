"""Tests for ntkpaper.networks.full_batch_gd: the deferred low-rank GD against optax GD
(train.train).

The reference differentiates the Flax net with ``jax.grad`` and updates every weight every
step; full_batch_gd back-propagates by hand and folds the updates in every K steps. In
float64 the two agree to rounding; in float32, full_batch_gd stays within a tolerance scaled
by float32's epsilon of the float64 iterates.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkpaper.networks import train
from ntkpaper.networks.full_batch_gd import full_batch_gd
from ntkpaper.networks.models import MLPSpec, ensemble_apply, init_ensemble, make_apply

from .conftest import relative_error

N_TRAIN, D_IN, OUT_DIM, N_SEEDS = 7, 3, 2, 3


def problem(spec: MLPSpec, dtype=jnp.float64):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(N_TRAIN, D_IN))
    y = np.stack([x[:, 0] * x[:, 1], np.sin(x[:, 2])], axis=1)[:, : spec.out_dim]
    params0 = init_ensemble(spec, key=jax.random.key(0), in_dim=D_IN, n_seeds=N_SEEDS, dtype=dtype)
    return params0, x, y


def reference(spec: MLPSpec, params0, x, y, *, lr: float, steps: int):
    _, params = train.train(
        make_apply(spec), params0, x, y, x, y, lr=lr, steps=steps, record_steps=[0, steps]
    )
    return params


def assert_params_close(ours, theirs, rtol: float) -> None:
    for (path, a), b in zip(
        jax.tree_util.tree_leaves_with_path(ours), jax.tree.leaves(theirs), strict=True
    ):
        np.testing.assert_allclose(
            np.asarray(a), np.asarray(b), rtol=rtol, atol=rtol, err_msg=jax.tree_util.keystr(path)
        )


@pytest.mark.parametrize(
    ("parameterization", "activation", "depth", "seeds_in_parallel"),
    [
        ("ntk", "relu", 4, False),
        ("ntk", "erf", 3, True),
        ("standard", "tanh", 2, False),
        ("ntk", "relu", 1, True),
    ],
)
def test_equals_optax_gd_in_float64(parameterization, activation, depth, seeds_in_parallel):
    spec = MLPSpec(
        width=24,
        depth=depth,
        activation=activation,
        parameterization=parameterization,
        out_dim=OUT_DIM,
    )
    params0, x, y = problem(spec)
    lr = 0.5 if parameterization == "ntk" else 0.05
    # 11 steps in blocks of 4: two flushes and a partial last block.
    ours = full_batch_gd(
        spec, params0, x, y, lr=lr, steps=11, flush_every=4, seeds_in_parallel=seeds_in_parallel
    )
    assert_params_close(ours, reference(spec, params0, x, y, lr=lr, steps=11), rtol=1e-11)


def test_training_moves_the_parameters_and_lowers_the_loss():
    spec = MLPSpec(width=32, out_dim=OUT_DIM)
    params0, x, y = problem(spec)

    def loss(params):
        return train.ensemble_mse_loss(ensemble_apply(spec, params, x), y)

    unchanged = full_batch_gd(spec, params0, x, y, lr=1.0, steps=0)
    assert_params_close(unchanged, params0, rtol=0)
    # A stable learning rate: the loss falls at every checkpoint, for every seed.
    losses = [loss(full_batch_gd(spec, params0, x, y, lr=1.0, steps=t)) for t in (0, 10, 30)]
    assert np.all(np.diff(losses, axis=0) < 0)


def test_flush_interval_changes_only_rounding():
    spec = MLPSpec(width=16, out_dim=OUT_DIM)
    params0, x, y = problem(spec)
    every_step = full_batch_gd(spec, params0, x, y, lr=1.0, steps=9, flush_every=1)
    for k in (2, 9, 50):
        assert_params_close(
            full_batch_gd(spec, params0, x, y, lr=1.0, steps=9, flush_every=k),
            every_step,
            rtol=1e-12,
        )


def test_float32_stays_within_float32_rounding_of_float64_gd():
    spec = MLPSpec(width=512, out_dim=1)
    params0, x, y = problem(spec, dtype=jnp.float32)
    y = y[:, :1]
    steps = 40
    ours = full_batch_gd(spec, params0, x, y, lr=1.0, steps=steps)
    assert jax.tree.leaves(ours)[0].dtype == jnp.float32
    # The reference: optax GD in float64 from the same (float32-representable) start.
    params0_64 = jax.tree.map(lambda a: a.astype(jnp.float64), params0)
    exact = reference(spec, params0_64, x, y, lr=1.0, steps=steps)
    # Rounding errors grow at most linearly with the number of steps. Compared in norm: a
    # pre-activation within rounding of 0 may take the other ReLU branch in float32 and move
    # a few entries of one unit by more than rounding.
    tol = 10 * steps * float(jnp.finfo(jnp.float32).eps)
    for (path, a), b in zip(
        jax.tree_util.tree_leaves_with_path(ours), jax.tree.leaves(exact), strict=True
    ):
        error = relative_error(a, b)
        assert error < tol, f"{jax.tree_util.keystr(path)}: relative error {error:.1e}"
    f_ours, f_exact = (np.asarray(ensemble_apply(spec, p, x)) for p in (ours, exact))
    np.testing.assert_allclose(f_ours, f_exact, rtol=tol, atol=tol)


def test_rejects_bad_arguments():
    spec = MLPSpec(width=8)
    params0, x, y = problem(spec)
    with pytest.raises(ValueError, match="steps"):
        full_batch_gd(spec, params0, x, y[:, :1], lr=1.0, steps=-1)
    with pytest.raises(ValueError, match="flush_every"):
        full_batch_gd(spec, params0, x, y[:, :1], lr=1.0, steps=3, flush_every=0)

"""Stability bounds of the linearized model (ntkpaper.networks.stability): the full empirical NTK
against neural-tangents, and each optimizer's bound against training just below and just
above it."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from ntkpaper._compat import nt
from ntkpaper.networks import empirical, stability, train
from ntkpaper.networks.empirical import empirical_ntk
from ntkpaper.networks.models import MLPSpec, init_ensemble, init_params, make_apply
from ntkpaper.pipeline import keys
from ntkpaper.statistics import rates


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_full_ntk_is_neural_tangents_kernel_on_every_output_pair(depth, parameterization):
    spec = MLPSpec(width=16, depth=depth, out_dim=3, parameterization=parameterization,
                   W_std=1.3, b_std=0.2)  # fmt: skip
    params = init_params(spec, key=keys.run_key(2), in_dim=4, dtype=jnp.float64)
    x = jax.random.normal(keys.run_key(3), (7, 4))
    theirs = nt.empirical_ntk_fn(make_apply(spec), trace_axes=(), vmap_axes=0)(x, None, params)
    theirs = np.asarray(theirs).transpose(0, 2, 1, 3).reshape(21, 21)  # (x, k) example-major
    ours = np.asarray(empirical.full_ntk(spec, params, x))
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12 * np.abs(theirs).max())
    # Its trace over outputs is the kernel the rest of the paper uses.
    traced = ours.reshape(7, 3, 7, 3).trace(axis1=1, axis2=3) / 3
    np.testing.assert_allclose(traced, empirical_ntk(spec, params, x), rtol=1e-12, atol=1e-12)


def test_a_batch_block_is_the_kernel_of_the_batch():
    spec = MLPSpec(width=8, depth=3, out_dim=2)
    params = init_params(spec, key=keys.run_key(4), in_dim=3, dtype=jnp.float64)
    x = jax.random.normal(keys.run_key(5), (6, 3))
    full = np.asarray(empirical.full_ntk(spec, params, x))
    batch = np.array([4, 1, 3])
    rows = stability.batch_rows(batch[None], 2)[0]
    np.testing.assert_allclose(
        full[np.ix_(rows, rows)], empirical.full_ntk(spec, params, x[batch]), rtol=1e-12
    )


@pytest.fixture(scope="module")
def tiny_net():
    spec = MLPSpec(width=32, depth=3, out_dim=2)
    params = init_ensemble(spec, key=keys.run_key(6), in_dim=5, n_seeds=1, dtype=jnp.float64)
    x = np.asarray(jax.random.normal(keys.run_key(7), (10, 5)))
    y = np.asarray(jax.random.normal(keys.run_key(8), (10, 2)))
    kernel = empirical.ensemble_full_ntk(spec, params, x)[0]
    return spec, params, x, y, kernel


def _linear_outcome(tiny_net, lr, steps, **kwargs):
    spec, params, x, y, _ = tiny_net
    record, _ = train.train(make_apply(spec), params, x, y, x[:2], y[:2], lr=lr, steps=steps,
                            linearize=True, **kwargs)  # fmt: skip
    return bool(record.diverged[0]), float(record.train_loss[-1, 0] / record.train_loss[0, 0])


@pytest.mark.parametrize(
    ("bound", "optimizer"),
    [("gd", optax.sgd), ("momentum", lambda lr: optax.sgd(lr, momentum=0.9))],
)
def test_linearized_training_is_stable_just_below_the_bound_only(tiny_net, bound, optimizer):
    *_, y, kernel = tiny_net
    if bound == "gd":
        eta = rates.critical_rate(kernel, y.size)
    else:
        eta = stability.momentum_bound(kernel, y.size, 0.9)
    below = _linear_outcome(tiny_net, 0.97 * eta, 3000, make_optimizer=optimizer)
    above = _linear_outcome(tiny_net, 1.03 * eta, 3000, make_optimizer=optimizer)
    assert below[0] is False and below[1] < 1e-2
    assert above[0] is True


def test_sgd_bound_keeps_every_batch_step_a_contraction(tiny_net):
    *_, y, kernel = tiny_net
    key = keys.run_key(9)
    batches = np.stack([np.asarray(train.batch_indices(key, t, n=10, batch_size=5))
                        for t in range(400)])  # fmt: skip
    eta = stability.sgd_bound(kernel, batches, 2)
    assert eta < rates.critical_rate(kernel, y.size)  # smaller batches, smaller rates
    below = _linear_outcome(tiny_net, 0.97 * eta, 400, batch_size=5, key=key)
    assert below[0] is False and below[1] < 0.1


def test_adam_first_step_bound_is_where_its_first_step_stops_helping(tiny_net):
    spec, params, x, y, _ = tiny_net
    apply_fn = make_apply(spec)
    one = train.seed_params(params, 0)
    bound = float(stability.adam_first_step_bound(apply_fn, one, x, y))
    for factor, decreases in ((0.95, True), (1.05, False)):
        record, _ = train.train(apply_fn, params, x, y, x[:2], y[:2], lr=factor * bound, steps=1,
                                linearize=True, make_optimizer=optax.adam)  # fmt: skip
        assert (record.train_loss[-1, 0] < record.train_loss[0, 0]) == decreases

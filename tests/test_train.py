"""Tests for ntkpaper.networks.train: GD/SGD ensembles, the linearized model and divergence
handling.

Independent references: the discrete-time closed form of linearized GD with the empirical
NTK, neural-tangents' gradient-flow predictor and linearization, and per-seed loops. The
network is a small stax MLP (NTK parameterization), params as a list of (W, b) tuples.
Runs share one network and data shape so the jitted training functions compile few times.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from ntkpaper._compat import nt, stax
from ntkpaper.networks import train as tr
from ntkpaper.statistics import rates

from .conftest import relative_error

N_TRAIN, N_TEST, D_IN, OUT_DIM, WIDTH, N_SEEDS = 12, 5, 4, 2, 64, 3
M = N_TRAIN * OUT_DIM  # y.size: the loss normalization


@functools.cache
def mlp(width: int):
    """(init_fn, apply_fn, kernel_fn): 2 hidden ReLU layers, NTK parameterization, β = 0.1."""

    def dense(n: int):
        return stax.Dense(n, W_std=1.0, b_std=0.1, parameterization="ntk")

    return stax.serial(dense(width), stax.Relu(), dense(width), stax.Relu(), dense(OUT_DIM))


@functools.cache
def ntk_fn(width: int):
    """Full empirical NTK (n1, n2, d, d), no trace over outputs: exact for finite width."""
    apply_fn = mlp(width)[1]
    return jax.jit(nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0, implementation=3))


def data(dtype=np.float64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(N_TRAIN + N_TEST, D_IN))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    y = np.stack([x[:, 0] * x[:, 1], np.sin(2 * x[:, 2])], axis=1) + 0.1 * rng.normal(
        size=(N_TRAIN + N_TEST, OUT_DIM)
    )
    x, y = x.astype(dtype), y.astype(dtype)
    return x[:N_TRAIN], y[:N_TRAIN], x[N_TRAIN:], y[N_TRAIN:]


def ensemble(width: int = WIDTH, n_seeds: int = N_SEEDS, dtype=jnp.float64):
    init_fn = mlp(width)[0]
    per_seed = [init_fn(jax.random.key(s), (-1, D_IN))[1] for s in range(n_seeds)]
    return jax.tree.map(lambda a: a.astype(dtype), tr.stack_params(per_seed))


def flat_ntk(width: int, params, x1, x2) -> np.ndarray:
    """(n1·d, n2·d) kernel matching f.reshape(-1) of an (n, d) output."""
    k = np.asarray(ntk_fn(width)(x1, x2, params))
    n1, n2, d, _ = k.shape
    return k.transpose(0, 2, 1, 3).reshape(n1 * d, n2 * d)


def empirical_critical_lrs(params, x_train) -> np.ndarray:
    return np.array(
        [
            rates.critical_lr(flat_ntk(WIDTH, tr.seed_params(params, s), x_train, None), M)
            for s in range(tr.ensemble_size(params))
        ]
    )


# --------------------------------------------------------------------------- helpers


def test_log_spaced_steps():
    steps = tr.log_spaced_steps(1000, 30)
    assert steps[0] == 0 and steps[-1] == 1000 and len(steps) == 30
    assert np.all(np.diff(steps) > 0) and steps.dtype.kind == "i"
    ratios = steps[-10:][1:] / steps[-10:][:-1]
    np.testing.assert_allclose(ratios, ratios.mean(), rtol=0.05)  # geometric at the top end
    np.testing.assert_array_equal(tr.log_spaced_steps(3, 10), [0, 1, 2, 3])
    np.testing.assert_array_equal(tr.log_spaced_steps(0, 5), [0])


def test_layer_groups_handles_flax_and_stax_pytrees():
    flax_like = {"params": {f"Dense_{i}": {"kernel": jnp.ones((2, 2)) * i} for i in range(12)}}
    assert list(tr.layer_groups(flax_like)) == [f"Dense_{i}" for i in range(12)]
    rng = np.random.default_rng(0)
    shapes = [((D_IN, 8), (8,)), (), ((8, 8), (8,)), (), ((8, OUT_DIM), (OUT_DIM,))]
    stax_params = [tuple(rng.normal(size=s) for s in layer) for layer in shapes]  # stax's layout
    groups = tr.layer_groups(stax_params)
    assert list(groups) == ["layer_0", "layer_1", "layer_2"]
    assert groups["layer_1"][0].shape == (8, 8)
    per_layer = [sum(np.sum(a**2) for a in g) for g in groups.values()]
    np.testing.assert_allclose(tr._layer_norms(stax_params) ** 2, per_layer, rtol=1e-12)
    assert float(tr.tree_norm(stax_params)) ** 2 == pytest.approx(sum(per_layer), rel=1e-12)


def test_critical_lr_formula():
    assert rates.critical_lr(np.diag([1.0, 4.0]), m=2) == pytest.approx(1.0)  # 2·2/4
    with pytest.raises(ValueError):
        rates.critical_lr(np.ones((2, 3)), m=2)


def test_batch_indices_epochs_are_disjoint_shuffles():
    key, n, b = jax.random.key(3), 10, 3  # 3 batches per epoch, 1 sample sits out
    epochs = [
        np.concatenate(
            [np.asarray(tr.batch_indices(key, e * 3 + i, n=n, batch_size=b)) for i in range(3)]
        )
        for e in range(3)
    ]
    for idx in epochs:
        assert len(np.unique(idx)) == 9 and idx.min() >= 0 and idx.max() < n
    assert not np.array_equal(epochs[0], epochs[1])


def test_linearized_apply_matches_neural_tangents():
    _, apply_fn, _ = mlp(WIDTH)
    params0, params1 = (tr.seed_params(ensemble(), s) for s in (0, 1))
    x = data()[0]
    params = jax.tree.map(lambda a, b: a + 0.01 * b, params0, params1)
    ours = jax.jit(tr.linearized_apply_fn(apply_fn, params0))(params, x)
    theirs = jax.jit(nt.linearize(apply_fn, params0))(params, x)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12)


# --------------------------------------------------------------------------- linearized GD


def test_linearized_gd_equals_discrete_closed_form():
    """g_t = f_0 + (I − (I − ηΘ/m)^t)(y − f_0) on train; test via Θ_test,train Θ⁻¹."""
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    lrs = 0.75 * empirical_critical_lrs(params, x_train)  # per seed, below each η_crit
    record_steps = [0, 1, 10, 100]
    rec, _ = tr.train(
        apply_fn,
        params,
        x_train,
        y_train,
        x_test,
        y_test,
        lr=lrs,
        steps=100,
        record_steps=record_steps,
        linearize=True,
    )
    for s in range(N_SEEDS):
        p = tr.seed_params(params, s)
        theta = flat_ntk(WIDTH, p, x_train, None)
        theta_test = flat_ntk(WIDTH, p, x_test, x_train)
        f0, f0_test = np.asarray(apply_fn(p, x_train)), np.asarray(apply_fn(p, x_test))
        step_matrix = np.eye(M) - lrs[s] * theta / M
        for j, t in enumerate(record_steps):
            moved = (np.eye(M) - np.linalg.matrix_power(step_matrix, t)) @ (y_train - f0).ravel()
            expected_train = f0 + moved.reshape(f0.shape)
            expected_test = f0_test + (theta_test @ np.linalg.solve(theta, moved)).reshape(
                f0_test.shape
            )
            assert relative_error(rec.f_train[j, s], expected_train) < 1e-6
            assert relative_error(rec.f_test[j, s], expected_test) < 1e-6
            loss = 0.5 * np.mean((expected_train - y_train) ** 2)
            assert rec.train_loss[j, s] == pytest.approx(loss, rel=1e-6)


def test_small_lr_linearized_gd_approaches_gradient_flow():
    """At fixed η·t, |GD − flow| = O(η): the error halves when η halves."""
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    seed = 0
    p = tr.seed_params(params, seed)
    k_train, k_test = ntk_fn(WIDTH)(x_train, None, p), ntk_fn(WIDTH)(x_test, x_train, p)
    f0, f0_test = apply_fn(p, x_train), apply_fn(p, x_test)
    flow_time = 3.0 / np.linalg.eigvalsh(flat_ntk(WIDTH, p, x_train, None))[-1] * M  # ηt

    errors, moves = [], []
    for steps in (50, 100):
        lr = flow_time / steps
        rec, _ = tr.train(
            apply_fn,
            params,
            x_train,
            y_train,
            x_test,
            y_test,
            lr=lr,
            steps=steps,
            record_steps=[steps],
            linearize=True,
        )
        predict = nt.predict.gradient_descent_mse(k_train, y_train, learning_rate=lr, trace_axes=())
        flow_train, flow_test = predict(steps, f0, f0_test, k_test)  # time = lr·steps
        ours = np.concatenate([rec.f_train[-1, seed], rec.f_test[-1, seed]])
        flow = np.concatenate([flow_train, flow_test])
        errors.append(np.abs(ours - flow).max())
        moves.append(np.abs(flow - np.concatenate([f0, f0_test])).max())
    assert 1.8 < errors[0] / errors[1] < 2.2, errors
    assert errors[1] < 0.05 * moves[1]


# --------------------------------------------------------------------------- ensembles


@pytest.mark.parametrize(
    ("batch_size", "dtype", "rtol"),
    [(None, jnp.float64, 1e-10), (4, jnp.float32, 2e-4)],
    ids=["gd-float64", "sgd-float32"],
)
def test_vmapped_ensemble_equals_per_seed_loop(batch_size, dtype, rtol):
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data(np.dtype(dtype))
    params = ensemble(dtype=dtype)
    lrs = np.array([0.5, 1.0, 2.0])
    keys = jax.random.split(jax.random.key(7), N_SEEDS)  # own batch order per seed
    kwargs = dict(steps=60, record_steps=[0, 5, 60], batch_size=batch_size)
    rec, final = tr.train(
        apply_fn, params, x_train, y_train, x_test, y_test, lr=lrs, key=keys, **kwargs
    )
    assert rec.f_test.dtype == dtype and rec.train_loss.dtype == dtype
    assert all(leaf.dtype == dtype for leaf in jax.tree.leaves(final))
    assert not rec.diverged.any()
    for s in range(N_SEEDS):
        one = tr.stack_params([tr.seed_params(params, s)])
        rec_s, final_s = tr.train(
            apply_fn, one, x_train, y_train, x_test, y_test, lr=lrs[s], key=keys[s], **kwargs
        )
        for name in ("train_loss", "test_loss", "f_test", "param_dist", "layer_rel_dist"):
            np.testing.assert_allclose(
                getattr(rec, name)[:, s],
                getattr(rec_s, name)[:, 0],
                rtol=rtol,
                atol=rtol * 1e-2,
                err_msg=name,
            )
        for a, b in zip(jax.tree.leaves(final), jax.tree.leaves(final_s), strict=True):
            np.testing.assert_allclose(a[s], b[0], rtol=rtol, atol=rtol)


def test_sgd_with_full_batch_equals_gd():
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    kwargs = dict(lr=1.0, steps=40, record_steps=[0, 3, 40])
    gd, _ = tr.train(apply_fn, params, x_train, y_train, x_test, y_test, **kwargs)
    sgd, _ = tr.train(
        apply_fn,
        params,
        x_train,
        y_train,
        x_test,
        y_test,
        batch_size=N_TRAIN,
        key=jax.random.key(1),
        **kwargs,
    )
    for name in ("train_loss", "f_train", "f_test", "layer_dist"):
        np.testing.assert_allclose(getattr(sgd, name), getattr(gd, name), rtol=1e-10, err_msg=name)


def test_records_shapes_norms_and_probe():
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    record_steps = tr.log_spaced_steps(30, 8)
    rec, final = tr.train(
        apply_fn,
        params,
        x_train,
        y_train,
        x_test,
        y_test,
        lr=1.0,
        steps=30,
        record_steps=record_steps,
        probe_fn=tr.tree_norm,
    )
    n_rec = len(record_steps)
    assert rec.f_train.shape == (n_rec, N_SEEDS, N_TRAIN, OUT_DIM)
    assert rec.f_test.shape == (n_rec, N_SEEDS, N_TEST, OUT_DIM)
    assert rec.layer_dist.shape == (n_rec, N_SEEDS, 3) and list(rec.layer_names) == [
        "layer_0",
        "layer_1",
        "layer_2",
    ]
    np.testing.assert_allclose(rec.f_train[0], jax.vmap(apply_fn, (0, None))(params, x_train))
    np.testing.assert_allclose(rec.param_dist**2, (rec.layer_dist**2).sum(-1), rtol=1e-12)
    assert np.all(rec.param_dist[0] == 0) and np.all(np.diff(rec.train_loss, axis=0) < 0)
    # A step-by-step reference for the distance at the end.
    for s in range(N_SEEDS):
        p0, pt = tr.seed_params(params, s), tr.seed_params(final, s)
        delta = jax.tree.map(jnp.subtract, pt, p0)
        assert rec.param_dist[-1, s] == pytest.approx(float(tr.tree_norm(delta)), rel=1e-12)
        assert rec.param_rel_dist[-1, s] == pytest.approx(
            float(tr.tree_norm(delta) / tr.tree_norm(p0)), rel=1e-12
        )
        assert rec.probe_init[s] == pytest.approx(float(tr.tree_norm(p0)))
        assert rec.probe_final[s] == pytest.approx(float(tr.tree_norm(pt)))
    restored = tr.TrainRecord.from_dict(rec.as_dict())
    np.testing.assert_array_equal(restored.f_test, rec.f_test)


# --------------------------------------------------------------------------- f vs g


def _final_gap(width: int, lr, steps: int):
    """RMS of f_T − g_T (network vs its linearization, same init and lr) and of f_T − f_0."""
    _, apply_fn, _ = mlp(width)
    x_train, y_train, x_test, y_test = data()
    params = ensemble(width)
    kwargs = dict(lr=lr, steps=steps, record_steps=[0, steps])
    f, _ = tr.train(apply_fn, params, x_train, y_train, x_test, y_test, **kwargs)
    g, _ = tr.train(apply_fn, params, x_train, y_train, x_test, y_test, linearize=True, **kwargs)
    rms = lambda a: float(np.sqrt(np.mean(np.square(a))))  # noqa: E731
    return rms(f.f_test[-1] - g.f_test[-1]), rms(f.f_test[-1] - f.f_test[0])


def analytic_critical_lr() -> float:
    x_train = data()[0]
    k = np.asarray(mlp(WIDTH)[2](x_train, None, "ntk"))  # n×n, the Θ ⊗ I form
    return rates.critical_lr(k, M)


def test_linearization_gap_shrinks_with_width():
    lr = 0.5 * analytic_critical_lr()
    gap_narrow, move_narrow = _final_gap(WIDTH, lr, steps=60)
    gap_wide, move_wide = _final_gap(4 * WIDTH, lr, steps=60)
    assert move_wide > 0.1 and move_narrow > 0.1  # both actually trained
    assert gap_wide < 0.6 * gap_narrow  # width^(-1/2) would give 0.5; measured ≈ 0.36


def test_linearization_agrees_at_tiny_lr():
    """At tiny η the network moves (f − f_0 ∝ η) while f − g stays far smaller.

    (For a smooth activation f − g = O(η²); ReLU's kinks make the ratio decay more slowly
    than η at this width, ≈ 0.005 here, so the bound is loose.)
    """
    gap, move = _final_gap(WIDTH, 1e-3 * analytic_critical_lr(), steps=20)
    assert move > 1e-3
    assert gap < 0.02 * move


# --------------------------------------------------------------------------- divergence


@pytest.mark.parametrize("linearize", [False, True], ids=["network", "linearized"])
def test_divergence_is_detected_per_seed(linearize):
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    crit = empirical_critical_lrs(params, x_train)
    kwargs = dict(steps=50, record_steps=tr.log_spaced_steps(50, 12), linearize=linearize)
    mixed, mixed_final = tr.train(
        apply_fn,
        params,
        x_train,
        y_train,
        x_test,
        y_test,
        lr=crit * np.array([0.5, 5.0, 0.5]),
        **kwargs,
    )
    calm, calm_final = tr.train(
        apply_fn, params, x_train, y_train, x_test, y_test, lr=crit * 0.5, **kwargs
    )
    np.testing.assert_array_equal(mixed.diverged, [False, True, False])
    assert not calm.diverged.any()
    np.testing.assert_array_equal(mixed.diverged_step[[0, 2]], [-1, -1])

    # The diverged seed: finite before its divergence step, NaN from then on.
    step = mixed.diverged_step[1]
    assert 0 < step <= 50
    before = mixed.steps < step
    assert before.sum() >= 2
    for name in ("train_loss", "f_test", "layer_dist"):
        values = getattr(mixed, name)[:, 1]
        assert np.isfinite(values[before]).all() and np.isnan(values[~before]).all()
    assert mixed.train_loss[before, 1][-1] > 10 * mixed.train_loss[0, 1]  # it was blowing up

    # The other seeds are untouched by it.
    for name in ("train_loss", "f_test", "param_dist"):
        np.testing.assert_array_equal(
            getattr(mixed, name)[:, [0, 2]], getattr(calm, name)[:, [0, 2]]
        )
    for a, b in zip(jax.tree.leaves(mixed_final), jax.tree.leaves(calm_final), strict=True):
        np.testing.assert_array_equal(np.asarray(a)[[0, 2]], np.asarray(b)[[0, 2]])

    everyone, _ = tr.train(
        apply_fn, params, x_train, y_train, x_test, y_test, lr=crit * 5.0, **kwargs
    )
    assert everyone.diverged.all() and (everyone.diverged_step > 0).all()
    assert np.isfinite(everyone.train_loss[0]).all()


def test_function_space_linearization_equals_training_it():
    """predict.linearized_gd (the width sweep's linear model, from the full empirical NTK)
    gives the outputs of the linearized net trained step by step by train.train."""
    from ntkpaper.kernels import predict

    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    lr = float(0.7 * empirical_critical_lrs(params, x_train).min())
    steps = np.array([0, 1, 7, 60])
    rec, _ = tr.train(apply_fn, params, x_train, y_train, x_test, y_test, lr=lr, steps=60,
                      record_steps=steps, linearize=True)  # fmt: skip
    for s in range(N_SEEDS):
        p = tr.seed_params(params, s)
        k = np.asarray(ntk_fn(WIDTH)(np.concatenate([x_train, x_test]), x_train, p))
        f0, f0_test = np.asarray(apply_fn(p, x_train)), np.asarray(apply_fn(p, x_test))
        g, g_test = predict.linearized_gd(k[:N_TRAIN], k[N_TRAIN:], f0, f0_test, y_train,
                                          steps, lr=lr)  # fmt: skip
        np.testing.assert_allclose(g, rec.f_train[:, s], rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(g_test, rec.f_test[:, s], rtol=1e-7, atol=1e-9)


def test_per_seed_targets_equal_training_each_seed_alone():
    """Targets of shape (n_seeds, n, d): seed s trains on its own target, exactly as if it
    were trained alone (the width sweep's centred nets and E7b use this)."""
    _, apply_fn, _ = mlp(WIDTH)
    x_train, y_train, x_test, y_test = data()
    params = ensemble()
    shift = np.arange(N_SEEDS, dtype=np.float64)[:, None, None] * 0.1
    rec, _ = tr.train(apply_fn, params, x_train, y_train[None] + shift, x_test,
                      y_test[None] + shift, lr=1.0, steps=5, record_steps=[0, 5])  # fmt: skip
    for s in range(N_SEEDS):
        one = tr.stack_params([tr.seed_params(params, s)])
        alone, _ = tr.train(apply_fn, one, x_train, y_train + shift[s], x_test,
                            y_test + shift[s], lr=1.0, steps=5, record_steps=[0, 5])  # fmt: skip
        np.testing.assert_allclose(rec.f_test[:, s], alone.f_test[:, 0], rtol=1e-10)
        np.testing.assert_allclose(rec.test_loss[:, s], alone.test_loss[:, 0], rtol=1e-10)
    with pytest.raises(ValueError, match="per-seed targets"):
        tr.train(apply_fn, params, x_train, y_train[None].repeat(2, 0), x_test,
                 y_test[None].repeat(2, 0), lr=1.0, steps=1)  # fmt: skip

"""Train ensembles of networks, or their linearizations, by full-batch GD or minibatch SGD.

Maths and conventions
---------------------
Loss: L(θ) = 0.5·mean((f(θ, X) − Y)²), the mean over all m = Y.size entries, as
``nt.predict.gradient_descent_mse`` assumes. One optimizer step with ``optax.sgd(η)`` is
θ_{t+1} = θ_t − η·∇L(θ_t) = θ_t − (η/m)·Jᵀ(f_t − Y), where J = ∂f/∂θ on the training set.

Linearized model (slides eq. 16): g(θ, x) = f(θ_0, x) + ∇_θ f(θ_0, x)·(θ − θ_0), evaluated with
one ``jax.jvp`` (the Jacobian is never materialised). It is trained with the same optimizer
from the same θ_0. On the training set its discrete GD is exactly

    g_{t+1} = g_t − (η/m)·Θ·(g_t − Y),   g_t = f_0 + (I − (I − ηΘ/m)^t)(Y − f_0),

with Θ = J Jᵀ the empirical NTK at θ_0 (an (n·d)×(n·d) matrix for d outputs; in the
infinite-width limit it is Θ_n×n ⊗ I_d). It converges iff |1 − ηλ/m| < 1 for every
eigenvalue λ of Θ, i.e. η < η_crit = 2m/λ_max(Θ) (``ntkpaper.statistics.rates.critical_lr``). Time
t counts steps; the matching gradient flow dg/ds = −(1/m)·Θ·(g − Y) is at s = η·t, which is what
``nt.predict.gradient_descent_mse(k, y, learning_rate=η)``'s ``predict_fn(t)`` evaluates.

Minibatch SGD (``batch_size=b``): the batch loss is 0.5·mean over the batch's b·d entries,
so ``batch_size=n`` is full-batch GD. Batches are drawn WITHOUT replacement: epoch e is the
permutation ``jax.random.permutation(fold_in(key, e), n)`` cut into n // b consecutive
batches (the n mod b left-over samples sit out that epoch). One key shared by all seeds
gives all seeds the same batch order; a stack of n_seeds keys gives each its own.

Ensembles: the seeds of one configuration train together. Parameters are stacked on a
leading axis (n_seeds, ...); one jitted segment runs ``lax.fori_loop(start, stop, step)``
with a ``jax.vmap`` over seeds inside each step, then records at ``stop``. With traced
bounds the loop lowers to a while loop, so one compilation serves every segment length (a
``lax.scan`` would recompile for each distinct length between log-spaced recording steps),
and the compiled functions are cached across calls with the same configuration. The
learning rate may differ per seed (e.g. a learning-rate sweep from one initialization).

Records (at each recording step, per seed): train and test loss, f on train and test inputs,
‖θ_t − θ_0‖ and ‖θ_t − θ_0‖/‖θ_0‖ overall and per layer, a "layer" being a top-level entry
of the parameter pytree (``layer_groups``). Arrays are shaped (n_records, n_seeds, ...).

Divergence: a seed diverges at the first step t where its (batch) loss at θ_t, the norm of
its gradient, or its full training loss at a recording step is non-finite, or the loss
exceeds ``divergence_factor``·L(θ_0). From then on its parameters are frozen (jnp.where, so
NaNs reach nothing else), its records from step t on are NaN, and the other seeds go on.

Training runs in the dtype of the parameters: inputs and targets are cast to it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)

Params = Any  # a pytree of arrays
ApplyFn = Callable[[Params, jax.Array], jax.Array]
MakeOptimizer = Callable[[jax.Array], optax.GradientTransformation]

DEFAULT_N_RECORDS = 25


# --------------------------------------------------------------------------- pytree helpers


def _natural_key(name: Any) -> list[Any]:
    """Sort 'Dense_10' after 'Dense_2' (pytree flattening sorts keys as plain strings)."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(name))]


def layer_groups(params: Params) -> dict[str, Params]:
    """Group parameters by layer: the top-level entries of the pytree that hold arrays.

    Handles Flax variables ({'params': {'Dense_0': ..., ...}}, names kept, natural order),
    any other mapping (keys in natural order), and stax's list of per-layer tuples
    (parameter-free layers such as Relu's ``()`` are skipped; the rest are named
    ``layer_0``, ``layer_1``, ... in order). A bare array is one group, ``all``.
    """
    if isinstance(params, Mapping):
        if set(params) == {"params"}:
            return layer_groups(params["params"])
        entries = [(str(k), params[k]) for k in sorted(params, key=_natural_key)]
        return {name: sub for name, sub in entries if jax.tree.leaves(sub)}
    if isinstance(params, list | tuple):
        non_empty = [sub for sub in params if jax.tree.leaves(sub)]
        return {f"layer_{i}": sub for i, sub in enumerate(non_empty)}
    return {"all": params}


def tree_norm(tree: Params) -> jax.Array:
    """Euclidean norm of all entries of a pytree, as one flat vector."""
    leaves = jax.tree.leaves(tree)
    if not leaves:
        return jnp.zeros(())
    # vdot rather than sum(square): XLA:CPU compiles reductions ~20x slower than dots.
    return jnp.sqrt(sum(jnp.vdot(leaf, leaf) for leaf in leaves))


def _layer_norms(params: Params) -> jax.Array:
    """(n_layers,) Euclidean norm of each layer_groups entry."""
    return jnp.stack([tree_norm(group) for group in layer_groups(params).values()])


def stack_params(params_per_seed: Sequence[Params]) -> Params:
    """Stack per-seed parameter pytrees on a new leading axis (n_seeds, ...)."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *params_per_seed)


def seed_params(stacked: Params, seed_index: int) -> Params:
    """The parameters of one seed of a stacked ensemble."""
    return jax.tree.map(lambda leaf: leaf[seed_index], stacked)


def ensemble_size(stacked: Params) -> int:
    """n_seeds of a stacked ensemble (checks that every leaf agrees)."""
    sizes = {jnp.shape(leaf)[0] for leaf in jax.tree.leaves(stacked)}
    if len(sizes) != 1:
        raise ValueError(f"stacked params disagree on the leading (seed) axis: {sorted(sizes)}")
    return sizes.pop()


# --------------------------------------------------------------------------- maths helpers


def mse_loss(f: jax.Array, y: jax.Array) -> jax.Array:
    """0.5·mean((f − y)²) over all entries (nt.predict's normalization)."""
    residual = f - y
    return 0.5 * jnp.vdot(residual, residual) / residual.size  # vdot: see tree_norm


def ensemble_mse_loss(f: jax.Array, y: jax.Array) -> np.ndarray:
    """``mse_loss`` of each seed's outputs f (n_seeds, n, d) against y (n, d): (n_seeds,)."""
    return np.asarray(jax.vmap(mse_loss, in_axes=(0, None))(f, y))


def linearized_apply_fn(apply_fn: ApplyFn, params0: Params) -> ApplyFn:
    """g(θ, x) = f(θ_0, x) + ∇_θ f(θ_0, x)·(θ − θ_0), one jvp per call (slides eq. 16)."""

    def apply_lin(params: Params, x: jax.Array) -> jax.Array:
        delta = jax.tree.map(jnp.subtract, params, params0)
        f0, df = jax.jvp(lambda p: apply_fn(p, x), (params0,), (delta,))
        return f0 + df

    return apply_lin


def log_spaced_steps(total: int, n_points: int) -> np.ndarray:
    """Unique, sorted, roughly log-spaced integer steps from 0 to ``total`` (both included).

    Returns as many steps as possible up to ``n_points`` (never more; fewer only when
    ``total + 1 < n_points``).
    """
    if total < 0 or n_points < 2:
        raise ValueError(f"need total >= 0 and n_points >= 2, got {total=}, {n_points=}")
    target = min(n_points, total + 1)

    def candidate(k: int) -> np.ndarray:
        inner = np.round(np.geomspace(1, total, k)) if total >= 1 else np.zeros(0)
        return np.unique(np.concatenate([[0, total], inner]).astype(np.int64))

    best = candidate(target - 1)
    k = target - 1
    while len(best) < target:  # rounding merged some early steps: ask for more points
        k += 1
        steps = candidate(k)
        if len(steps) > target:
            break
        best = steps
    return best


def batch_indices(key: jax.Array, step: jax.Array | int, *, n: int, batch_size: int) -> jax.Array:
    """Training-set indices of the minibatch at ``step``: epochs of shuffled, disjoint batches."""
    steps_per_epoch = n // batch_size
    epoch, position = step // steps_per_epoch, step % steps_per_epoch
    permutation = jax.random.permutation(jax.random.fold_in(key, epoch), n)
    return lax.dynamic_slice(permutation, (position * batch_size,), (batch_size,))


# --------------------------------------------------------------------------- records


class TrainRecord(NamedTuple):
    """What ``train`` records; arrays shaped (n_records, n_seeds, ...) unless noted."""

    steps: np.ndarray  # (n_records,) the recording steps
    train_loss: np.ndarray  # (n_records, n_seeds)
    test_loss: np.ndarray  # (n_records, n_seeds)
    f_train: np.ndarray  # (n_records, n_seeds, n_train, out_dim)
    f_test: np.ndarray  # (n_records, n_seeds, n_test, out_dim)
    param_dist: np.ndarray  # (n_records, n_seeds) ‖θ_t − θ_0‖
    param_rel_dist: np.ndarray  # (n_records, n_seeds) ‖θ_t − θ_0‖ / ‖θ_0‖
    layer_dist: np.ndarray  # (n_records, n_seeds, n_layers)
    layer_rel_dist: np.ndarray  # (n_records, n_seeds, n_layers)
    layer_names: np.ndarray  # (n_layers,) str, the keys of layer_groups
    lr: np.ndarray  # (n_seeds,)
    init_train_loss: np.ndarray  # (n_seeds,) L(θ_0), the divergence reference
    diverged: np.ndarray  # (n_seeds,) bool
    diverged_step: np.ndarray  # (n_seeds,) int, -1 where the seed did not diverge
    probe_init: np.ndarray | None = None  # (n_seeds, ...) probe_fn(θ_0)
    probe_final: np.ndarray | None = None  # (n_seeds, ...) probe_fn(θ_T), NaN if diverged

    def as_dict(self) -> dict[str, np.ndarray]:
        """Plain dict of numpy arrays (absent probes left out), ready for np.savez."""
        return {name: value for name, value in self._asdict().items() if value is not None}

    @classmethod
    def from_dict(cls, arrays: Mapping[str, np.ndarray]) -> TrainRecord:
        """Inverse of ``as_dict`` (e.g. from ``np.load(path, allow_pickle=False)``)."""
        return cls(**{name: np.asarray(arrays[name]) for name in cls._fields if name in arrays})


class _State(NamedTuple):
    params: Params
    opt_state: optax.OptState
    diverged: jax.Array
    diverged_step: jax.Array


_STOP_FIELDS = ("train_loss", "param_dist")  # what stop_when sees
_RECORD_FIELDS = (
    "train_loss",
    "test_loss",
    "f_train",
    "f_test",
    "param_dist",
    "param_rel_dist",
    "layer_dist",
    "layer_rel_dist",
)


# --------------------------------------------------------------------------- jitted kernels


def _build_ensemble_fns(
    apply_fn: ApplyFn,
    linearize: bool,
    batch_size: int | None,
    keys_per_seed: bool,
    make_optimizer: MakeOptimizer,
    targets_per_seed: bool = False,
) -> tuple[Callable, Callable]:
    """Jitted (init, advance) for one configuration, vmapped over seeds.

    Over 80 lines by design: init and advance close over the same jitted step, loss and record
    functions of one configuration."""
    y_axis = 0 if targets_per_seed else None

    def model(params: Params, params0: Params, x: jax.Array) -> jax.Array:
        if linearize:
            return linearized_apply_fn(apply_fn, params0)(params, x)
        return apply_fn(params, x)

    def init_one(params0: Params, lr: jax.Array, x_train: jax.Array, y_train: jax.Array):
        params = jax.tree.map(jnp.copy, params0)  # fresh buffers: the state is donated
        state = _State(
            params=params,
            opt_state=make_optimizer(lr).init(params),
            diverged=jnp.zeros((), bool),
            diverged_step=jnp.full((), -1, jnp.int32),
        )
        return state, mse_loss(apply_fn(params0, x_train), y_train)

    def step_one(t, state, params0, lr, threshold, key, x_train, y_train) -> _State:
        if batch_size is None:
            x_batch, y_batch = x_train, y_train
        else:
            idx = batch_indices(key, t, n=x_train.shape[0], batch_size=batch_size)
            x_batch, y_batch = x_train[idx], y_train[idx]
        loss, grads = jax.value_and_grad(lambda p: mse_loss(model(p, params0, x_batch), y_batch))(
            state.params
        )
        updates, opt_state = make_optimizer(lr).update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, updates)
        # Non-finite gradients at a finite loss give a non-finite loss one step later.
        bad = ~jnp.isfinite(loss) | (loss > threshold)
        frozen = state.diverged | bad

        def keep(new: jax.Array, old: jax.Array) -> jax.Array:
            return jnp.where(frozen, old, new)

        return _State(
            params=jax.tree.map(keep, params, state.params),
            opt_state=jax.tree.map(keep, opt_state, state.opt_state),
            diverged=frozen,
            diverged_step=jnp.where(bad & ~state.diverged, t, state.diverged_step),
        )

    step_all = jax.vmap(
        step_one, in_axes=(None, 0, 0, 0, 0, 0 if keys_per_seed else None, None, y_axis)
    )

    def record_one(state, params0, threshold, step, x_train, y_train, x_test, y_test):
        f_train = model(state.params, params0, x_train)
        f_test = model(state.params, params0, x_test)
        train_loss, test_loss = mse_loss(f_train, y_train), mse_loss(f_test, y_test)
        delta = jax.tree.map(jnp.subtract, state.params, params0)
        layer_dist = _layer_norms(delta)
        layer_norm0 = _layer_norms(params0)
        # The layers hold every array, so the overall norms follow without more reductions.
        dist, norm0 = tree_norm(layer_dist), tree_norm(layer_norm0)
        bad = ~jnp.isfinite(train_loss) | (train_loss > threshold) | ~jnp.isfinite(test_loss)
        metrics = {
            "train_loss": train_loss,
            "test_loss": test_loss,
            "f_train": f_train,
            "f_test": f_test,
            "param_dist": dist,
            "param_rel_dist": jnp.where(norm0 > 0, dist / norm0, jnp.nan),
            "layer_dist": layer_dist,
            "layer_rel_dist": jnp.where(layer_norm0 > 0, layer_dist / layer_norm0, jnp.nan),
        }
        state = state._replace(
            diverged=state.diverged | bad,
            diverged_step=jnp.where(bad & ~state.diverged, step, state.diverged_step),
        )
        return state, metrics

    record_all = jax.vmap(record_one, in_axes=(0, 0, 0, None, None, y_axis, None, y_axis))

    def advance(state, start, stop, params0, lr, threshold, keys, x_train, y_train, x_test, y_test):
        """Steps start..stop−1, then the records at stop (one compilation for both)."""

        def body(t, s):
            return step_all(t, s, params0, lr, threshold, keys, x_train, y_train)

        state = lax.fori_loop(start, stop, body, state)
        return record_all(state, params0, threshold, stop, x_train, y_train, x_test, y_test)

    init = jax.jit(jax.vmap(init_one, in_axes=(0, 0, None, y_axis)))
    return init, jax.jit(advance, donate_argnums=0)


_build_ensemble_fns_cached = functools.lru_cache(maxsize=32)(_build_ensemble_fns)


def _ensemble_fns(*config: Any) -> tuple[Callable, Callable]:
    """Reuse jitted functions across calls (so repeated runs skip compilation) when hashable."""
    try:
        return _build_ensemble_fns_cached(*config)
    except TypeError:  # an unhashable apply_fn: build afresh
        return _build_ensemble_fns(*config)


# --------------------------------------------------------------------------- driver


def _float_dtype(params: Params) -> np.dtype:
    leaves = [leaf for leaf in jax.tree.leaves(params) if jnp.issubdtype(leaf.dtype, jnp.floating)]
    if not leaves:
        raise ValueError("params hold no floating-point arrays")
    return jnp.result_type(*leaves)


def _keys_per_seed(key: jax.Array, n_seeds: int) -> bool:
    """True for a stack of n_seeds keys, False for one key (typed or raw uint32)."""
    single_ndim = 0 if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else 1
    if key.ndim == single_ndim:
        return False
    if key.ndim == single_ndim + 1 and key.shape[0] == n_seeds:
        return True
    raise ValueError(f"key must be one PRNG key or a stack of {n_seeds}, got shape {key.shape}")


def _check_record_steps(record_steps: Sequence[int] | np.ndarray | None, steps: int) -> np.ndarray:
    if record_steps is None:
        return log_spaced_steps(steps, DEFAULT_N_RECORDS)
    rs = np.asarray(record_steps, dtype=np.int64).reshape(-1)
    if rs.size == 0 or np.any(np.diff(rs) <= 0) or rs[0] < 0 or rs[-1] > steps:
        raise ValueError(f"record_steps must be strictly increasing in [0, {steps}], got {rs}")
    return rs


def _probe_each_seed(probe_fn: Callable[[Params], Any], stacked: Params, n_seeds: int):
    return np.stack([np.asarray(probe_fn(seed_params(stacked, i))) for i in range(n_seeds)])


def train(
    apply_fn: ApplyFn,
    params0: Params,
    x_train: jax.Array | np.ndarray,
    y_train: jax.Array | np.ndarray,
    x_test: jax.Array | np.ndarray,
    y_test: jax.Array | np.ndarray,
    *,
    lr: float | Sequence[float] | np.ndarray,
    steps: int,
    record_steps: Sequence[int] | np.ndarray | None = None,
    batch_size: int | None = None,
    linearize: bool = False,
    key: jax.Array | None = None,
    probe_fn: Callable[[Params], Any] | None = None,
    divergence_factor: float = 1e6,
    make_optimizer: MakeOptimizer = optax.sgd,
    stop_when: Callable[[np.ndarray, dict[str, np.ndarray]], bool] | None = None,
) -> tuple[TrainRecord, Params]:
    """Train a stacked ensemble for ``steps`` steps; return its records and final params.

    Args:
      apply_fn: pure ``apply_fn(params, x) -> (n, out_dim)`` for ONE seed's params.
      params0: initial parameters stacked on a leading seed axis (``stack_params``).
      x_train, y_train, x_test, y_test: inputs (n, ...) and 2-D targets (n, out_dim), or
        3-D targets (n_seeds, n, out_dim), one per seed (both or neither): e.g. y + f_0 of
        each seed, which trains the centred net f − f_0 on y.
      lr: learning rate, one for all seeds or one per seed (n_seeds,).
      steps: number of optimizer steps.
      record_steps: strictly increasing steps in [0, steps] to record at; default
        ``log_spaced_steps(steps, 25)``.
      batch_size: None for full-batch GD, else minibatch SGD without replacement.
      linearize: train the linearization g around params0 instead of the network.
      key: minibatch-order key (SGD only): one key shared by the seeds, or n_seeds keys.
      probe_fn: evaluated on each seed's params at t = 0 and at the end (e.g. an empirical
        NTK on a probe set). With ``linearize`` it receives g's parameters θ_T.
      divergence_factor: a loss above this multiple of L(θ_0) counts as divergence.
      make_optimizer: ``lr -> optax.GradientTransformation``; plain SGD by default.
      stop_when: called after each record with the steps recorded so far and their train
        loss, parameter distance and divergence flags, (n_records_so_far, n_seeds) each;
        returning True ends
        training there (the records stop at that step). For "train until converged".

    Over 80 lines by design: the argument checks, the recording schedule, stopping and
    divergence handling all share the loop's state."""
    n_seeds = ensemble_size(params0)
    dtype = _float_dtype(params0)
    x_train, y_train, x_test, y_test = (
        jnp.asarray(a, dtype) for a in (x_train, y_train, x_test, y_test)
    )
    targets_per_seed = y_train.ndim == 3
    if y_train.ndim not in (2, 3) or y_test.ndim != y_train.ndim:
        raise ValueError(
            f"targets must be 2-D (n, out_dim) or 3-D (n_seeds, n, out_dim), both alike; "
            f"got {y_train.shape}, {y_test.shape}"
        )
    if targets_per_seed and not y_train.shape[0] == y_test.shape[0] == n_seeds:
        raise ValueError(f"per-seed targets need {n_seeds} seeds, got {y_train.shape[0]}")
    if x_train.shape[0] != y_train.shape[-2] or x_test.shape[0] != y_test.shape[-2]:
        raise ValueError("inputs and targets disagree on the number of examples")
    n_train = x_train.shape[0]
    if batch_size is not None and not 1 <= batch_size <= n_train:
        raise ValueError(f"batch_size must be in [1, {n_train}] or None, got {batch_size}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    record_steps = _check_record_steps(record_steps, steps)
    lrs = np.broadcast_to(np.asarray(lr, dtype=dtype), (n_seeds,)).copy()
    if not np.all(np.isfinite(lrs) & (lrs > 0)):
        raise ValueError(f"learning rates must be finite and positive, got {lrs}")

    if batch_size is None:
        keys, keys_per_seed = jax.random.key(0), False  # unused by full-batch GD
    elif key is None:
        raise ValueError("minibatch SGD (batch_size set) needs a key")
    else:
        keys = jnp.asarray(key)
        keys_per_seed = _keys_per_seed(keys, n_seeds)

    init, advance = _ensemble_fns(
        apply_fn, linearize, batch_size, keys_per_seed, make_optimizer, targets_per_seed
    )
    lrs_device = jnp.asarray(lrs)
    state, init_loss = init(params0, lrs_device, x_train, y_train)
    threshold = jnp.where(init_loss > 0, divergence_factor * init_loss, jnp.inf).astype(dtype)
    probe_init = None if probe_fn is None else _probe_each_seed(probe_fn, params0, n_seeds)

    def run(state: _State, start: int, stop: int) -> tuple[_State, dict]:
        consts = (params0, lrs_device, threshold, keys, x_train, y_train, x_test, y_test)
        return advance(state, np.int32(start), np.int32(stop), *consts)

    per_record, diverged_at_record, t = [], [], 0
    for step in record_steps:
        state, metrics = run(state, t, int(step))
        t = int(step)
        per_record.append(jax.device_get(metrics))
        diverged_at_record.append(np.asarray(state.diverged))
        if stop_when is not None and stop_when(
            record_steps[: len(per_record)],
            {
                **{name: np.stack([r[name] for r in per_record]) for name in _STOP_FIELDS},
                "diverged": np.stack(diverged_at_record),
            },
        ):
            record_steps = record_steps[: len(per_record)]
            steps = t
            break
    if steps > t:
        state, _ = run(state, t, steps)  # its records also catch a blow-up after the last one

    diverged = np.asarray(state.diverged)
    stacked = {name: np.stack([r[name] for r in per_record]) for name in _RECORD_FIELDS}
    mask = np.stack(diverged_at_record)  # (n_records, n_seeds)
    for values in stacked.values():
        values[mask] = np.nan  # records at and after a seed's divergence step

    probe_final = None
    if probe_fn is not None:
        probe_final = _probe_each_seed(probe_fn, state.params, n_seeds)
        if diverged.any():
            probe_final = probe_final.astype(np.result_type(probe_final.dtype, np.float32))
            probe_final[diverged] = np.nan

    result = TrainRecord(
        steps=record_steps,
        layer_names=np.array(list(layer_groups(params0)), dtype=str),
        lr=lrs,
        init_train_loss=np.asarray(init_loss),
        diverged=diverged,
        diverged_step=np.asarray(state.diverged_step, dtype=np.int64),
        probe_init=probe_init,
        probe_final=probe_final,
        **stacked,
    )
    return result, state.params

"""How large a learning rate each optimizer takes on the linearized model: the stability
bounds read from the full empirical NTK (``empirical.full_ntk``; E9, E10).

Loss L = 0.5·mean((f − Y)²) over the m = Y.size entries (``train.mse_loss``). On the
linearized model a full-batch GD step is f_{t+1} − Y = (I − (η/m)Θ)(f_t − Y), with Θ = J Jᵀ
the (n·K)×(n·K) empirical NTK at initialization (every output pair, no trace average), so

* gradient descent is stable iff η < η_crit = 2m/λ_max(Θ)
  (``ntkpaper.statistics.rates.critical_rate``);
* heavy-ball momentum β (``optax.sgd(η, momentum=β)``: v ← βv + g, θ ← θ − ηv) is stable iff
  η < 2(1 + β)m/λ_max(Θ): the eigenvalue-λ mode follows z² − (1 + β − ηλ/m)z + β = 0, whose
  roots stay inside the unit circle iff 0 < ηλ/m < 2(1 + β)  (``momentum_bound``; the bound
  neural-tangents' ``predict.max_learning_rate`` documents for momentum);
* a minibatch step on batch B (loss averaged over its b·K entries) updates the batch's own
  outputs by −(η/(bK))Θ_BB(f_B − Y_B): it is a contraction on its batch iff
  η < 2bK/λ_max(Θ_BB). ``sgd_bound`` takes the smallest such bound over the batches a run
  will draw, so that every step of the run is one;
* Adam has no such bound: its step is normalized coordinate by coordinate. After bias
  correction its first step is exactly −η·sign(∇L(θ_0)) (ε aside). Along that direction the
  linearized loss is the parabola 0.5/m·‖r_0 − ηJs‖², decreasing for 0 < η < 2η_1 with
  η_1 = ⟨r_0, Js⟩/‖Js‖² (``adam_first_step_bound`` returns 2η_1). We take that as Adam's
  range, the analogue for its first step of GD's bound.

The full empirical NTK itself is ``empirical.full_ntk``.
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.networks.models import Params
from ntkpaper.statistics import rates


def lambda_max(kernel: np.ndarray) -> np.ndarray:
    """Largest eigenvalue of each symmetric kernel in a stack (..., N, N), float64."""
    return np.linalg.eigvalsh(np.asarray(kernel, np.float64))[..., -1]


def momentum_bound(kernel: np.ndarray, m: int, momentum: float) -> np.ndarray:
    """2(1 + β)m/λ_max(Θ): heavy-ball GD's bound on the linearized model."""
    return (1.0 + momentum) * rates.critical_rate(kernel, m)


def batch_rows(batches: np.ndarray, n_out: int) -> np.ndarray:
    """Example-major kernel rows of each batch of example indices (n_batches, b) → (.., b·K)."""
    batches = np.asarray(batches)
    return (batches[..., :, None] * n_out + np.arange(n_out)).reshape(*batches.shape[:-1], -1)


def sgd_bound(kernel: np.ndarray, batches: Sequence[np.ndarray], n_out: int) -> float:
    """min over the batches B of 2·|B|·K/λ_max(Θ_BB): every step a contraction on its batch."""
    rows = batch_rows(np.asarray(batches), n_out)
    blocks = np.asarray(kernel)[rows[:, :, None], rows[:, None, :]]
    return float(np.min(rates.critical_rate(blocks, rows.shape[1])))


def adam_first_step_bound(apply_fn, params: Params, x: jax.Array, y: jax.Array) -> jax.Array:
    """2η_1: the learning rates below it make Adam's first step, −η·sign(∇L(θ_0)), decrease
    the loss of the linearized model (see the module docstring)."""

    def loss(p: Params) -> jax.Array:
        residual = apply_fn(p, x) - y
        return 0.5 * jnp.vdot(residual, residual) / residual.size

    sign = jax.tree.map(jnp.sign, jax.grad(loss)(params))
    f0, js = jax.jvp(lambda p: apply_fn(p, x), (params,), (sign,))
    return 2.0 * jnp.vdot(f0 - y, js) / jnp.vdot(js, js)

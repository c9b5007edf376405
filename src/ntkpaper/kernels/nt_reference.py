"""neural-tangents' own infinite-width predictions: the reference our code reproduces.

E5 and E6 take the NTK Gaussian from here (``nt.predict.gradient_descent_mse_ensemble`` on the
``nt.stax`` kernel function of the architecture, ``models.stax_network``); our recursion
(``ntkpaper.kernels.analytic``) and spectral code (``ntkpaper.kernels.predict``) compute the
same, and the studies report the difference. Kept apart from ``ntkpaper.kernels.gram`` (our
recursion on a data set) so that editing our recursion reruns exactly what uses it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper._compat import nt
from ntkpaper.networks.models import KERNEL_NAMES, MLPSpec, stax_network


def nt_gp_moments(
    spec: MLPSpec,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    times: np.ndarray,
    *,
    lr: float,
) -> dict[str, np.ndarray]:
    """The NTK Gaussian from neural-tangents itself: ``nt.predict.gradient_descent_mse_ensemble``
    on the ``nt.stax`` kernel function of the same architecture (``stax_network``), float64.

    Mean (T, n_test, K) and covariance (T, n_test, n_test) of the infinite ensemble of
    infinite-width networks trained by gradient flow on 0.5·mean((f − y)²) at learning rate
    ``lr`` for each time in ``times`` (np.inf allowed: neural-tangents then solves by
    Cholesky instead of the eigendecomposition). No diagonal regularization.
    ``predict.gp_moments`` computes the same from our own kernels; the studies report the
    difference (claims E5-nt, E6-nt)."""
    kernel_fn = stax_network(spec)[2]
    predict_fn = nt.predict.gradient_descent_mse_ensemble(
        kernel_fn,
        jnp.asarray(x_train, jnp.float64),
        jnp.asarray(y_train, jnp.float64),
        learning_rate=lr,
        diag_reg=0.0,
    )
    x_test = jnp.asarray(x_test, jnp.float64)
    means, covs = [], []
    for t in np.atleast_1d(np.asarray(times, np.float64)):
        out = predict_fn(
            t=None if np.isinf(t) else float(t), x_test=x_test, get="ntk", compute_cov=True
        )
        means.append(np.asarray(out.mean, np.float64))
        covs.append(np.asarray(out.covariance, np.float64))
    return {"mean": np.stack(means), "cov": np.stack(covs)}


def nt_kernels(spec: MLPSpec, x_train: np.ndarray, x_test: np.ndarray) -> dict[str, np.ndarray]:
    """The blocks of ``analytic_kernels`` from neural-tangents' kernel_fn (unbatched,
    float64): to check our spectral code on exactly the kernels neural-tangents uses."""
    kernel_fn = stax_network(spec)[2]
    a, b = jnp.asarray(x_train, jnp.float64), jnp.asarray(x_test, jnp.float64)
    train_train = kernel_fn(a, None, KERNEL_NAMES)
    test_train = kernel_fn(b, a, KERNEL_NAMES)
    out = {f"{k}_train_train": np.asarray(getattr(train_train, k)) for k in KERNEL_NAMES}
    out.update({f"{k}_test_train": np.asarray(getattr(test_train, k)) for k in KERNEL_NAMES})
    out["nngp_test_test"] = np.asarray(kernel_fn(b, None, "nngp"))
    return out

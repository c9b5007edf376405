"""E7: the NTK spectrum and the per-mode decay of the training error (Jacot et al. §6.3).

Conventions (``ntkpaper.kernels.spectral``): Θ is the n×n analytic NTK on the training inputs, the
loss is 0.5·mean((f − y)²) over m = y.size entries, time t counts gradient-descent steps.
Written in the eigenbasis Θ = Σ_k λ_k v_k v_kᵀ (λ_k eigenvalues of Θ, descending), the
residual r_t = f_t − y of the linearized network obeys

    c_k(t) = v_kᵀ r_t = (1 − η·λ_k/m)^t · c_k(0)      (discrete GD, what we train)
           ≈ exp(−η·λ_k·t/m) · c_k(0)                 (gradient flow)

so mode k decays at the per-step rate −ln(1 − η·λ_k/m) ≈ η·λ_k/m. We compare measured rates
with the discrete-GD rate (exact for the linearized model) and quote the flow rate too.

(a) Spectrum. Eigenvalues of Θ/n (the kernel as an operator on the empirical measure) on
    the digits training set, and on ``circle_points`` equally spaced points of the unit
    circle. There Θ(x, x') = κ(x·x') depends only on the angle between the points (the
    norms are all 1), the Gram matrix is circulant, its eigenvectors are the Fourier modes
    cos(kγ), sin(kγ) and its eigenvalues come in pairs indexed by the frequency k:
    μ_k = (1/N)·Σ_j κ(cos γ_j)·cos(k γ_j). The N-point sum aliases (it equals
    Σ_m μ^∞_{k+mN}), so the exponent is fitted on the continuum coefficients μ^∞_k of the
    kernel on the whole circle, from one kernel row at M = ``FINE_CIRCLE_POINTS`` angles
    (whose own aliasing, ≈ 2ζ(2)·(k/M)² relative for a k^{-2} tail, stays below 3e-4 for
    k ≤ 128). Bietti & Mairal (2019) prove μ_k ~ k^{-d} for the two-layer ReLU NTK on the
    sphere S^{d-1} (k^{-2} on the circle), with the odd frequencies k ≥ 3 exactly zero
    when there are no biases; we measure the configured depth-L net with biases, fit even
    and odd frequencies separately, and compare each odd μ_k with its even neighbours for
    the configured kernel and three variants (``PARITY_VARIANTS``: two layers without and
    with bias, depth L without bias) to see what removes the parity gap.
    ``fit_range`` = (lo, hi) is a 1-based eigenvalue index range for the digits and a
    frequency range for the circle (clipped to N/2).

(b) Jacot et al. Fig. 3. On the first ``train_subset`` digits (the schema's
    default is 256: the ensemble training must fit a CPU budget) let
    f^(2) = sqrt(n)·v_2 be the second kernel principal component scaled to unit RMS.
    Each seed's network (scalar output) is trained on y = f_0 + 0.5·f^(2), f_0 its own
    initial function, so r_0 = −0.5·f^(2) exactly and the linear theory says
    ⟨r_t, f^(2)⟩/n = −0.5·(1 − η·λ_2/m)^t while the part of r_t orthogonal to f^(2) stays 0;
    a finite net leaks into it because its kernel is not exactly Θ (O(n^{-1/2}) at init).
    Diagnostic: each net's own empirical NTK Θ_0 at init predicts the initial rate
    η·f^(2)ᵀΘ_0f^(2)/(n·m); measured/that separates the kernel's random scatter at init
    from its movement during training. Calibration (issue 14): the same rate estimator runs
    on (i) the infinite-width linearized model, whose rate −ln(1 − ηλ_2/m) is known (its
    bias, ``pc2_calibration_bias``), and (ii) each net's exact linearization with its own
    Θ_0 (``own_linearization``): network/own-linearization isolates what training changes.
    The seeds train as one vmapped ensemble with per-seed targets.

    Diagnosis of network/own-linearization < 1 (issue 23). (i) The kernel moves: at every
    record step the Rayleigh quotient R_t = uᵀΘ̂_t u, u = f^(2)/‖f^(2)‖, of each net's
    empirical NTK Θ̂_t is computed as ‖J_tᵀu‖² (one VJP, Θ̂_t is never formed); a residual
    that stayed on f^(2) would decay as Π_{s<t}(1 − η·R_s/m) (``kernel_path_decay``), and
    that series through the same estimator, over R_0's constant-kernel rate, is the rate
    ratio the kernel's movement alone predicts. (ii) The discrete step: the training is
    repeated from the same θ_0 at ``slow_lr_fraction``·η. Were the nets following the flow
    rate η·λ/m instead of −ln(1 − η·λ/m), their shortfall 1 − network/own-linearization
    would shrink with η like 1 − flow/GD; a moving kernel, which moves by time η·t, predicts
    the same shortfall at both rates. (iii) The estimator: its calibration on the
    infinite-width model (above), the size of the component against the orthogonal rest at
    the end of the fit window, and the kernel-path series, which has neither floor nor mixing.

(c) Per-mode rates. The widest net of (b), with 10 outputs, trained on the digits
    regression targets (one-hot minus 1/10) of the same subset; its residual is projected
    on the top ``n_modes`` eigenvectors of Θ and each projection's decay rate is fitted.
    With K = 10 outputs m = n·K, so the run uses the learning rate K·η: every mode then
    has the same rate η·λ_k/n as in (b) and the same stability limit. Every mode of the
    infinite-width linearized model runs through the same estimator too (calibration).

Ratios are reported per width as means over seeds with 90% bootstrap intervals
(``fits.bootstrap_mean``); the claims are decided by those intervals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.kernels import spectral
from ntkpaper.networks import train
from ntkpaper.networks.empirical import ensemble_empirical_ntk
from ntkpaper.networks.finite import init_width
from ntkpaper.networks.models import make_apply, model_spec, stax_network
from ntkpaper.pipeline.records import Intervals, Record
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.eigendecay.figure_data import (
    ModeRates,
    Pc2Decay,
    Pc2Kernel,
    PowerLaw,
    RateDiagnosis,
    Spectrum,
)

FINE_CIRCLE_POINTS = 1 << 14
N_RECORDS = 40
# The kernel along f^(2) is tracked at this many log-spaced steps (a VJP per net each costs
# about one training step; R_t moves smoothly, and is interpolated between them).
N_KERNEL_RECORDS = 12
PC2_AMPLITUDE = 0.5  # Jacot et al.: target f_0 + 0.5·f^(2)
# Rates are fitted over the times at which the theory puts a component above this fraction
# of its start: later, the finite-width leakage floor, not the decay, sets |c_k|.
FIT_FLOOR = 0.1
THEORY_EXPONENT_CIRCLE = -2.0  # Bietti & Mairal (2019): k^{-d} on S^{d-1}, d = 2
# Circle spectra of variants of the configured model, to see what removes the two-layer
# bias-free kernel's zero odd frequencies: the bias, the depth, or both.
PARITY_VARIANTS = {
    "two_layer_nobias": {"depth": 2, "b_std": 0.0},
    "two_layer": {"depth": 2},
    "deep_nobias": {"b_std": 0.0},
}


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded). Eigenvalues are of Θ/n, descending."""

    widths: np.ndarray  # (W,) int64, ascending
    lr: float  # η of the one-output runs (rates.resolve)
    eta_crit: float
    steps: int
    seeds: int
    depth: int  # the configured model's
    b_std: float
    fit_range: np.ndarray  # (2,) int64: lo, hi
    n_train: int  # the whole training set's size
    # (a) spectra
    digits_values: np.ndarray  # (n_train,) on the whole training set
    circle_matrix_values: np.ndarray  # (circle_points,) of the circulant Θ/N
    circle_freqs: np.ndarray  # (N/2 + 1,) frequencies 0..N/2
    circle_sampled_mu: np.ndarray  # (N/2 + 1,) Fourier coefficients of the sampled row
    circle_mu: np.ndarray  # (N/2 + 1,) of the kernel on the whole circle
    parity_mu: dict[str, np.ndarray]  # keyed as PARITY_VARIANTS: (N/2 + 1,) circle_mu of each
    # (b), (c) on the first train_subset digits (n of them)
    subset_values: np.ndarray  # (n,)
    subset_vectors: np.ndarray  # (n, n_modes) top eigenvectors
    f2: np.ndarray  # (n,) sqrt(n)·v_2
    record_steps: np.ndarray  # (T,)
    kernel_steps: np.ndarray  # (K,) where the kernel along f^(2) is tracked, from 0
    pc2_delta_f: np.ndarray  # (W, S, T, n) f_t − f_0 of the nets trained on f_0 + 0.5·f^(2)
    pc2_init_rayleigh: np.ndarray  # (W, S) f^(2)ᵀΘ_0f^(2)/n, Gram units
    pc2_lin_residual: np.ndarray  # (W, S, T, n) residuals of each net's own linearization
    pc2_rayleigh: np.ndarray  # (W, S, K) uᵀΘ̂_t u at the kernel steps, u = f^(2)/‖f^(2)‖
    # the same training repeated from the same θ_0 at slow_lr_fraction·lr (the discrete step)
    slow_lr_fraction: float
    pc2_slow_delta_f: np.ndarray  # (W, S, T, n)
    pc2_slow_lin_residual: np.ndarray  # (W, S, T, n)
    pc2_slow_rayleigh: np.ndarray  # (W, S, K)
    modes_y: np.ndarray  # (n, K) targets of the widest K-output nets
    modes_residual: np.ndarray  # (T, S, n, K) their f_t − y
    modes_init_rayleigh: np.ndarray  # (S, n_modes) v_kᵀΘ_0v_k, Gram units


# ----------------------------------------------------------------------------- spectra


def _circle(n_points: int) -> np.ndarray:
    angles = 2 * np.pi * np.arange(n_points) / n_points
    return np.stack([np.cos(angles), np.sin(angles)], axis=1)


def circle_coefficients(model: Mapping[str, Any], max_freq: int) -> np.ndarray:
    """Fourier coefficients μ_0..μ_max_freq of the NTK on the whole unit circle, float64.

    Θ(x, x') = κ(cos γ) with γ the angle between x and x', so μ_k = (1/2π)∫κ(cos γ)cos(kγ)dγ;
    the trapezoid rule on one kernel row at FINE_CIRCLE_POINTS angles computes it.
    """
    _, _, kernel_fn = stax_network(model_spec(model, width=1, out_dim=1))
    x = jnp.asarray(_circle(FINE_CIRCLE_POINTS))
    row = np.asarray(kernel_fn(x[:1], x, "ntk"), np.float64)[0]
    return np.fft.rfft(row).real[: max_freq + 1] / FINE_CIRCLE_POINTS


def circle_spectrum(model: Mapping[str, Any], n_points: int) -> dict[str, np.ndarray]:
    """NTK spectrum on ``n_points`` equally spaced points of the unit circle, float64.

    Returns the sorted eigenvalues of Θ/N (``matrix_values``), the same read off as the
    Fourier coefficients of the first row (``sampled_mu``, frequencies 0..N/2) and the
    alias-free coefficients of the continuous kernel (``mu``, frequencies 0..N/2).
    """
    _, _, kernel_fn = stax_network(model_spec(model, width=1, out_dim=1))
    # One unbatched call: nt.batch (infinite.analytic_kernels) needs a batch size dividing N.
    theta = np.asarray(kernel_fn(jnp.asarray(_circle(n_points)), None, "ntk"), np.float64)
    freqs = np.arange(n_points // 2 + 1)
    return {
        "circle_matrix_values": spectral.eigendecompose(theta).values,
        "circle_freqs": freqs,
        # circulant: the eigenvalues are the DFT of a row
        "circle_sampled_mu": np.fft.rfft(theta[0]).real / n_points,
        "circle_mu": circle_coefficients(model, int(freqs[-1])),
    }


def odd_even_ratios(freqs: np.ndarray, mu: np.ndarray, lo: int, hi: int) -> np.ndarray:
    """μ_k / sqrt(μ_{k−1}·μ_{k+1}) for odd k in [lo, hi): each odd frequency against its even
    neighbours (1 means no parity effect, 0 the two-layer bias-free kernel's zeros)."""
    k = freqs[(freqs % 2 == 1) & (freqs >= max(lo, 1)) & (freqs + 1 <= min(hi, freqs[-1]))]
    return mu[k] / np.sqrt(np.abs(mu[k - 1] * mu[k + 1]))


def parity_fits(freqs: np.ndarray, mu: np.ndarray, lo: int, hi: int) -> dict[str, Any]:
    """Power-law fits μ_k ∝ k^p over lo ≤ k ≤ hi: all, even and odd frequencies."""
    out: dict[str, Any] = {}
    for name, keep in (
        ("all", np.ones_like(freqs, bool)),
        ("even", freqs % 2 == 0),
        ("odd", freqs % 2 == 1),
    ):
        sel = keep & (freqs >= lo) & (freqs <= hi)
        k, m = freqs[sel], mu[sel]
        if sel.sum() < 2 or np.any(m <= 0):
            out[name] = {"exponent": None, "prefactor": None}
            continue
        slope, intercept = fits.loglog_slope(k, m)
        out[name] = {"exponent": slope, "prefactor": float(np.exp(intercept))}
    return out


# ----------------------------------------------------------------------------- training


def _subset(spec: Mapping[str, Any], data: Mapping[str, np.ndarray]) -> int:
    return int(min(spec["train_subset"], len(data["x_train"])))


def _rayleigh(spec, params0, x: jax.Array, vectors: np.ndarray) -> np.ndarray:
    """v_kᵀ·Θ_0·v_k for each seed's empirical NTK at init (Gram units): (n_seeds, n_vectors).

    The initial decay rate of mode k of a finite net is η·(v_kᵀΘ_0v_k)/m; comparing it with
    η·λ_k/m separates the kernel's finite-width fluctuation at init from what happens
    during training.
    """
    theta0 = np.asarray(ensemble_empirical_ntk(spec, params0, x), np.float64)
    return np.einsum("sij,ik,jk->sk", theta0, vectors, vectors)


def own_linearization(
    theta0: np.ndarray, r0: np.ndarray, steps: np.ndarray, *, lr: float, m: int
) -> np.ndarray:
    """Residuals r_t = (I − η·Θ_0/m)^t r_0 of a net's exact linearization (scalar output,
    its own empirical NTK Θ_0 at init), at each of ``steps``: (T, n)."""
    lam, vec = np.linalg.eigh(0.5 * (theta0 + theta0.T))
    decay = spectral.mode_decay(lam, np.asarray(steps, np.float64), lr=lr, m=m, discrete=True)
    return (decay * (vec.T @ r0)[None]) @ vec.T


def rayleigh_fn(apply_fn, x: jax.Array, unit: np.ndarray):
    """Jitted: stacked params → (n_seeds,) uᵀΘ̂u = ‖Jᵀu‖² of each net's empirical NTK on x
    (scalar output, Gram units), by one VJP per net: Θ̂ = JJᵀ is never formed. Each layer's
    squares are summed in the parameters' dtype, the layers' sums in float64."""
    u = jnp.asarray(unit, x.dtype)

    def one(params):
        _, vjp = jax.vjp(lambda p: apply_fn(p, x)[:, 0], params)
        (grad,) = vjp(u)
        return sum(jnp.vdot(g, g).astype(jnp.float64) for g in jax.tree.leaves(grad))

    return jax.jit(jax.vmap(one))


def train_tracked(
    apply_fn, params0, x, y, *, lr: float, record_steps: np.ndarray, probe_steps: np.ndarray, probe
):
    """``train.train`` in segments that end at ``probe_steps`` (which start at 0), with
    ``probe`` applied to the parameters there, recording f at ``record_steps`` as one call
    would: f on the training inputs (T, S, n, out) and probe values (len(probe_steps), S).

    Plain gradient descent keeps no optimizer state, so the segments are the one run. A
    seed that diverges in a segment stays NaN in every later record.
    """
    record_steps = np.asarray(record_steps, np.int64)
    probe_steps = np.asarray(probe_steps, np.int64)
    ends = np.unique(np.concatenate([probe_steps, record_steps[-1:]]))
    if probe_steps[0] != 0 or ends[-1] != record_steps[-1]:
        raise ValueError(f"probe steps must start at 0 and end by {record_steps[-1]}: {ends}")
    params, t, f, probed = params0, 0, [], []
    dead = np.zeros(train.ensemble_size(params0), bool)
    for end in (int(e) for e in ends):
        inside = record_steps[((record_steps > t) & (record_steps <= end)) | (record_steps == end)]
        rel = inside - t if inside.size else np.array([end - t])
        rec, params = train.train(
            apply_fn, params, x, y, x[:1], y[..., :1, :], lr=lr, steps=end - t, record_steps=rel
        )
        dead |= rec.diverged
        if inside.size:
            f_seg = np.asarray(rec.f_train, np.float64)
            f.append(np.where(dead[None, :, None, None], np.nan, f_seg))
        if end in probe_steps:
            probed.append(np.where(dead, np.nan, np.asarray(probe(params), np.float64)))
        t = end
    return np.concatenate(f), np.stack(probed)


def pc2_nets(spec, x: np.ndarray, f2: np.ndarray, *, width: int, key):
    """One width's nets and their targets y = f_0 + 0.5·f^(2), each seed with its own f_0:
    the model spec, θ_0, the apply function, x in float32, f_0 (S, n, 1) and y (S, n, 1)."""
    mspec, params0 = init_width(
        spec["model"],
        width=width,
        out_dim=1,
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
        stream="pc2",
    )
    apply_fn = make_apply(mspec)
    xj = jnp.asarray(x, jnp.float32)
    f0 = np.asarray(jax.vmap(lambda p: apply_fn(p, xj))(params0), np.float64)  # (S, n, 1)
    y = (f0 + PC2_AMPLITUDE * f2[None, :, None]).astype(np.float32)
    return mspec, params0, apply_fn, xj, f0, y


def _train_pc2(spec, x, f2, *, width: int, key, record_steps, kernel_steps, lr_fractions=(1.0,)):
    """One width's nets trained on y = f_0 + 0.5·f^(2), each seed with its own f_0 (per-seed
    targets, one vmapped ensemble), once per learning rate lr_fractions[i]·η from the same
    θ_0. Returns the Rayleigh quotient f^(2)ᵀΘ_0f^(2)/n per seed (S,) and, per rate, a triple:
    f_t − f_0 on the training inputs (S, T, n), the residual of each net's exact
    linearization (its own Θ_0) at the same steps (S, T, n), and uᵀΘ̂_tu at each of
    ``kernel_steps`` (S, K) — the last in Gram units (u = f^(2)/‖f^(2)‖, and f^(2) has unit RMS).

    Training f on f_0 + 0.5·f^(2) has the gradients of training f − f_0 on 0.5·f^(2).
    """
    mspec, params0, apply_fn, xj, f0, y = pc2_nets(spec, x, f2, width=width, key=key)
    n = len(x)
    unit = f2 / np.linalg.norm(f2)
    theta0 = np.asarray(ensemble_empirical_ntk(mspec, params0, xj), np.float64)  # (S, n, n)
    init_rayleigh = np.einsum("sij,i,j->s", theta0, unit, unit)
    probe = rayleigh_fn(apply_fn, xj, unit)
    per_rate = []
    for fraction in lr_fractions:
        lr = fraction * spec["lr"]
        f_t, path = train_tracked(
            apply_fn,
            params0,
            xj,
            y,
            lr=lr,
            record_steps=record_steps,
            probe_steps=kernel_steps,
            probe=probe,
        )
        delta_f = np.moveaxis(f_t[..., 0], 1, 0) - f0[:, None, :, 0]  # (S, T, n)
        lin = np.stack(
            [own_linearization(t, -PC2_AMPLITUDE * f2, record_steps, lr=lr, m=n) for t in theta0]
        )
        per_rate.append((delta_f, lin, path.T))
    return init_rayleigh, per_rate


def _train_modes(spec, x, y, vectors, *, width: int, key, record_steps):
    """Residuals f_t − y (n_records, n_seeds, n, K) of the K-output nets trained at lr K·η,
    and the Rayleigh quotients v_kᵀΘ_0v_k (n_seeds, n_modes) of their kernels at init."""
    k_out = y.shape[1]
    mspec, params0 = init_width(
        spec["model"],
        width=width,
        out_dim=k_out,
        in_dim=x.shape[1],
        seeds=spec["seeds"],
        key=key,
        stream="modes",
    )
    rec, _ = train.train(
        make_apply(mspec),
        params0,
        x,
        y,
        x[:1],
        y[:1],
        lr=k_out * spec["lr"],
        steps=spec["steps"],
        record_steps=record_steps,
    )
    rayleigh = _rayleigh(mspec, params0, jnp.asarray(x, jnp.float32), vectors)
    return np.asarray(rec.f_train, np.float64) - y[None, None], rayleigh


def run(
    spec: Mapping[str, Any],
    data: Mapping[str, np.ndarray],
    *,
    key,
    kernels: Mapping[str, np.ndarray],
) -> Run:
    widths = np.asarray(sorted(spec["widths"]), np.int64)
    n_modes = max(int(spec["n_modes"]), 2)
    n_sub = _subset(spec, data)
    # The rate of the one-output runs (m = n_sub); the K-output runs use K·η (see above).
    rate = rates.resolve(spec["lr"], kernels["ntk_train_train"][:n_sub, :n_sub], m=n_sub)
    spec = {**spec, "lr": rate["lr"]}
    # (a) spectra
    n_circle = int(spec["circle_points"])
    parity_mu = {
        name: circle_coefficients({**spec["model"], **override}, n_circle // 2)
        for name, override in PARITY_VARIANTS.items()
    }

    # (b), (c) on a subset of the training set
    x = np.asarray(data["x_train"][:n_sub], np.float32)
    y = np.asarray(data["y_train"][:n_sub], np.float32)
    eig = spectral.eigendecompose(kernels["ntk_train_train"][:n_sub, :n_sub])
    f2 = np.sqrt(n_sub) * eig.vectors[:, 1]
    record_steps = train.log_spaced_steps(int(spec["steps"]), N_RECORDS)
    vectors = eig.vectors[:, :n_modes]
    slow = float(spec["slow_lr_fraction"])
    kernel_steps = train.log_spaced_steps(int(spec["steps"]), N_KERNEL_RECORDS)
    pc2 = [
        _train_pc2(
            spec,
            x,
            f2,
            width=int(w),
            key=key,
            record_steps=record_steps,
            kernel_steps=kernel_steps,
            lr_fractions=(1.0, slow),
        )
        for w in widths
    ]
    (full, slowed) = ([p[1][i] for p in pc2] for i in (0, 1))
    residual, rayleigh = _train_modes(
        spec, x, y, vectors, width=int(widths[-1]), key=key, record_steps=record_steps
    )
    return Run(
        widths=widths,
        lr=float(rate["lr"]),
        eta_crit=float(rate["eta_crit"]),
        steps=int(spec["steps"]),
        seeds=int(spec["seeds"]),
        depth=int(spec["model"]["depth"]),
        b_std=float(spec["model"]["b_std"]),
        fit_range=np.asarray(spec["fit_range"], np.int64),
        n_train=len(data["x_train"]),
        digits_values=spectral.eigendecompose(kernels["ntk_train_train"]).values,
        **circle_spectrum(spec["model"], n_circle),
        parity_mu=parity_mu,
        subset_values=eig.values,
        subset_vectors=vectors,
        f2=f2,
        record_steps=record_steps,
        kernel_steps=kernel_steps,
        pc2_delta_f=np.stack([p[0] for p in full]),
        pc2_init_rayleigh=np.stack([p[0] for p in pc2]),
        pc2_lin_residual=np.stack([p[1] for p in full]),
        pc2_rayleigh=np.stack([p[2] for p in full]),
        slow_lr_fraction=slow,
        pc2_slow_delta_f=np.stack([p[0] for p in slowed]),
        pc2_slow_lin_residual=np.stack([p[1] for p in slowed]),
        pc2_slow_rayleigh=np.stack([p[2] for p in slowed]),
        modes_y=y.astype(np.float64),
        modes_residual=residual,
        modes_init_rayleigh=rayleigh,
    )


# ----------------------------------------------------------------------------- analysis


def pc2_components(delta_f: np.ndarray, f2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Residual r_t = (f_t − f_0) − 0.5·f^(2) split along f^(2) and orthogonal to it.

    ``delta_f`` (..., n) holds f_t − f_0; returns ⟨r_t, f^(2)⟩/n (starts at −0.5) and the
    RMS of the orthogonal part (starts at 0), both of shape delta_f.shape[:-1].
    """
    n = f2.size
    r = delta_f - PC2_AMPLITUDE * f2
    along = r @ f2 / n  # f^(2) has unit RMS: ⟨f^(2), f^(2)⟩ = n
    orth = r - along[..., None] * f2
    return along, np.sqrt(np.mean(orth**2, axis=-1))


def fit_rate(times: np.ndarray, coeffs: np.ndarray, predicted_rate: float) -> float:
    """Measured decay rate of one component, (T,) or (T, K) (then of its norm).

    The fit uses the times at which the theory puts the component above FIT_FLOOR of its
    start, t ≤ ln(1/FIT_FLOOR)/rate (at least the first three records): later, the
    finite-width leakage floor, not the decay, sets its size.
    """
    c = coeffs.reshape(len(times), 1, -1)
    t_end = max(np.log(1 / FIT_FLOOR) / predicted_rate, times[min(2, len(times) - 1)])
    keep = times <= t_end
    return float(spectral.fit_mode_rates(times[keep], c[keep])[0])


def fit_window_end(times: np.ndarray, predicted_rate: float) -> float:
    """The last time ``fit_rate`` uses for a component of this predicted rate."""
    return float(max(np.log(1 / FIT_FLOOR) / predicted_rate, times[min(2, len(times) - 1)]))


def kernel_path_decay(
    rayleigh: np.ndarray, kernel_steps: np.ndarray, times: np.ndarray, *, lr: float, m: int
) -> np.ndarray:
    """c_t/c_0 at integer ``times`` (T,) of a residual that stays on f^(2) while the kernel
    along f^(2) follows the Rayleigh quotients R (..., K) recorded at ``kernel_steps`` (K,),
    from 0: Π_{s<t} (1 − η·R_s/m), R linearly interpolated between records. (..., T)."""
    times = np.asarray(times, np.int64)
    steps = np.arange(int(times[-1]))
    r = np.apply_along_axis(lambda v: np.interp(steps, kernel_steps, v), -1, rayleigh)
    with np.errstate(divide="ignore", invalid="ignore"):
        logs = np.cumsum(np.log(np.abs(1 - lr * r / m)), axis=-1)
    logs = np.concatenate([np.zeros((*logs.shape[:-1], 1)), logs], axis=-1)
    return np.exp(logs[..., times])


def _pc2_diagnosis(run: Run, times: np.ndarray, *, lr: float, gram2: float, slow: bool):
    """Per width and seed, at rate lr (the run's, or the slow repeat's): the net's fitted
    rate, its own linearization's, the rate its moving kernel predicts relative to the
    constant kernel R_0 (same estimator, same window), R_t/R_0 at the kernel steps
    (W, S, K) and at the end of the fit window (W, S), and the component along f^(2) over
    the orthogonal RMS at the end of the fit window (W, S)."""
    n = run.f2.size
    prefix = "pc2_slow_" if slow else "pc2_"
    delta_f = getattr(run, prefix + "delta_f")
    lin = getattr(run, prefix + "lin_residual")
    rayleigh = getattr(run, prefix + "rayleigh")
    k_steps = run.kernel_steps.astype(np.float64)
    rate = float(spectral.mode_rates(np.array([gram2]), lr=lr, m=n, discrete=True)[0])
    along, orth = pc2_components(delta_f, run.f2)
    lin_along, _ = pc2_components(lin + PC2_AMPLITUDE * run.f2, run.f2)
    net = np.array([[fit_rate(times, a, rate) for a in w] for w in along])
    own = np.array([[fit_rate(times, a, rate) for a in w] for w in lin_along])
    path = kernel_path_decay(rayleigh, k_steps, times, lr=lr, m=n)
    constant = np.broadcast_to(rayleigh[..., :1], rayleigh.shape)
    const = kernel_path_decay(constant, k_steps, times, lr=lr, m=n)
    path_rate = np.array([[fit_rate(times, c, rate) for c in w] for w in path])
    const_rate = np.array([[fit_rate(times, c, rate) for c in w] for w in const])
    end = int(np.searchsorted(times, fit_window_end(times, rate), side="right")) - 1
    relative = rayleigh / rayleigh[..., :1]
    at_end = np.apply_along_axis(lambda v: np.interp(times[end], k_steps, v), -1, relative)
    return {
        "rate": rate,
        "net": net,
        "lin": own,
        "kernel_path": path_rate / const_rate,
        "rayleigh_rel": relative,
        "kernel_window_end": at_end,
        "window_end": float(times[end]),
        "along_over_orth": np.abs(along[..., end]) / orth[..., end],
    }


def _variant_label(run: Run, name: str) -> str:
    model = {"depth": run.depth, "b_std": run.b_std}
    model.update(PARITY_VARIANTS.get(name, {}))
    suffix = " (configured)" if name == "configured" else ""
    return f"$L={model['depth']}$, $\\beta={model['b_std']:g}${suffix}"


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Numbers and figure data: (a) the spectra, (b) Jacot et al.'s Fig. 3 along f^(2) and
    why the nets fall short of their linearizations, (c) every leading mode's rate."""
    (run,) = runs  # one run file: this kind is not sharded
    widths, times = run.widths, run.record_steps.astype(np.float64)
    lo, hi = (int(v) for v in run.fit_range)
    numbers: dict[str, Any] = {
        **rates.numbers(run.lr, run.eta_crit),
        "steps": run.steps,
        "seeds": run.seeds,
        "widths": widths.tolist(),
        "width_min": int(widths.min()),
        "width_max": int(widths.max()),
        "depth": run.depth,
        "b_std": run.b_std,
        "n_train": run.n_train,
        "fit_lo": lo,
        "fit_hi": hi,
    }

    figures = {
        "spectrum": _spectra(run, lo, hi, numbers),
        "pc2_decay": _pc2(run, times, numbers),
        "pc2_kernel": _pc2_shortfall(run, times, numbers),
        "mode_rates": _mode_rates(run, times, numbers),
    }
    return numbers, figures


def _gd_rates(run: Run) -> tuple[int, np.ndarray, np.ndarray, np.ndarray]:
    """The subset's size n, its Gram eigenvalues (n·λ), and each mode's rate under gradient
    descent and under gradient flow at the run's learning rate."""
    n_sub = run.f2.size
    gram = run.subset_values * n_sub
    rate_gd = spectral.mode_rates(gram, lr=run.lr, m=n_sub, discrete=True)
    rate_flow = spectral.mode_rates(gram, lr=run.lr, m=n_sub)
    return n_sub, gram, rate_gd, rate_flow


def _spectra(run: Run, lo: int, hi: int, numbers: dict[str, Any]) -> Spectrum:
    """(a) The digits' and the circle's spectra, their fitted exponents and the parity check."""
    digits = run.digits_values
    d_hi = min(hi, digits.size)
    slope, pref = spectral.power_law_fit(digits, index_range=(lo, d_hi))
    freqs, mu = run.circle_freqs, run.circle_mu
    c_hi = min(hi, int(freqs[-1]))
    circle_fits = parity_fits(freqs, mu, lo, c_hi)
    sampled_fits = parity_fits(freqs, run.circle_sampled_mu, lo, c_hi)
    # The circulant matrix's eigenvalues are the sampled Fourier coefficients, each k ≠ 0,
    # N/2 twice: a check that the Fourier picture (and the kernel's zonality) holds.
    n_c = run.circle_matrix_values.size
    fourier = np.concatenate([run.circle_sampled_mu, run.circle_sampled_mu[1 : (n_c + 1) // 2]])
    fourier_err = np.max(np.abs(np.sort(fourier)[::-1] - run.circle_matrix_values))
    # parity: every odd k ≥ 3 up to the fit's end (low frequencies matter most here)
    odd_even = odd_even_ratios(freqs, mu, 3, c_hi)
    parity = {"configured": odd_even}
    for name in PARITY_VARIANTS:
        parity[name] = odd_even_ratios(freqs, run.parity_mu[name], 3, c_hi)
        numbers[f"circle_odd_even_ratio_{name}"] = float(np.median(parity[name]))
        numbers[f"circle_odd_even_min_{name}"] = float(np.min(parity[name]))
        even = parity_fits(freqs, run.parity_mu[name], lo, c_hi)["even"]["exponent"]
        numbers[f"circle_exponent_even_{name}"] = even
    numbers.update(
        {
            "digits_exponent": slope,
            "digits_prefactor": pref,
            "digits_fit_hi": d_hi,
            "digits_lambda_max": float(digits[0]),
            "digits_lambda_min": float(digits[-1]),
            "digits_condition": float(digits[0] / digits[-1]),
            "digits_ratio_12": float(digits[0] / digits[1]),
            "digits_min_positive": bool(digits[-1] > 0),
            "circle_points": int(n_c),
            "circle_fit_hi": c_hi,
            "circle_exponent": circle_fits["all"]["exponent"],
            "circle_exponent_even": circle_fits["even"]["exponent"],
            "circle_exponent_odd": circle_fits["odd"]["exponent"],
            "circle_sampled_exponent": sampled_fits["all"]["exponent"],
            "circle_theory_exponent": THEORY_EXPONENT_CIRCLE,
            "circle_odd_even_ratio": float(np.median(odd_even)) if odd_even.size else None,
            "circle_odd_even_min": float(np.min(odd_even)) if odd_even.size else None,
            "circle_fourier_max_abs_error": float(fourier_err),
            "circle_fourier_rel_error": float(fourier_err / run.circle_matrix_values[0]),
            "circle_min_mu": float(mu[: n_c // 2 + 1].min()),
        }
    )
    return Spectrum(
        digits_values=digits,
        digits_fit=PowerLaw(slope, pref, lo, d_hi),
        circle_freqs=freqs,
        circle_mu=mu,
        circle_sampled_mu=run.circle_sampled_mu,
        circle_fit=PowerLaw(
            circle_fits["all"]["exponent"] or np.nan,
            circle_fits["all"]["prefactor"] or np.nan,
            lo,
            c_hi,
        ),
        theory_exponent=THEORY_EXPONENT_CIRCLE,
        parity_labels=np.array([_variant_label(run, name) for name in parity]),
        parity_k=freqs[(freqs % 2 == 1) & (freqs >= 3) & (freqs + 1 <= min(c_hi, freqs[-1]))],
        parity_ratios=np.stack(list(parity.values())),
    )


def _pc2(run: Run, times: np.ndarray, numbers: dict[str, Any]) -> Pc2Decay:
    """(b) Jacot et al.'s Fig. 3: the component along f^(2) and the orthogonal rest."""
    lr, widths = run.lr, run.widths
    n_sub, gram, rate_gd, rate_flow = _gd_rates(run)
    along, orth = pc2_components(run.pc2_delta_f, run.f2)  # (W, S, T)
    measured = np.array([[fit_rate(times, a, rate_gd[1]) for a in per_w] for per_w in along])
    ratio = measured / rate_gd[1]  # (W, S)
    # each net's exact linearization (its own Θ_0), through the same estimator
    lin_along, lin_orth = pc2_components(run.pc2_lin_residual + PC2_AMPLITUDE * run.f2, run.f2)
    lin_measured = np.array(
        [[fit_rate(times, a, rate_gd[1]) for a in per_w] for per_w in lin_along]
    )
    lin_ratio = lin_measured / rate_gd[1]
    # the same against each net's own kernel at init: η·f^(2)ᵀΘ_0f^(2)/(n·m)
    rate_init = spectral.mode_rates(
        run.pc2_init_rayleigh.ravel(), lr=lr, m=n_sub, discrete=True
    ).reshape(ratio.shape)
    init_kernel = run.pc2_init_rayleigh / gram[1]
    theory_along = (
        -PC2_AMPLITUDE * spectral.mode_decay(gram[1:2], times, lr=lr, m=n_sub, discrete=True)[:, 0]
    )
    # calibration: the estimator on the infinite-width linear model, whose rate is known
    calib = fit_rate(times, theory_along, rate_gd[1])
    orth_final = orth[:, :, -1]
    per_width = {
        "pc2_rate_ratio": [fits.bootstrap_mean(r) for r in ratio],
        "pc2_lin_rate_ratio": [fits.bootstrap_mean(r) for r in lin_ratio],
        # paired: a net against its own linearization (same θ_0)
        "pc2_net_over_lin": [fits.bootstrap_mean(r) for r in measured / lin_measured],
        "pc2_init_kernel_ratio": [fits.bootstrap_mean(r) for r in init_kernel],
        "pc2_rate_ratio_init_kernel": [fits.bootstrap_mean(r) for r in measured / rate_init],
    }
    numbers.update(per_width)
    numbers.update(
        {
            "train_subset": int(n_sub),
            "lambda2": float(run.subset_values[1]),
            "lambda1": float(run.subset_values[0]),
            "eta_lambda2_over_m": float(lr * gram[1] / n_sub),
            "pc2_rate_predicted": float(rate_gd[1]),
            "pc2_rate_predicted_flow": float(rate_flow[1]),
            "pc2_flow_over_gd": float(rate_flow[1] / rate_gd[1]),
            "pc2_calibration_ratio": float(calib / rate_gd[1]),
            "pc2_calibration_bias": float(abs(calib / rate_gd[1] - 1)),
            "pc2_rate_measured": np.nanmean(measured, axis=1).tolist(),
            "pc2_rate_ratio_widest": per_width["pc2_rate_ratio"][-1],
            "pc2_rate_ratio_smallest": per_width["pc2_rate_ratio"][0],
            "pc2_final_along": np.nanmean(np.abs(along[:, :, -1]), axis=1).tolist(),
            "pc2_final_along_theory": float(abs(theory_along[-1])),
            "pc2_orth_final": np.nanmean(orth_final, axis=1).tolist(),
            "pc2_orth_final_widest": float(np.nanmean(orth_final[-1])),
            "pc2_orth_final_smallest": float(np.nanmean(orth_final[0])),
            "pc2_lin_orth_final": np.nanmean(lin_orth[:, :, -1], axis=1).tolist(),
            "pc2_orth_max": np.nanmean(np.nanmax(orth, axis=2), axis=1).tolist(),
            "pc2_orth_slope": fits.asymptotic_rate(widths, orth_final),
        }
    )
    for name in ("pc2_final_along", "pc2_lin_orth_final", *per_width):
        numbers[f"{name}_smallest"] = numbers[name][0]
        numbers[f"{name}_widest"] = numbers[name][-1]
    return Pc2Decay(widths=widths, times=times, along=along, orth=orth, theory_along=theory_along)


def _pc2_shortfall(run: Run, times: np.ndarray, numbers: dict[str, Any]) -> Pc2Kernel:
    """Why the nets fall short of their own linearizations: (i) the kernel moving along
    f^(2), (ii) the discrete step (the repeat at slow_lr_fraction·η), (iii) the estimator."""
    lr, widths = run.lr, run.widths
    n_sub, gram, rate_gd, rate_flow = _gd_rates(run)
    slow_lr = run.slow_lr_fraction * lr
    diag = {
        rate_name: _pc2_diagnosis(run, times, lr=rate_lr, gram2=gram[1], slow=is_slow)
        for rate_name, rate_lr, is_slow in (("full", lr, False), ("slow", slow_lr, True))
    }
    full, slow = diag["full"], diag["slow"]
    # If the nets followed the flow rate, their shortfall would be 1 − flow/GD at each rate.
    flow_over_gd_slow = float(slow_lr * gram[1] / n_sub / slow["rate"])
    shortfall_if_flow = (1 - flow_over_gd_slow) / (1 - rate_flow[1] / rate_gd[1])
    kernel_end = full["kernel_window_end"]  # (W, S)
    diagnosis = {
        "pc2_kernel_window_end": [fits.bootstrap_mean(r) for r in kernel_end],
        "pc2_kernel_final": [fits.bootstrap_mean(r) for r in full["rayleigh_rel"][..., -1]],
        "pc2_kernel_final_over_analytic": [
            fits.bootstrap_mean(r) for r in run.pc2_rayleigh[..., -1] / gram[1]
        ],
        "pc2_kernel_path_ratio": [fits.bootstrap_mean(r) for r in full["kernel_path"]],
        # the net against what its own moving kernel predicts (1: the kernel explains it all)
        "pc2_net_over_kernel_path": [
            fits.bootstrap_mean(r) for r in full["net"] / (full["lin"] * full["kernel_path"])
        ],
        "pc2_slow_rate_ratio": [fits.bootstrap_mean(r) for r in slow["net"] / slow["rate"]],
        "pc2_slow_net_over_lin": [fits.bootstrap_mean(r) for r in slow["net"] / slow["lin"]],
        "pc2_slow_kernel_path_ratio": [fits.bootstrap_mean(r) for r in slow["kernel_path"]],
        "pc2_slow_kernel_window_end": [fits.bootstrap_mean(r) for r in slow["kernel_window_end"]],
        # paired (same θ_0): mean shortfall at the slow rate over the mean at the full rate
        "pc2_shortfall_slow_over_full": [
            fits.bootstrap_ratio(1 - s_net / s_lin, 1 - f_net / f_lin)
            for s_net, s_lin, f_net, f_lin in zip(
                slow["net"], slow["lin"], full["net"], full["lin"], strict=True
            )
        ],
        "pc2_window_along_over_orth": [fits.bootstrap_mean(r) for r in full["along_over_orth"]],
    }
    numbers.update(diagnosis)
    numbers.update(
        {
            "slow_lr_fraction": float(run.slow_lr_fraction),
            "slow_lr": float(slow_lr),
            "pc2_slow_rate_predicted": slow["rate"],
            "pc2_slow_flow_over_gd": flow_over_gd_slow,
            "pc2_shortfall_ratio_if_flow": float(shortfall_if_flow),
            "n_kernel_steps": int(run.kernel_steps.size),
            "pc2_fit_window_end": full["window_end"],
            "pc2_slow_fit_window_end": slow["window_end"],
        }
    )
    for name in diagnosis:
        numbers[f"{name}_smallest"] = numbers[name][0]
        numbers[f"{name}_widest"] = numbers[name][-1]
    return Pc2Kernel(
        widths=widths,
        times=run.kernel_steps.astype(np.float64),
        slow_lr_fraction=float(run.slow_lr_fraction),
        window_end=full["window_end"],
        full=_rate_diagnosis(full, rate_flow[1] / rate_gd[1]),
        slow=_rate_diagnosis(slow, flow_over_gd_slow),
    )


def _rate_diagnosis(diag: Mapping[str, Any], flow_over_gd: float) -> RateDiagnosis:
    """One rate's part of the pc2_kernel figure, from its ``_pc2_diagnosis``."""
    return RateDiagnosis(
        rayleigh_rel=diag["rayleigh_rel"],
        flow_over_gd=float(flow_over_gd),
        net_over_lin=Intervals.of([fits.bootstrap_mean(r) for r in diag["net"] / diag["lin"]]),
        kernel_path=Intervals.of([fits.bootstrap_mean(r) for r in diag["kernel_path"]]),
    )


def _mode_rates(run: Run, times: np.ndarray, numbers: dict[str, Any]) -> ModeRates:
    """(c) Per-mode rates of the widest net, K outputs at lr K·η: rate_k = −ln(1 − ηλ_k/n)."""
    lr = run.lr
    n_sub, gram, rate_gd, rate_flow = _gd_rates(run)
    vectors = run.subset_vectors
    n_modes = vectors.shape[1]
    coeffs = spectral.project_residuals(
        np.moveaxis(run.modes_residual, 1, 0).reshape(-1, n_sub, run.modes_y.shape[1]), vectors
    )
    coeffs = coeffs.reshape(-1, len(times), n_modes, run.modes_y.shape[1])  # (S, T, k, K)
    pred = rate_gd[:n_modes]
    mode_measured = np.array(
        [[fit_rate(times, c[:, k], pred[k]) for k in range(n_modes)] for c in coeffs]
    )
    mode_ratio = mode_measured / pred  # (S, n_modes)
    rayleigh = run.modes_init_rayleigh  # (S, n_modes)
    mode_rate_init = spectral.mode_rates(rayleigh.ravel(), lr=lr, m=n_sub, discrete=True).reshape(
        rayleigh.shape
    )
    norms = np.linalg.norm(coeffs, axis=3)  # (S, T, k)
    # calibration: every mode of the infinite-width linear model through the same estimator
    exact = spectral.mode_decay(gram[:n_modes], times, lr=lr, m=n_sub, discrete=True)
    mode_calib = np.array([fit_rate(times, exact[:, k], pred[k]) for k in range(n_modes)])
    records = [fits.bootstrap_mean(mode_ratio[:, k]) for k in range(n_modes)]
    # the mode whose interval lies farthest from 1 (any mode, if all contain 1): the claim
    # that every mode decays at its rate holds iff this mode's interval contains 1
    distance = [max(r["lo"] - 1, 1 - r["hi"], 0) + 1e-9 * abs(r["mean"] - 1) for r in records]
    numbers.update(
        {
            "n_modes": int(n_modes),
            "mode_rate_predicted": pred.tolist(),
            "mode_rate_predicted_flow": rate_flow[:n_modes].tolist(),
            "mode_flow_over_gd": (rate_flow[:n_modes] / pred).tolist(),
            "mode_rate_measured": np.nanmean(mode_measured, axis=0).tolist(),
            "mode_rate_ratio": records,
            "mode_rate_ratio_least_consistent": records[int(np.argmax(distance))],
            "mode_least_consistent": int(np.argmax(distance)) + 1,
            "mode_rate_ratio_max_dev": float(np.nanmax(np.abs(np.nanmean(mode_ratio, 0) - 1))),
            "mode_lambda": run.subset_values[:n_modes].tolist(),
            "mode_init_kernel_ratio": [
                fits.bootstrap_mean(r) for r in (rayleigh / gram[:n_modes]).T
            ],
            "mode_rate_ratio_init_kernel": [
                fits.bootstrap_mean(r) for r in (mode_measured / mode_rate_init).T
            ],
            "mode_calibration_ratio": (mode_calib / pred).tolist(),
            "mode_calibration_bias": float(np.max(np.abs(mode_calib / pred - 1))),
            "calibration_bias": float(
                max(np.max(np.abs(mode_calib / pred - 1)), numbers["pc2_calibration_bias"])
            ),
        }
    )
    return ModeRates(
        times=times,
        norms=norms / norms[:, :1],
        predicted=pred,
        measured=mode_measured,
        theory=spectral.mode_decay(gram[:n_modes], times, lr=lr, m=n_sub, discrete=True),
    )


# ----------------------------------------------------------------------------- figures

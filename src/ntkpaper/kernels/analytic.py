"""Infinite-width NNGP (Σ) and NTK (Θ) of a fully connected net, computed independently of
neural-tangents (which the tests use as the judge).

Network: ``depth`` = L Dense layers in NTK parameterization with an elementwise activation σ
after each hidden layer, h^{l+1} = W_std/sqrt(n_l)·σ(h^l)·W + b_std·b, all parameters N(0, 1)
(exactly ``stax.Dense(n, W_std, b_std, parameterization='ntk')``). As all widths n_l → ∞
(Jacot et al. 2018, eqs. 26–30 of the source, with the weight variance W_std² made explicit):

    Σ_1(x, x')  = W_std²·x·x'/n_0 + b_std²
    Σ_{k+1}     = W_std²·E_{f~GP(0,Σ_k)}[σ(f(x)) σ(f(x'))] + b_std²
    Σ'_{k+1}    = W_std²·E_{f~GP(0,Σ_k)}[σ'(f(x)) σ'(f(x'))]        (no b_std² here)
    Θ_1 = Σ_1,  Θ_{k+1} = Θ_k·Σ'_{k+1} + Σ_{k+1}

and the outputs are Σ_L (nngp) and Θ_L (ntk); depth 1 is a linear model, Θ = Σ_1. With
W_std = 1 this is Jacot's form. The expectations are over the bivariate normal with
covariance [[q, c], [c, q']] where q = Σ_k(x, x), q' = Σ_k(x', x'), c = Σ_k(x, x'), and
correlation ρ = c/sqrt(q q'). Where a variance is 0 (x = 0 with b_std = 0) the moments are
only required to be finite: then c = 0 and Θ_k(x, ·) = 0, so Σ' there never reaches the
output.

Two ways to compute the expectations:

* ``method='closed'`` — ReLU: arc-cosine kernels of degree 1 and 0 (Cho & Saul 2009),
  with θ = arccos ρ ∈ [0, π]:  E[σσ] = sqrt(q q')·(sin θ + (π − θ) cos θ)/(2π),
  E[σ'σ'] = (π − θ)/(2π); computed unnormalised as r = sqrt(q q' − c²) (clipped at 0),
  θ = atan2(r, c), E[σσ] = r/(2π) + E[σ'σ']·c, which needs no division and stays finite
  for zero variances.  erf: arcsine kernel (Williams 1997):
  E[σσ] = (2/π)·arcsin(2c / sqrt((1+2q)(1+2q'))),
  E[σ'σ'] = (4/π) / sqrt((1+2q)(1+2q') − 4c²), both written with
  (1+2q)(1+2q') − 4c² = 1 + 2q + 2q' + 4(q q' − c²) to avoid cancellation.
* ``method='quadrature'`` — any elementwise σ (a name or a callable; σ' from the caller or
  by forward-mode autodiff): n×n-node Gauss–Hermite quadrature after the change of
  variables f = sqrt(2)·diag(sqrt q, sqrt q')·R·(u, v) with R the *symmetric* square root of
  the correlation matrix [[1, ρ], [ρ, 1]] (symmetric in x ↔ x'; well defined at ρ = ±1 and
  for zero variances). Diagonals use the same grid at ρ = 1. Accuracy depends on how smooth
  σ(sqrt(2q)·u) is on the scale of the nodes: excellent for tanh/erf at q = O(1), poor for
  ReLU's kink (Σ' involves a step function) and for erf at large q; prefer closed forms.

Only the diagonals q_k(x) = Σ_k(x, x) are needed to normalise an entry, and they follow
their own recursion, so they are computed once per input and the (n1, n2) output is
produced tile by tile (``block_size``): memory is the output plus O(block_size²)
intermediates. For K(x, x) (``x2=None``) only tiles on and above the diagonal are
computed and mirrored, the diagonal of Σ is pinned to the diagonal recursion, and the
result is exactly symmetric. On that diagonal ρ = 1 exactly, but at ρ = 1 − δ the moments
(arccos, sqrt(1 − ρ)) turn a rounding-level δ into an O(sqrt δ) error, so the diagonal is
taken from the scalar recursion (neural-tangents, whose x·x and |x|² differ in the last bit,
shows 1e-9 to 1e-8 relative error on its ReLU NTK diagonal for exactly this reason).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy.special import erf

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)

__all__ = [
    "CLOSED_FORM_ACTIVATIONS",
    "NAMED_ACTIVATIONS",
    "Kernels",
    "diagonal_kernels",
    "kernels",
]

Activation = str | Callable[[jax.Array], jax.Array]
Method = Literal["auto", "closed", "quadrature"]


class Kernels(NamedTuple):
    """Infinite-width kernels of the network output: NNGP Σ_L and NTK Θ_L."""

    nngp: jax.Array | np.ndarray
    ntk: jax.Array | np.ndarray


def _relu_derivative(x: jax.Array) -> jax.Array:
    # sqrt(1/2) at the kink: the diagonal quadrature rule (ρ = 1, f = f') has a whole
    # anti-diagonal of nodes with f = 0 exactly, where σ'(0)² must be the midpoint 1/2 of the
    # one-sided values 0 and 1 for E[σ'(f)²] = 1/2 to come out exact.
    return jnp.where(x > 0, 1.0, jnp.where(x < 0, 0.0, math.sqrt(0.5))).astype(x.dtype)


def _erf_derivative(x: jax.Array) -> jax.Array:
    return (2.0 / math.sqrt(math.pi)) * jnp.exp(-(x**2))


def _tanh_derivative(x: jax.Array) -> jax.Array:
    return 1.0 - jnp.tanh(x) ** 2


# name → (σ, σ'); the analytic σ' avoids autodiff's arbitrary choice at ReLU's kink.
NAMED_ACTIVATIONS: dict[str, tuple[Callable, Callable]] = {
    "relu": (jax.nn.relu, _relu_derivative),
    "erf": (erf, _erf_derivative),
    "tanh": (jnp.tanh, _tanh_derivative),
}
CLOSED_FORM_ACTIVATIONS = ("relu", "erf")


class _Nonlinearity(NamedTuple):
    """Gaussian moments of one activation: the only thing the recursion needs from σ.

    pair(q1, q2, c) -> (E[σ(f)σ(f')], E[σ'(f)σ'(f')]) for (f, f') ~ N(0, [[q1, c], [c, q2]]);
    diag(q) -> (E[σ(f)²], E[σ'(f)²]) for f ~ N(0, q).
    symmetric: pair(q1, q2, c) == pair(q2, q1, c) bitwise (true of the closed forms, whose
    every operation is symmetric in q1, q2 — even under FMA contraction, as fma(a, b, c) =
    fma(b, a, c) — but not of the quadrature, whose two coordinates are treated differently).
    """

    pair: Callable[[jax.Array, jax.Array, jax.Array], tuple[jax.Array, jax.Array]]
    diag: Callable[[jax.Array], tuple[jax.Array, jax.Array]]
    symmetric: bool


def _correlation(q1: jax.Array, q2: jax.Array, c: jax.Array) -> jax.Array:
    """ρ = c/sqrt(q1 q2) clipped to [-1, 1]; 0 where a variance is 0 (e.g. x = 0, b_std = 0)."""
    norm = jnp.sqrt(q1 * q2)
    positive = norm > 0
    return jnp.where(positive, jnp.clip(c / jnp.where(positive, norm, 1.0), -1.0, 1.0), 0.0)


def _relu_pair(q1: jax.Array, q2: jax.Array, c: jax.Array) -> tuple[jax.Array, jax.Array]:
    # Unnormalised: with r = sqrt(q1 q2 − c²) = sqrt(q1 q2)·sin θ, θ = atan2(r, c) needs no
    # division or clipping, and a zero variance (so c = 0) gives finite θ = 0.
    r = jnp.sqrt(jnp.maximum(q1 * q2 - c * c, 0.0))
    theta = jnp.arctan2(r, c)
    e_deriv = (jnp.pi - theta) / (2.0 * jnp.pi)
    e_act = r / (2.0 * jnp.pi) + e_deriv * c
    return e_act, e_deriv


def _relu_diag(q: jax.Array) -> tuple[jax.Array, jax.Array]:
    return 0.5 * q, jnp.full_like(q, 0.5)


def _erf_pair(q1: jax.Array, q2: jax.Array, c: jax.Array) -> tuple[jax.Array, jax.Array]:
    # (1+2q1)(1+2q2) − 4c² = 1 + 2(q1+q2) + 4(q1 q2 − c²), the last term clipped at 0.
    slack = 1.0 + 2.0 * (q1 + q2) + 4.0 * jnp.maximum(q1 * q2 - c**2, 0.0)
    root = jnp.sqrt(slack)
    # arcsin(2c/sqrt((1+2q1)(1+2q2))) written as an arctan2: well conditioned for any c.
    e_act = (2.0 / jnp.pi) * jnp.arctan2(2.0 * c, root)
    e_deriv = (4.0 / jnp.pi) / root
    return e_act, e_deriv


def _erf_diag(q: jax.Array) -> tuple[jax.Array, jax.Array]:
    root = jnp.sqrt(1.0 + 4.0 * q)
    return (2.0 / jnp.pi) * jnp.arctan2(2.0 * q, root), (4.0 / jnp.pi) / root


# Quadrature nodes are evaluated in chunks of at most this many (node × entry) values, so a
# small tile is one vectorised evaluation and a large one loops with bounded memory.
_QUADRATURE_CHUNK_ELEMENTS = 1 << 22


def _quadrature_nonlinearity(fn: Callable, dfn: Callable, n_quad: int) -> _Nonlinearity:
    """Gauss–Hermite moments of an arbitrary elementwise σ on the n_quad × n_quad grid.

    With weight e^{-u²-v²}, (f, f') = sqrt(2)·(sqrt(q1)·(a u + b v), sqrt(q2)·(b u + a v)) has
    covariance [[q1, c], [c, q2]] when [[a, b], [b, a]] is the symmetric square root of the
    correlation matrix [[1, ρ], [ρ, 1]] (a² + b² = 1, 2ab = ρ). The diagonal uses the same
    grid at ρ = 1 (a = b), so K(x, x) and K(x, x') → K(x, x) as x' → x come from one rule.
    """
    nodes, weights = np.polynomial.hermite.hermgauss(n_quad)
    grid_u, grid_v = (g.ravel() for g in np.meshgrid(nodes, nodes, indexing="ij"))
    grid_weights = np.outer(weights, weights).ravel() / np.pi

    def moments(scale1, scale2, a, b) -> tuple[jax.Array, jax.Array]:
        dtype = jnp.result_type(scale1, scale2, a, b)
        shape = jnp.broadcast_shapes(*(jnp.shape(t) for t in (scale1, scale2, a, b)))
        n_nodes, size = grid_weights.size, max(math.prod(shape), 1)
        chunk = max(1, min(n_nodes, _QUADRATURE_CHUNK_ELEMENTS // size))
        n_chunks = -(-n_nodes // chunk)
        # Padding nodes sit at 0 with weight 0 (σ(0) is finite for any sane activation).
        padded = [
            jnp.asarray(np.pad(g, (0, n_chunks * chunk - n_nodes)), dtype).reshape(n_chunks, chunk)
            for g in (grid_u, grid_v, grid_weights)
        ]
        to_nodes_axis = (slice(None),) + (None,) * len(shape)

        def accumulate(carry, node_chunk):
            u, v, weight = (t[to_nodes_axis] for t in node_chunk)
            f1, f2 = scale1 * (a * u + b * v), scale2 * (b * u + a * v)
            acc_act, acc_der = carry
            acc_act = acc_act + jnp.sum(weight * fn(f1) * fn(f2), axis=0)
            acc_der = acc_der + jnp.sum(weight * dfn(f1) * dfn(f2), axis=0)
            return (acc_act, acc_der), None

        zeros = jnp.zeros(shape, dtype)
        if n_chunks == 1:  # a plain reduction compiles faster than a one-step loop
            (e_act, e_deriv), _ = accumulate((zeros, zeros), [g[0] for g in padded])
        else:
            (e_act, e_deriv), _ = jax.lax.scan(accumulate, (zeros, zeros), padded)
        return e_act, e_deriv

    def pair(q1: jax.Array, q2: jax.Array, c: jax.Array) -> tuple[jax.Array, jax.Array]:
        rho = _correlation(q1, q2, c)
        root_plus, root_minus = jnp.sqrt(1.0 + rho), jnp.sqrt(1.0 - rho)
        a, b = 0.5 * (root_plus + root_minus), 0.5 * (root_plus - root_minus)
        return moments(jnp.sqrt(2.0 * q1), jnp.sqrt(2.0 * q2), a, b)

    def diag(q: jax.Array) -> tuple[jax.Array, jax.Array]:
        half_root_two = 0.5 * jnp.sqrt(jnp.asarray(2.0, q.dtype))  # pair's a = b at ρ = 1
        scale = jnp.sqrt(2.0 * q)
        return moments(scale, scale, half_root_two, half_root_two)

    return _Nonlinearity(pair=pair, diag=diag, symmetric=False)


@functools.lru_cache(maxsize=64)
def _nonlinearity(
    activation: Activation,
    activation_derivative: Callable | None,
    method: Method,
    n_quad: int,
) -> _Nonlinearity:
    """The moments for (activation, method); cached so jit sees the same static object."""
    name = activation if isinstance(activation, str) else None
    if name is not None and name not in NAMED_ACTIVATIONS:
        raise ValueError(
            f"activation={name!r}: expected one of {sorted(NAMED_ACTIVATIONS)} or a callable"
        )
    if method not in ("auto", "closed", "quadrature"):
        raise ValueError(f"method={method!r}: expected 'auto', 'closed' or 'quadrature'")
    has_closed_form = name in CLOSED_FORM_ACTIVATIONS
    if method == "closed" and not has_closed_form:
        raise ValueError(
            f"activation={activation!r} has no closed form (only {CLOSED_FORM_ACTIVATIONS});"
            " use method='quadrature'"
        )
    if has_closed_form and method in ("auto", "closed"):
        if name == "relu":
            return _Nonlinearity(pair=_relu_pair, diag=_relu_diag, symmetric=True)
        return _Nonlinearity(pair=_erf_pair, diag=_erf_diag, symmetric=True)
    if n_quad < 1:
        raise ValueError(f"n_quad={n_quad}: must be >= 1")
    if name is not None:
        fn, dfn = NAMED_ACTIVATIONS[name]
    else:
        fn = activation
        dfn = activation_derivative or _forward_mode_derivative(activation)
    return _quadrature_nonlinearity(fn, dfn, n_quad)


def _forward_mode_derivative(fn: Callable) -> Callable:
    """σ' of an elementwise σ by one JVP with a tangent of ones (any input shape)."""

    def derivative(x: jax.Array) -> jax.Array:
        return jax.jvp(fn, (x,), (jnp.ones_like(x),))[1]

    return derivative


def _diagonal_recursion(
    x: jax.Array,
    w_std: jax.Array,
    b_std: jax.Array,
    *,
    depth: int,
    nonlinearity: _Nonlinearity,
) -> tuple[jax.Array, jax.Array]:
    """q_k(x) = Σ_k(x, x) for k = 1..depth, shape (depth, n), and Θ_L(x, x), shape (n,)."""
    w_var, b_var = w_std**2, b_std**2
    q = w_var * jnp.sum(x * x, axis=-1) / x.shape[-1] + b_var
    theta = q
    qs = [q]
    for _ in range(depth - 1):
        e_act, e_deriv = nonlinearity.diag(q)
        q = w_var * e_act + b_var
        theta = theta * (w_var * e_deriv) + q
        qs.append(q)
    return jnp.stack(qs), theta


def _kernel_tile(
    x_rows: jax.Array,
    x_cols: jax.Array,
    q_rows: jax.Array,
    q_cols: jax.Array,
    w_std: jax.Array,
    b_std: jax.Array,
    *,
    depth: int,
    nonlinearity: _Nonlinearity,
    on_diagonal: bool,
) -> tuple[jax.Array, jax.Array]:
    """(Σ_L, Θ_L) on a (rows × cols) tile, given each side's per-layer diagonals q (depth, n).

    on_diagonal: rows and cols are the same inputs (a tile on the diagonal of K(x, x)): Σ is
    symmetrised and its diagonal pinned to q at every layer, so ρ(x, x) = 1 exactly.
    """
    w_var, b_var = w_std**2, b_std**2
    sigma = w_var * (x_rows @ x_cols.T) / x_rows.shape[-1] + b_var
    if on_diagonal:
        eye = jnp.eye(sigma.shape[0], dtype=bool)
        sigma = jnp.where(eye, q_rows[0][:, None], 0.5 * (sigma + sigma.T))
    theta = sigma
    # Unrolled (depth is static and small): XLA then fuses all layers' elementwise work into
    # one pass over the tile instead of reading and writing it once per layer.
    for layer in range(depth - 1):
        q_r, q_c = q_rows[layer], q_cols[layer]
        e_act, e_deriv = nonlinearity.pair(q_r[:, None], q_c[None, :], sigma)
        if on_diagonal and not nonlinearity.symmetric:
            e_act, e_deriv = 0.5 * (e_act + e_act.T), 0.5 * (e_deriv + e_deriv.T)
        sigma = w_var * e_act + b_var
        if on_diagonal:
            # At ρ = 1 − δ, arccos and sqrt(1 − ρ) turn a rounding-level δ into an O(sqrt δ)
            # error, and XLA may round c/sqrt(q q) ≠ 1; the diagonal moments are exact.
            _, e_deriv_diag = nonlinearity.diag(q_r)
            e_deriv = jnp.where(eye, e_deriv_diag[:, None], e_deriv)
            sigma = jnp.where(eye, q_rows[layer + 1][:, None], sigma)
        theta = theta * (w_var * e_deriv) + sigma
    return sigma, theta


_diagonal_recursion_jit = jax.jit(_diagonal_recursion, static_argnames=("depth", "nonlinearity"))
_kernel_tile_jit = jax.jit(_kernel_tile, static_argnames=("depth", "nonlinearity", "on_diagonal"))


@functools.partial(jax.jit, static_argnames=("depth", "nonlinearity", "symmetric"))
def _whole_kernels(
    x1: jax.Array,
    x2: jax.Array,
    w_std: jax.Array,
    b_std: jax.Array,
    *,
    depth: int,
    nonlinearity: _Nonlinearity,
    symmetric: bool,
) -> tuple[jax.Array, jax.Array]:
    """The untiled output as one compiled program (diagonals and tile together)."""
    settings = dict(depth=depth, nonlinearity=nonlinearity)
    q1, _ = _diagonal_recursion(x1, w_std, b_std, **settings)
    q2 = q1 if symmetric else _diagonal_recursion(x2, w_std, b_std, **settings)[0]
    return _kernel_tile(x1, x2, q1, q2, w_std, b_std, on_diagonal=symmetric, **settings)


def _validated(x: jax.Array | np.ndarray, dtype: jnp.dtype, name: str, depth: int) -> jax.Array:
    x = jnp.asarray(x, dtype)
    if x.ndim != 2:
        raise ValueError(f"{name} must have shape (n, n_0), got {x.shape}")
    if depth < 1:
        raise ValueError(f"depth={depth}: the number of Dense layers must be >= 1")
    return x


def diagonal_kernels(
    x: jax.Array | np.ndarray,
    *,
    depth: int,
    activation: Activation = "relu",
    activation_derivative: Callable | None = None,
    W_std: float = 1.0,
    b_std: float = 0.1,
    method: Method = "auto",
    n_quad: int = 32,
    dtype: jnp.dtype = jnp.float64,
) -> Kernels:
    """Σ_L(x, x) and Θ_L(x, x) for each row of x, shape (n,), in O(n·depth) work."""
    x = _validated(x, dtype, "x", depth)
    nonlinearity = _nonlinearity(activation, activation_derivative, method, n_quad)
    w, b = jnp.asarray(W_std, dtype), jnp.asarray(b_std, dtype)
    q, theta = _diagonal_recursion_jit(x, w, b, depth=depth, nonlinearity=nonlinearity)
    return Kernels(nngp=q[-1], ntk=theta)


def _tile_starts(n: int, block_size: int) -> list[int]:
    """Starts of equal tiles covering [0, n); the last is shifted back to fit, so every tile
    has the same shape (one compilation) and overlaps are recomputed with the same values."""
    return sorted({min(start, n - block_size) for start in range(0, n, block_size)})


def kernels(
    x1: jax.Array | np.ndarray,
    x2: jax.Array | np.ndarray | None = None,
    *,
    depth: int,
    activation: Activation = "relu",
    activation_derivative: Callable | None = None,
    W_std: float = 1.0,
    b_std: float = 0.1,
    method: Method = "auto",
    n_quad: int = 32,
    block_size: int | None = None,
    dtype: jnp.dtype = jnp.float64,
) -> Kernels:
    """Infinite-width NNGP Σ_L(x1, x2) and NTK Θ_L(x1, x2), each of shape (n1, n2).

    depth: number of Dense layers L (1 = linear model). activation: 'relu', 'erf', 'tanh'
    or an elementwise callable (quadrature only; σ' from activation_derivative or by
    autodiff). method: 'closed' (relu, erf), 'quadrature' (anything, n_quad² nodes) or
    'auto' (closed where one exists). x2=None means x2 = x1, and the result is exactly
    symmetric. block_size: compute the output in block_size × block_size tiles so the
    intermediates stay O(block_size²); the tiles are assembled in host memory and numpy
    arrays are returned (without it, jax arrays, and the call can be traced under jit).
    """
    symmetric = x2 is None
    x1 = _validated(x1, dtype, "x1", depth)
    x2 = x1 if symmetric else _validated(x2, dtype, "x2", depth)
    if x1.shape[1] != x2.shape[1]:
        raise ValueError(f"x1 and x2 need the same n_0, got {x1.shape[1]} and {x2.shape[1]}")
    nonlinearity = _nonlinearity(activation, activation_derivative, method, n_quad)
    w, b = jnp.asarray(W_std, dtype), jnp.asarray(b_std, dtype)
    settings = dict(depth=depth, nonlinearity=nonlinearity)
    n1, n2 = x1.shape[0], x2.shape[0]
    if block_size is None or (block_size >= n1 and block_size >= n2):
        nngp, ntk = _whole_kernels(x1, x2, w, b, symmetric=symmetric, **settings)
        return Kernels(nngp=nngp, ntk=ntk)
    if block_size < 1:
        raise ValueError(f"block_size={block_size}: must be >= 1")

    q1, _ = _diagonal_recursion_jit(x1, w, b, **settings)
    q2 = q1 if symmetric else _diagonal_recursion_jit(x2, w, b, **settings)[0]
    rows_per_tile, cols_per_tile = min(block_size, n1), min(block_size, n2)
    nngp = np.empty((n1, n2), dtype)
    ntk = np.empty((n1, n2), dtype)
    row_starts = _tile_starts(n1, rows_per_tile)
    col_starts = _tile_starts(n2, cols_per_tile)
    for r in row_starts:
        rows = slice(r, r + rows_per_tile)
        for c in col_starts:
            if symmetric and c < r:
                continue  # written as the mirror of tile (c, r)
            cols = slice(c, c + cols_per_tile)
            tile_nngp, tile_ntk = jax.device_get(
                _kernel_tile_jit(
                    x1[rows],
                    x2[cols],
                    q1[:, rows],
                    q2[:, cols],
                    w,
                    b,
                    on_diagonal=symmetric and r == c,
                    **settings,
                )
            )
            nngp[rows, cols], ntk[rows, cols] = tile_nngp, tile_ntk
            if symmetric:
                nngp[cols, rows], ntk[cols, rows] = tile_nngp.T, tile_ntk.T
    return Kernels(nngp=nngp, ntk=ntk)

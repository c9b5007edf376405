"""A convolutional net in NTK parameterization that is exactly an ``nt.stax`` conv net (E13).

Architecture (``CNNSpec``): ``conv_layers`` convolutions ``Conv_0 .. Conv_{L-1}``, each with a
``filter_size``×``filter_size`` filter, stride 1, SAME padding, ``channels`` output channels
and ``activation`` after it; then a readout, either ``flatten`` (all H·W·C features into one
Dense layer) or ``pool`` (global average over the H·W positions, then Dense); the Dense layer
``Dense_0`` has ``out_dim`` outputs. In NTK parameterization every parameter is N(0, 1) and

    h^{l+1} = W_std/sqrt(k²·C_l) · conv(a^l, W^l) + b_std · b^l
    f       = W_std/sqrt(d) · r W + b_std · b,     r = flatten(a^L) (d = H·W·C) or mean_{HW} a^L

exactly ``stax.Conv(C, (k, k), padding='SAME', W_std=W_std, b_std=b_std)`` (fan-in k²·C_l,
kernel layout HWIO, inputs NHWC; computed as a matmul of image patches, see ScaledConv)
followed by ``stax.Flatten()`` or ``stax.GlobalAvgPool()``
and ``stax.Dense(out_dim, W_std, b_std)``. Inputs arrive flat, (n, H·W·C) as
``ntkpaper.data.datasets`` stores them, and are reshaped to ``image_shape`` inside
``apply``, so training, empirical kernels and predictions take the same arrays as the fully
connected net.

``stax_network(spec)`` returns the matching ``stax.serial``; ``to_stax_params`` /
``from_stax_params`` map the parameter layouts; tests/test_cnn.py checks that the two apply
functions agree, that neural-tangents' empirical kernel of the Flax net converges to the
analytic CNTK, and that the tiled ``analytic_kernels`` equals one untiled call.

Cost of the analytic kernels: with flattening only the covariances of equal positions
(H·W per input pair) are needed; global average pooling needs every pair of positions,
(H·W)² per input pair, and each convolution acts on that four-index array. Arora et al.
(2019) make the same observation for CIFAR-10; ``analytic_kernels`` times both.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from ntkpaper._compat import nt, stax
from ntkpaper.networks.models import ScaledDense, activation_fn, params_dtype

READOUTS = ("flatten", "pool")

Params = dict[str, Any]


@dataclasses.dataclass(frozen=True)
class CNNSpec:
    """Hyperparameters of the conv net (hashable: usable as a jit static argument)."""

    channels: int
    conv_layers: int = 2
    filter_size: int = 3
    readout: str = "pool"
    activation: str = "relu"
    W_std: float = 1.0
    b_std: float = 0.1
    out_dim: int = 1
    image_shape: tuple[int, int, int] = (8, 8, 1)

    def __post_init__(self) -> None:
        for name in ("channels", "conv_layers", "filter_size", "out_dim"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"CNNSpec.{name} must be an integer >= 1, got {value!r}")
        if self.readout not in READOUTS:
            raise ValueError(f"CNNSpec.readout must be one of {READOUTS}, got {self.readout!r}")
        if self.activation not in ("relu", "erf"):  # closed-form stax kernels only
            raise ValueError(f"CNNSpec.activation must be relu or erf, got {self.activation!r}")
        if not self.W_std > 0 or not self.b_std >= 0:
            raise ValueError(
                f"CNNSpec needs W_std > 0 and b_std >= 0, got {self.W_std}, {self.b_std}"
            )
        if len(self.image_shape) != 3 or min(self.image_shape) < 1:
            raise ValueError(f"CNNSpec.image_shape must be (H, W, C), got {self.image_shape}")

    @property
    def in_dim(self) -> int:
        return math.prod(self.image_shape)


def cnn_spec(block: dict, *, channels: int, readout: str, out_dim: int, image_shape) -> CNNSpec:
    """A CNNSpec from a config ``cnn:`` block."""
    return CNNSpec(
        channels=channels,
        readout=readout,
        out_dim=out_dim,
        image_shape=tuple(int(s) for s in image_shape),
        **dict(block),
    )


def _patches(x: jax.Array, k: int) -> jax.Array:
    """SAME-padded k×k patches of NHWC images, (n, H, W, k·k·C) in the HWIO order of a conv
    kernel (row offset, column offset, channel), so that patches @ W.reshape(k·k·C, O) is
    lax.conv_general_dilated(x, W, (1, 1), 'SAME') (a cross-correlation, as stax's)."""
    h, w = x.shape[1], x.shape[2]
    lo = (k - 1) // 2
    padded = jnp.pad(x, ((0, 0), (lo, k - 1 - lo), (lo, k - 1 - lo), (0, 0)))
    return jnp.concatenate(
        [padded[:, i : i + h, j : j + w, :] for i in range(k) for j in range(k)], axis=-1
    )


class ScaledConv(nn.Module):
    """stax.Conv in NTK parameterization: W_std/sqrt(fan_in)·conv(x, W) + b_std·b.

    The convolution is a matmul of the image patches with the kernel: the same numbers as
    lax.conv_general_dilated up to rounding, but under ``jax.vmap`` over an ensemble's seeds
    it stays a batched matmul, where a vmapped lax.conv becomes a grouped convolution that
    XLA:CPU ran 20× slower (3 seeds of 32 channels on 160 digits, float32)."""

    features: int
    filter_size: int
    W_std: float
    b_std: float
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        c_in, k = x.shape[-1], self.filter_size
        unit = nn.initializers.normal(stddev=1.0)
        kernel = self.param("kernel", unit, (k, k, c_in, self.features), self.param_dtype)
        bias = self.param("bias", unit, (self.features,), self.param_dtype)
        x = x.astype(kernel.dtype)
        norm = self.W_std / (c_in * k * k) ** 0.5
        res = norm * (_patches(x, k) @ kernel.reshape(k * k * c_in, self.features))
        return res + self.b_std * bias.reshape(1, 1, 1, -1)


class CNN(nn.Module):
    """The conv net described by ``spec``: Conv_0 .. Conv_{L-1}, readout, Dense_0."""

    spec: CNNSpec
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        spec = self.spec
        sigma = activation_fn(spec.activation)
        x = x.reshape(x.shape[0], *spec.image_shape)
        for layer in range(spec.conv_layers):
            x = ScaledConv(
                spec.channels,
                spec.filter_size,
                spec.W_std,
                spec.b_std,
                param_dtype=self.param_dtype,
                name=f"Conv_{layer}",
            )(x)
            x = sigma(x)
        x = x.reshape(x.shape[0], -1) if spec.readout == "flatten" else jnp.mean(x, axis=(1, 2))
        return ScaledDense(
            spec.out_dim,
            "ntk",
            spec.W_std,
            spec.b_std,
            param_dtype=self.param_dtype,
            name="Dense_0",
        )(x)


@functools.partial(jax.jit, static_argnames=("spec", "dtype"))
def init_params(spec: CNNSpec, *, key: jax.Array, dtype: Any = jnp.float32) -> Params:
    """Fresh parameters {'params': {'Conv_i': {'kernel', 'bias'}, 'Dense_0': ...}}."""
    variables = CNN(spec, param_dtype=dtype).init(key, jnp.zeros((1, spec.in_dim), dtype))
    return {"params": dict(variables["params"])}


@functools.partial(jax.jit, static_argnames=("spec", "n_seeds", "dtype"))
def init_ensemble(spec: CNNSpec, *, key: jax.Array, n_seeds: int, dtype: Any = jnp.float32):
    """``n_seeds`` nets stacked on a leading axis; net s uses ``fold_in(key, s)``."""
    return jax.vmap(lambda s: init_params(spec, key=jax.random.fold_in(key, s), dtype=dtype))(
        jnp.arange(n_seeds)
    )


def apply(spec: CNNSpec, params: Params, x: jax.Array) -> jax.Array:
    """f(x) of shape (n, out_dim); x is (n, H·W·C) or (n, H, W, C), cast to the params' dtype."""
    return CNN(spec, param_dtype=params_dtype(params)).apply(params, x)


def make_apply(spec: CNNSpec) -> Callable[[Params, jax.Array], jax.Array]:
    def apply_fn(params: Params, x: jax.Array) -> jax.Array:
        return apply(spec, params, x)

    return apply_fn


def stax_network(spec: CNNSpec) -> tuple[Callable, Callable, Callable]:
    """The ``stax.serial`` conv net with the same architecture: (init_fn, apply_fn, kernel_fn).
    Its functions take NHWC images (``images`` reshapes flat inputs)."""
    nonlinearity = stax.Relu() if spec.activation == "relu" else stax.Erf()
    layers = []
    for _ in range(spec.conv_layers):
        k = spec.filter_size
        layers += [
            stax.Conv(
                spec.channels,
                (k, k),
                padding="SAME",
                W_std=spec.W_std,
                b_std=spec.b_std,
                parameterization="ntk",
            ),
            nonlinearity,
        ]
    layers.append(stax.Flatten() if spec.readout == "flatten" else stax.GlobalAvgPool())
    layers.append(
        stax.Dense(spec.out_dim, W_std=spec.W_std, b_std=spec.b_std, parameterization="ntk")
    )
    return stax.serial(*layers)


def images(spec: CNNSpec, x) -> jax.Array:
    """Flat inputs (n, H·W·C) as NHWC images."""
    x = jnp.asarray(x)
    return x.reshape(x.shape[0], *spec.image_shape)


def to_stax_params(spec: CNNSpec, params: Params) -> list[tuple]:
    """Flax layout → stax.serial layout [(W, b), (), ..., (), (W_dense, b_dense)]."""
    p = params["params"]
    out: list[tuple] = []
    for layer in range(spec.conv_layers):
        conv = p[f"Conv_{layer}"]
        out += [(conv["kernel"], conv["bias"].reshape(1, 1, 1, -1)), ()]
    out.append(())  # Flatten / GlobalAvgPool
    out.append((p["Dense_0"]["kernel"], p["Dense_0"]["bias"][None, :]))
    return out


def from_stax_params(spec: CNNSpec, stax_params: list[tuple]) -> Params:
    """stax.serial layout → Flax layout (inverse of ``to_stax_params``)."""
    weighted = [p for p in stax_params if len(p) == 2]
    params = {
        f"Conv_{i}": {"kernel": W, "bias": b.reshape(-1)} for i, (W, b) in enumerate(weighted[:-1])
    }
    W, b = weighted[-1]
    params["Dense_0"] = {"kernel": W, "bias": b.reshape(-1)}
    return {"params": params}


# ----------------------------------------------------------------------------- kernels


@functools.lru_cache(maxsize=16)
def _kernel_fn(spec: CNNSpec) -> Callable:
    return jax.jit(stax_network(spec)[2], static_argnames="get")


def _blocks(x: np.ndarray, size: int) -> tuple[np.ndarray, int]:
    """(n, d) → (n_blocks, size, d), zero-padded, and n."""
    n_blocks = -(-len(x) // size)
    padded = np.zeros((n_blocks * size, *x.shape[1:]), x.dtype)
    padded[: len(x)] = x
    return padded.reshape(n_blocks, size, *x.shape[1:]), len(x)


def analytic_kernels(
    spec: CNNSpec,
    x1: np.ndarray,
    x2: np.ndarray | None = None,
    *,
    block_size: int = 40,
    get: tuple[str, ...] = ("ntk", "nngp"),
) -> dict[str, np.ndarray]:
    """neural-tangents' analytic kernels of the conv net, float64, tiled in
    ``block_size``×``block_size`` tiles of one compiled shape (memory stays bounded: with
    pooling a tile holds block_size²·(H·W)² covariances per layer). For x2=None only the
    tiles on and above the diagonal are computed and mirrored."""
    fn = _kernel_fn(dataclasses.replace(spec, channels=1, out_dim=1))
    b1, n1 = _blocks(np.asarray(x1, np.float64), block_size)
    symmetric = x2 is None
    b2, n2 = (b1, n1) if symmetric else _blocks(np.asarray(x2, np.float64), block_size)
    out = {name: np.zeros((len(b1) * block_size, len(b2) * block_size)) for name in get}
    for i, xi in enumerate(b1):
        for j, xj in enumerate(b2):
            if symmetric and j < i:
                continue
            k = fn(images(spec, xi), images(spec, xj), get)  # one compiled shape for every tile
            rows, cols = (
                slice(i * block_size, (i + 1) * block_size),
                slice(j * block_size, (j + 1) * block_size),
            )
            for name in get:
                tile = np.asarray(getattr(k, name), np.float64)
                out[name][rows, cols] = tile
                if symmetric and j > i:
                    out[name][cols, rows] = tile.T
    out = {name: v[:n1, :n2] for name, v in out.items()}
    if symmetric:  # a diagonal tile from neural-tangents is symmetric only to rounding
        out = {name: 0.5 * (v + v.T) for name, v in out.items()}
    return out


@functools.lru_cache(maxsize=16)
def _empirical_fn(spec: CNNSpec, implementation: int) -> Callable:
    return jax.jit(
        nt.empirical_ntk_fn(
            make_apply(spec), trace_axes=(-1,), vmap_axes=0, implementation=implementation
        )
    )


def empirical_ntk(
    spec: CNNSpec, params: Params, x1, x2=None, *, implementation: int = 3
) -> jax.Array:
    """neural-tangents' empirical NTK of the Flax net (trace-averaged over outputs, vmap_axes=0;
    implementation 3 = structured derivatives, 1 = Jacobian contraction)."""
    dtype = params_dtype(params)
    params = jax.tree.map(jnp.asarray, params)
    x1 = jnp.asarray(x1).astype(dtype)
    x2 = None if x2 is None else jnp.asarray(x2).astype(dtype)
    return _empirical_fn(spec, implementation)(x1, x2, params)

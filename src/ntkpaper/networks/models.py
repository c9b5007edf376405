"""The fully connected network of the paper, as a Flax module that is exactly an ``nt.stax`` net.

Architecture (``MLPSpec``): ``depth`` = L Dense layers ``Dense_0 .. Dense_{L-1}``; the L−1
hidden layers have ``width`` units followed by ``activation`` ∈ {relu, erf, tanh}; the last
layer is linear with ``out_dim`` outputs. Jacot's "depth 4" is L = 4 (three hidden layers).
Writing a^0 = x and n_l for the input width of layer l:

* ``parameterization='ntk'``: every parameter ~ N(0, 1) and
  h^{l+1} = W_std/sqrt(n_l) · a^l W^l + b_std · b^l  (``stax.Dense(n, W_std, b_std, 'ntk')``);
* ``parameterization='standard'``: W^l ~ N(0, W_std²/n_l), b^l ~ N(0, b_std²) and
  h^{l+1} = a^l W^l + b^l  (``stax.Dense(n, W_std, b_std, parameterization='standard')``).

The NTK scaling lives inside the module, so the parameters a user (or an optimiser) sees are
the N(0, 1) variables of the NTK paper. Parameters are a plain pytree
``{'params': {'Dense_i': {'kernel': (n_l, n_{l+1}), 'bias': (n_{l+1},)}}}`` in the dtype asked
for (flax would keep float32 under x64 otherwise). ``apply`` casts the inputs to the
parameters' dtype, so a float32 network never silently computes in float64 because numpy
handed it float64 data.

``stax_network(spec)`` returns the matching ``stax.serial`` (init_fn, apply_fn, kernel_fn);
``to_stax_params``/``from_stax_params`` map between the two parameter layouts, and
tests/test_models.py checks that the two apply functions agree bitwise and that the
empirical NTK at large width converges to stax's analytic kernel.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import warnings
from collections.abc import Callable, Mapping
from typing import Any

import flax.linen as nn
import jax
import jax.numpy as jnp

from ntkpaper._compat import stax

ACTIVATIONS = ("relu", "erf", "tanh")
PARAMETERIZATIONS = ("ntk", "standard")

Params = dict[str, Any]

# Gauss–Hermite nodes for stax's numerical tanh kernel; 25 is neural-tangents' recommendation
# for smooth activations (relative error ~1e-8 on the kernels used here).
TANH_QUADRATURE_DEGREE = 25


@dataclasses.dataclass(frozen=True)
class MLPSpec:
    """Hyperparameters of the fully connected net (hashable: usable as a jit static arg)."""

    width: int
    depth: int = 4
    activation: str = "relu"
    parameterization: str = "ntk"
    W_std: float = 1.0
    b_std: float = 0.1
    out_dim: int = 1

    def __post_init__(self) -> None:
        for name, minimum in (("width", 1), ("depth", 1), ("out_dim", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"MLPSpec.{name} must be an integer >= {minimum}, got {value!r}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"MLPSpec.activation must be one of {ACTIVATIONS}, got {self.activation!r}"
            )
        if self.parameterization not in PARAMETERIZATIONS:
            raise ValueError(
                f"MLPSpec.parameterization must be one of {PARAMETERIZATIONS}, "
                f"got {self.parameterization!r}"
            )
        if not (isinstance(self.W_std, int | float) and self.W_std > 0):
            raise ValueError(f"MLPSpec.W_std must be a number > 0, got {self.W_std!r}")
        if not (isinstance(self.b_std, int | float) and self.b_std >= 0):
            raise ValueError(f"MLPSpec.b_std must be a number >= 0, got {self.b_std!r}")

    def layer_widths(self, in_dim: int) -> tuple[int, ...]:
        """(n_0, n_1, ..., n_L): input dim, L−1 hidden widths, out_dim."""
        return (in_dim, *([self.width] * (self.depth - 1)), self.out_dim)


KERNEL_NAMES = ("ntk", "nngp")  # the limiting kernels nt.stax computes, in this order


def model_spec(model: Mapping[str, Any], *, width: int, out_dim: int) -> MLPSpec:
    """An MLPSpec from a config `model:` block (missing keys take MLPSpec's defaults)."""
    return MLPSpec(width=width, out_dim=out_dim, **dict(model))


def activation_fn(name: str) -> Callable[[jax.Array], jax.Array]:
    """σ by name; relu is written as stax writes it so the two nets agree bitwise."""
    if name == "relu":
        return lambda h: jnp.maximum(h, 0)
    if name == "erf":
        return jax.scipy.special.erf
    if name == "tanh":
        return jnp.tanh
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def activation_derivative(name: str) -> Callable[[jax.Array], jax.Array]:
    """σ' by name (relu'(0) = 0, as jax's autodiff of maximum(h, 0) gives)."""
    if name == "relu":
        return lambda h: (h > 0).astype(h.dtype)
    if name == "erf":
        return lambda h: (2 / math.sqrt(math.pi)) * jnp.exp(-jnp.square(h))
    if name == "tanh":
        return lambda h: 1 - jnp.square(jnp.tanh(h))
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


class ScaledDense(nn.Module):
    """One Dense layer with the parameterization's scaling inside (see module docstring)."""

    features: int
    parameterization: str
    W_std: float
    b_std: float
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        if self.parameterization == "ntk":
            kernel_init = nn.initializers.normal(stddev=1.0)
            bias_init = nn.initializers.normal(stddev=1.0)
        else:
            kernel_init = nn.initializers.normal(stddev=self.W_std / math.sqrt(fan_in))
            bias_init = nn.initializers.normal(stddev=self.b_std)
        kernel = self.param("kernel", kernel_init, (fan_in, self.features), self.param_dtype)
        bias = self.param("bias", bias_init, (self.features,), self.param_dtype)
        x = x.astype(kernel.dtype)
        prod = x @ kernel
        # Same operations in the same order as stax.Dense's apply_fn (bitwise agreement).
        if self.parameterization == "ntk":
            return (self.W_std / fan_in**0.5) * prod + self.b_std * bias
        return prod + bias


class MLP(nn.Module):
    """The network described by ``spec``; layers are named Dense_0 .. Dense_{depth-1}."""

    spec: MLPSpec
    param_dtype: Any = jnp.float32

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        spec = self.spec
        sigma = activation_fn(spec.activation)
        for layer in range(spec.depth):
            last = layer == spec.depth - 1
            x = ScaledDense(
                features=spec.out_dim if last else spec.width,
                parameterization=spec.parameterization,
                W_std=spec.W_std,
                b_std=spec.b_std,
                param_dtype=self.param_dtype,
                name=f"Dense_{layer}",
            )(x)
            if not last:
                x = sigma(x)
        return x


@functools.partial(jax.jit, static_argnames=("spec", "in_dim", "dtype"))
def init_params(spec: MLPSpec, *, key: jax.Array, in_dim: int, dtype: Any = jnp.float32) -> Params:
    """Fresh parameters {'params': {'Dense_i': {'kernel', 'bias'}}} in ``dtype`` (jitted: eager
    flax init dispatches, and under vmap compiles, every primitive one by one)."""
    module = MLP(spec, param_dtype=dtype)
    variables = module.init(key, jnp.zeros((1, in_dim), dtype))
    return {"params": dict(variables["params"])}


def apply(spec: MLPSpec, params: Params, x: jax.Array) -> jax.Array:
    """f(x) of shape (n, out_dim); x (n, in_dim) is cast to the parameters' dtype."""
    return MLP(spec, param_dtype=params_dtype(params)).apply(params, x)


def make_apply(spec: MLPSpec) -> Callable[[Params, jax.Array], jax.Array]:
    """A pure ``apply(params, x)`` for this spec (what optimisers and neural-tangents take)."""

    def apply_fn(params: Params, x: jax.Array) -> jax.Array:
        return apply(spec, params, x)

    return apply_fn


@functools.partial(jax.jit, static_argnames="spec")
def ensemble_apply(spec: MLPSpec, params: Params, x: jax.Array) -> jax.Array:
    """f(x) of every net of an ensemble stacked on a leading seed axis: (n_seeds, n, out_dim)."""
    return jax.vmap(lambda p: apply(spec, p, x))(params)


@functools.partial(jax.jit, static_argnames=("spec", "in_dim", "n_seeds", "dtype"))
def init_ensemble(
    spec: MLPSpec, *, key: jax.Array, in_dim: int, n_seeds: int, dtype: Any = jnp.float32
) -> Params:
    """Parameters of ``n_seeds`` nets stacked on a leading axis; net s is
    ``init_params(spec, key=fold_in(key, s), ...)``, so adding seeds changes no other seed."""
    seeds = jnp.arange(n_seeds)
    return jax.vmap(
        lambda s: init_params(spec, key=jax.random.fold_in(key, s), in_dim=in_dim, dtype=dtype)
    )(seeds)


def layer_names(params: Params) -> list[str]:
    """['Dense_0', ..., 'Dense_{L-1}'] in network order (not lexicographic: Dense_10 > Dense_9)."""
    names = list(params["params"])
    return sorted(names, key=lambda name: int(name.rsplit("_", 1)[1]))


def params_dtype(params: Params) -> jnp.dtype:
    """The common floating dtype of the parameters (they are created in one dtype)."""
    return jnp.result_type(*jax.tree.leaves(params))


def stax_network(spec: MLPSpec) -> tuple[Callable, Callable, Callable]:
    """The ``stax.serial`` net with the same architecture: (init_fn, apply_fn, kernel_fn).

    relu and erf use stax's closed-form kernels; tanh has none, so it uses
    ``stax.ElementwiseNumerical`` (Gauss–Hermite quadrature, TANH_QUADRATURE_DEGREE nodes).
    """
    if spec.activation == "relu":
        nonlinearity = stax.Relu()
    elif spec.activation == "erf":
        nonlinearity = stax.Erf()
    else:
        with warnings.catch_warnings():
            # It warns that accuracy depends on deg, and about autodiff when df is missing.
            warnings.simplefilter("ignore", UserWarning)
            nonlinearity = stax.ElementwiseNumerical(
                jnp.tanh, deg=TANH_QUADRATURE_DEGREE, df=activation_derivative("tanh")
            )
    layers = []
    for layer in range(spec.depth):
        last = layer == spec.depth - 1
        layers.append(
            stax.Dense(
                spec.out_dim if last else spec.width,
                W_std=spec.W_std,
                b_std=spec.b_std,
                parameterization=spec.parameterization,
            )
        )
        if not last:
            layers.append(nonlinearity)
    return stax.serial(*layers)


def to_stax_params(params: Params) -> list[tuple]:
    """Flax layout → stax.serial layout [(W, b[None, :]), (), (W, b), (), ..., (W, b)]."""
    stax_params: list[tuple] = []
    for name in layer_names(params):
        if stax_params:
            stax_params.append(())  # the activation layer between two Dense layers
        layer = params["params"][name]
        stax_params.append((layer["kernel"], layer["bias"][None, :]))
    return stax_params


def from_stax_params(stax_params: list[tuple]) -> Params:
    """stax.serial layout → Flax layout (inverse of ``to_stax_params``)."""
    dense = [p for p in stax_params if len(p) == 2]
    return {
        "params": {
            f"Dense_{i}": {"kernel": W, "bias": b.reshape(-1)} for i, (W, b) in enumerate(dense)
        }
    }

"""The pins are one source of truth, the installed versions match them, and
neural-tangents works without TensorFlow through the compat shims."""

from __future__ import annotations

import importlib.util
import re
from importlib import metadata

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from ntkpaper._compat import PINNED, nt, stax

from .conftest import ROOT


def pins(path) -> dict[str, str]:
    out = {}
    for line in (ROOT / path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            name, version = re.split(r"==", line)
            out[name.lower().replace("_", "-")] = version
    return out


def test_every_installed_package_matches_its_pin():
    """Fails loudly when an environment drifts from requirements*.txt (revisit _compat.py)."""
    wanted = pins("requirements.txt") | pins("requirements-nodeps.txt")
    wrong = {}
    for name, version in wanted.items():
        try:
            have = metadata.version(name)
        except metadata.PackageNotFoundError:
            have = None
        if have != version:
            wrong[name] = (version, have)
    assert not wrong, f"pinned vs installed: {wrong}"


def test_compat_pins_agree_with_requirements():
    wanted = pins("requirements.txt") | pins("requirements-nodeps.txt")
    for name, version in PINNED.items():
        assert wanted[name] == version, f"_compat.PINNED[{name}] disagrees with the lock"


def test_environment_yml_installs_the_same_lock():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section == ["-r requirements.txt"]
    assert any(str(d).startswith("python=3.11") for d in env["dependencies"])


def test_pyproject_reads_dependencies_from_the_lock():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'dependencies = { file = ["requirements.txt"] }' in text


def test_tensorflow_is_not_installed_and_not_needed():
    assert importlib.util.find_spec("tensorflow") is None
    assert float(jnp.asarray(1.0, jnp.float64).dtype.itemsize) == 8  # x64 on


def test_x64_is_enabled_once_by_the_package():
    assert jax.config.jax_enable_x64


@pytest.mark.parametrize("implementation", [1, 2, 3])
def test_empirical_ntk_implementations_agree_with_jacobian_product(implementation):
    init_fn, apply_fn, _ = stax.serial(stax.Dense(64), stax.Relu(), stax.Dense(2))
    x = jax.random.normal(jax.random.PRNGKey(0), (5, 3))
    _, params = init_fn(jax.random.PRNGKey(1), x.shape)
    kernel = nt.empirical_ntk_fn(
        apply_fn, trace_axes=(), vmap_axes=0, implementation=implementation
    )(x, None, params)
    jac = jax.jacobian(apply_fn)(params, x)
    flat = jnp.concatenate([j.reshape(5, 2, -1) for j in jax.tree_util.tree_leaves(jac)], axis=-1)
    naive = jnp.einsum("iap,jbp->ijab", flat, flat)
    np.testing.assert_allclose(kernel, naive, rtol=1e-10, atol=1e-12)


def test_analytic_kernel_and_prediction_work_without_experimental():
    _, _, kernel_fn = stax.serial(stax.Dense(8), stax.Erf(), stax.Dense(1))
    x = jax.random.normal(jax.random.PRNGKey(0), (6, 3))
    y = jnp.sin(x[:, :1])
    predict = nt.predict.gradient_descent_mse_ensemble(kernel_fn, x, y, diag_reg=1e-6)
    mean, cov = predict(t=None, x_test=x, get="ntk", compute_cov=True)
    np.testing.assert_allclose(mean, y, atol=1e-4)
    assert cov.shape == (6, 6)

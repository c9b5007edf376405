"""Learning rates as a fraction of η_crit: resolved from the kernel, and η_crit is where GD on
the linearized model stops converging."""

from __future__ import annotations

import numpy as np
import pytest

from ntkpaper.pipeline import config
from ntkpaper.statistics import rates


def _kernel(n: int = 12, seed: int = 0) -> np.ndarray:
    a = np.random.default_rng(seed).standard_normal((n, n))
    return a @ a.T + 0.1 * np.eye(n)


def test_relative_rate_is_the_fraction_of_two_m_over_lambda_max():
    k = _kernel()
    top = np.linalg.eigvalsh(k)[-1]
    half = rates.resolve({"eta_crit": 0.5}, k, m=12)
    assert half["eta_crit"] == pytest.approx(2 * 12 / top)
    assert half["lr"] == pytest.approx(0.5 * half["eta_crit"])
    absolute = rates.resolve(3.0, k, m=12)
    assert absolute["lr"] == 3.0 and absolute["eta_crit"] == half["eta_crit"]
    assert rates.numbers(**absolute)["eta_over_eta_crit"] == pytest.approx(3.0 / half["eta_crit"])


@pytest.mark.parametrize(("fraction", "converges"), [(0.95, True), (1.05, False)])
def test_gd_on_the_linearized_model_converges_exactly_below_eta_crit(fraction, converges):
    """r ← (I − ηΘ/m) r, stepped: the residual shrinks below η_crit and grows above it."""
    k, m = _kernel(), 12
    lr = rates.resolve({"eta_crit": fraction}, k, m=m)["lr"]
    r = np.ones(12)
    for _ in range(2000):
        r = r - lr / m * (k @ r)
    assert (np.linalg.norm(r) < 1e-3) == converges


def _e3_config(lr) -> dict:
    return {
        "seed": 0,
        "datasets": {"circle": {"source": "circle", "n_train": 8}},
        "experiments": {"kernel_convergence": {"c": {
            "model": {}, "widths": [16], "seeds": 2, "lr": lr, "steps": 5}}},
    }  # fmt: skip


def test_config_takes_a_number_or_a_fraction_of_eta_crit_and_refuses_the_rest():
    for lr in (1.0, {"eta_crit": 0.5}, {"eta_crit": 1.5}):
        config.validate(_e3_config(lr))
    for lr in ({"eta_crit": 2.5}, {"eta": 0.5}, -1.0, {}):
        with pytest.raises(
            config.ConfigError,
            match=r"lr(\.eta_crit)?': .*(a number, or {eta_crit|maximum|less than or equal"
            r"|eta_crit' is a required)",
        ):
            config.validate(_e3_config(lr))

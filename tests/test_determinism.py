"""Same seed, same numbers; adding a seed or a width changes no existing run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from ntkpaper.data import datasets
from ntkpaper.networks import finite, train
from ntkpaper.networks.models import make_apply
from ntkpaper.pipeline import keys

MODEL = {"depth": 3, "activation": "relu"}


@pytest.fixture(scope="module")
def digits():
    return datasets.prepare("digits", {"source": "digits", "n_train": 64, "n_test": 32},
                        key=keys.run_key(0, "data"))  # fmt: skip


def run(digits, *, width, seeds):
    """The studies' training path: one width's ensemble (finite.init_width), the network and
    its linearization trained by train.train, every record as numpy."""
    key = keys.run_key(0, "width_sweep", "x")
    x, y = digits["x_train"], digits["y_train"]
    spec, params0 = finite.init_width(MODEL, width=width, out_dim=y.shape[1], in_dim=x.shape[1],
                                      seeds=seeds, key=key)  # fmt: skip
    out = {}
    for prefix, linearize in (("net", False), ("lin", True)):
        record, _ = train.train(make_apply(spec), params0, x, y, digits["x_test"], digits["y_test"],
                                lr=5.0, steps=20, record_steps=train.log_spaced_steps(20, 4),
                                linearize=linearize)  # fmt: skip
        out.update({f"{prefix}_{k}": np.asarray(v) for k, v in record.as_dict().items()})
    return out


def test_same_seed_same_numbers(digits):
    a, b = run(digits, width=32, seeds=2), run(digits, width=32, seeds=2)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)


def test_adding_a_seed_leaves_existing_seeds_unchanged(digits):
    """Seeds are folded into the key one by one, so seed s's init never depends on how many
    there are. The ensemble is vmapped, and XLA may tile a batch of 3 differently from a
    batch of 2, so training can differ in the last float32 bits: tolerance 1e-5 relative."""
    two, three = run(digits, width=32, seeds=2), run(digits, width=32, seeds=3)
    for name in ("net_f_test", "lin_f_test", "net_param_dist", "net_train_loss"):
        np.testing.assert_allclose(three[name][:, :2], two[name], rtol=1e-5, atol=1e-7,
                                   err_msg=name)  # fmt: skip


def test_widths_have_independent_keys(digits):
    """A width's run depends on its own width only (it is its own job); different widths
    get different initializations, so nothing is accidentally shared between them."""
    assert not np.array_equal(keys.fold(keys.run_key(0), "init", 16),
                              keys.fold(keys.run_key(0), "init", 32))  # fmt: skip
    narrow, wide = run(digits, width=16, seeds=1), run(digits, width=32, seeds=1)
    assert narrow["net_f_test"].shape == wide["net_f_test"].shape
    assert not np.allclose(narrow["net_f_test"][0], wide["net_f_test"][0])  # outputs at init


def test_string_ids_fold_stably():
    """CRC32, not Python's per-process salted hash: the same name gives the same key in
    processes with different hash seeds."""
    code = (
        "from ntkpaper.pipeline import keys; "
        "print(keys.run_key(3, 'width_sweep', 'digits_relu').tolist())"
    )
    here = np.asarray(keys.run_key(3, "width_sweep", "digits_relu")).tolist()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=True)  # fmt: skip
        assert json.loads(out.stdout) == here
    assert int(np.asarray(keys.run_key(0, "a"))[1]) != int(np.asarray(keys.run_key(0, "b"))[1])

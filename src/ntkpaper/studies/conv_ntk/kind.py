"""The `conv_ntk` study kind, declared for the workflow, the memory check and the tests.

Snakemake reads it when it parses: it imports no JAX, numpy or matplotlib."""

from __future__ import annotations

from ntkpaper.pipeline.memory import Data, Job, Net

# compute.py tiles the analytic CNTK in blocks of this many images (pooling holds
# CNTK_BLOCK²·(H·W)² entries per tile); memory() sizes so
CNTK_BLOCK = 40

WORKFLOW = {"priority": 30}


def memory(spec, d: Data) -> Job:
    # the pooling CNTK holds CNTK_BLOCK²·(H·W)² covariances per tile
    h, w, c = spec["image_shape"]
    n_train, n_test = min(spec["n_train"], d.n_train), min(spec["n_test"], d.n_test)
    block = min(CNTK_BLOCK, n_train)
    cnn = spec["cnn"]
    channels = max(spec["channels"] + spec["train_channels"])
    # a conv layer's weights are filter² × channels² (stand-in: a Dense net of that width)
    net = Net(
        channels * cnn["filter_size"],
        cnn["conv_layers"] + 1,
        spec["seeds"],
        spec["n_kernel"] * h * w,
        c * cnn["filter_size"] ** 2,
        d.out_dim,
        spec["n_kernel"] * h * w,
    )
    # the trained ensemble: train_seeds CNNs, activations of C channels at every position of
    # the training and test images (held at a record)
    trained = Net(
        max(spec["train_channels"]),
        cnn["conv_layers"] + 1,
        spec["train_seeds"],
        (min(spec["train_n"], n_train) + n_test) * h * w,
        c * cnn["filter_size"] ** 2,
        d.out_dim,
    )
    return Job(
        (net, trained),
        kernel_entries=4 * block**2 * (h * w) ** 2 + 4 * n_train * (n_train + n_test),
    )


# A tiny instance (tests/test_studies.py runs it end to end in seconds; data set "tiny" is
# 48 training and 32 test digits there); the schema's defaults fill in the rest.
TINY = {
    "data": "tiny",
    "cnn": {"conv_layers": 1},
    "fc_model": {"depth": 3},
    "n_train": 8,
    "n_test": 8,
    "channels": [4, 8, 16],
    "seeds": 2,
    "n_kernel": 3,
    "train_channels": [2, 4, 8],
    "train_seeds": 2,
    "check_every": 2,
    "steps": 5,
}

"""Deterministic PRNG keys derived from the config's one root seed.

Every run folds its own identifiers (experiment kind, instance name, width, seed index)
into the root key, so adding a width or a seed to the config changes no other run.
"""

from __future__ import annotations

import zlib

import jax

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)


def fold(key: jax.Array, *ids: int | str) -> jax.Array:
    """Fold integers and strings (via a stable CRC32, not Python's salted hash) into key."""
    for item in ids:
        data = item if isinstance(item, int) else zlib.crc32(str(item).encode())
        key = jax.random.fold_in(key, data)
    return key


def run_key(seed: int, *ids: int | str) -> jax.Array:
    return fold(jax.random.PRNGKey(seed), *ids)

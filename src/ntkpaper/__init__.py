"""ntkpaper: a reproducible paper on the Neural Tangent Kernel.

Importing the package configures JAX (float64 available) and neural-tangents' shims once;
use ``from ntkpaper._compat import nt, stax`` rather than importing neural_tangents directly.
"""

from ntkpaper import _compat  # noqa: F401  (side effect: JAX config and shims)

__version__ = "0.1.0"

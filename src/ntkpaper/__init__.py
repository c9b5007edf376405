"""ntkpaper: a reproducible paper on the Neural Tangent Kernel.

Importing the package does nothing else: modules that use JAX import ``ntkpaper._compat``
(JAX's configuration and neural-tangents' shims, in one place); figure, report and config
modules never import JAX.
"""

__version__ = "0.1.0"

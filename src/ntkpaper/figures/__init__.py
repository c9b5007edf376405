"""One module per study kind: `plot_<figure>(data, path)` draws one figure from the data
file its analysis wrote, never recomputing anything. The only modules, with `plotting`, that
import matplotlib; they never import JAX."""

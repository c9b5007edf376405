"""One module per experiment kind: `analyze(...)` turns runs into numbers and figure data,
`plot_<figure>(data, path)` draws one figure from its data (never recomputing anything)."""

"""The data sets: generated, shipped in a package, or read from a local folder (datasets), and
the files behind them, validated from their headers and sizes (sources)."""

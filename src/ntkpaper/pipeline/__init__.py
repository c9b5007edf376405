"""What runs the workflow: the config and its validation (config), memory estimates
(memory), what the Snakefile derives from the code (workflow), typed run files (records),
atomic I/O and provenance (io), the scripts' entry point (cli), lock and BLAS safety (locks,
blas), and each run's PRNG key (keys). Only keys imports JAX, and only when called."""

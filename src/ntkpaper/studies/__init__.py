"""One folder per study kind, ``studies/<kind>/``:

* ``kind.py`` declares the kind, imports no JAX (Snakemake reads it when it parses):
  ``WORKFLOW`` (inputs, sharding, scheduling, cluster runtime), ``memory(spec, data)`` (its
  run jobs' peak memory), ``TINY`` (the tiny instance the tests run), and optionally
  ``POPULATION_KEYS`` and ``check_spec`` (spec checks beyond the schema);
* ``schema.yaml``: its spec, the one home of its defaults;
* ``compute.py``: ``Run`` (its run file's record), ``run`` and ``analyze``;
* ``figures.py``: one ``plot_<figure>(data, path)`` per figure (matplotlib, never JAX).

Every registry of kinds (the schema's, the memory check's, the workflow's rules, the tests')
is derived from the folders found here."""

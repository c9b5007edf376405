"""The finite networks: Flax MLPs and CNNs (models, cnn), their initialization (finite),
training by full-batch GD, SGD, momentum and Adam (train, full_batch_gd), their empirical NTK
(empirical) and the learning-rate bounds read from it (stability). Uses JAX."""

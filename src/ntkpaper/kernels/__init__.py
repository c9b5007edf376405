"""The infinite-width side: the analytic NNGP and NTK recursions (analytic), their Gram
matrices on a data set (gram), kernel predictions and GD dynamics (predict), spectra and
eigen-decompositions (spectral), learning-curve theory (learning_theory), and the
neural-tangents reference the recursions are tested against (nt_reference)."""

"""The `gp_prediction` study: kind.py declares it, compute.py runs and analyzes it, figures.py
draws its figures."""

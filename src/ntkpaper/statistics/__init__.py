"""Numbers from measurements: power-law fits with their intervals and the three-outcome
rate rule (fits), the critical learning rate 2m/λ_max (rates), and timings (timing)."""

"""What every figure shares: the style and atomic saving with its checks (plotting) and the
figure check itself (check). With the kinds' figures modules, the only code that imports
matplotlib; none of it imports JAX."""

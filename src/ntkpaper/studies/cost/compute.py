"""E11: what the NTK costs — kernels Ω(N²), the kernel solve O(N³), the empirical NTK by
implementation — measured side by side in one run (ratios, not only times).

Timings on a shared machine move between builds, so a claim about them is decided by an
interval that records that spread: every quantity is timed in ``rounds`` interleaved rounds
(all sizes, or all implementations, once per round, after one compiling call), and each
exponent or ratio is computed per round; its record is the median over rounds with the
rounds' range as its interval. Exponents are fitted over the ``fit_sizes`` largest sizes
only, where the leading term dominates (at small N fixed overheads flatten the curves).
The workflow runs a size that fits the paper's time budget; `make bench` runs the larger
suite in benchmarks/.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

import ntkpaper._compat  # noqa: F401  (JAX configuration before any use)
from ntkpaper.data import datasets
from ntkpaper.kernels import analytic as own
from ntkpaper.kernels import predict
from ntkpaper.networks.empirical import empirical_ntk, nt_empirical_ntk, ntk_flops
from ntkpaper.networks.models import init_params, model_spec, stax_network
from ntkpaper.pipeline import keys
from ntkpaper.pipeline.config import SOURCE_SIZES
from ntkpaper.pipeline.records import Interval, Record
from ntkpaper.statistics.fits import loglog_slope
from ntkpaper.statistics.timing import median_time, time_call
from ntkpaper.studies.cost.figure_data import Cost, EmpiricalTimes, Timing


def matmul_gflops(n: int = 2048, dtype=jnp.float32) -> float:
    a = jnp.ones((n, n), dtype)
    f = jax.jit(lambda a: a @ a)
    return 2 * n**3 / median_time(lambda: f(a)) / 1e9


# Within a round, a call shorter than MIN_SECONDS is repeated (up to MAX_CALLS calls, or until
# MIN_SECONDS have passed) and the round keeps the fastest: a millisecond timing is otherwise
# at the mercy of whatever else the machine runs at that moment.
MIN_SECONDS = 0.2
MAX_CALLS = 10


def timed_rounds(
    fns: Mapping[str, Callable[[], Any]], rounds: int, *, warm_up: bool = True
) -> dict[str, np.ndarray]:
    """Wall times (rounds,) of each fn: one compiling call each (``warm_up``), then `rounds`
    rounds that call every fn in turn, so that a disturbance of the machine spreads over them;
    a round's time is the fastest of its calls (see MIN_SECONDS)."""
    if warm_up:
        for fn in fns.values():
            time_call(fn)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            calls, spent, best = 0, 0.0, np.inf
            while calls == 0 or (spent < MIN_SECONDS and calls < MAX_CALLS):
                seconds = time_call(fn)[0]
                calls, spent, best = calls + 1, spent + seconds, min(best, seconds)
            times[name].append(best)
    return {name: np.array(t) for name, t in times.items()}


def round_range(values: np.ndarray) -> tuple[float, float]:
    """The range of per-round values, from five rounds on without the most extreme round at
    each end: one disturbed round (a page fault, a daemon waking) must not decide a claim.
    Seen with the cost study running alone: one of three rounds 4x off, the rest within 15%."""
    v = np.sort(np.asarray(values, np.float64))
    return (float(v[1]), float(v[-2])) if v.size >= 5 else (float(v[0]), float(v[-1]))


def round_exponent(ns: np.ndarray, times: np.ndarray, fit_sizes: int) -> dict[str, Any]:
    """Log-log slope of time against N over the `fit_sizes` largest N, per round (columns of
    times (sizes, rounds)): the median over rounds with their `round_range`."""
    keep = np.argsort(ns)[-fit_sizes:]
    slopes = np.array([loglog_slope(ns[keep], t[keep])[0] for t in times.T])
    lo, hi = round_range(slopes)
    return {
        "slope": float(np.median(slopes)),
        "lo": lo,
        "hi": hi,
        "n_rounds": len(slopes),
        "n_from": int(ns[keep].min()),
    }


def round_ratio(num: np.ndarray, den: np.ndarray) -> dict[str, Any]:
    """Per-round time ratio num/den: the median with its `round_range`."""
    ratios = np.asarray(num) / np.asarray(den)
    lo, hi = round_range(ratios)
    return {"ratio": float(np.median(ratios)), "lo": lo, "hi": hi, "n_rounds": len(ratios)}


@dataclass(frozen=True)
class Run(Record):
    """The whole instance (not sharded): every timing's rounds, in seconds (the analysis
    takes each one's least disturbed round)."""

    ns: np.ndarray  # (sizes,)
    kernel_ours: np.ndarray  # (sizes, rounds) analytic NTK, our recursion
    kernel_nt: np.ndarray  # (sizes, rounds) analytic NTK, neural-tangents
    solve: np.ndarray  # (sizes, rounds) the NTK Gaussian's mean at t = ∞
    widths: np.ndarray  # (widths,)
    n_empirical: int
    matmul_gflops: float
    # empirical NTK of a finite net: "ours", "nt3", "nt1" (NaN above max_width_jacobian),
    # (widths, rounds) seconds; "gflops": (widths, rounds) our achieved rate
    empirical: dict[str, np.ndarray]


def best(rounds: np.ndarray) -> np.ndarray:
    """Per size or width, the least disturbed round."""
    return rounds.min(axis=1)


def run(spec: Mapping[str, Any], data=None, *, key) -> Run:
    ns = np.array(spec["ns"])
    rounds = spec["rounds"]
    x_all = datasets.prepare(
        "digits",
        {"source": "digits", "n_train": SOURCE_SIZES["digits"]},
        key=keys.fold(key, "digits"),
    )["x_train"]
    # Beyond the 1797 digits, tile them with a small perturbation: repeated inputs would make
    # the kernel singular, and the solve would time a regularization search, not a solve.
    copies = int(np.ceil(ns.max() / len(x_all)))
    jitter = 0.01 * np.asarray(
        jax.random.normal(keys.fold(key, "tile"), (copies - 1, *x_all.shape)), np.float64
    )
    x_all = np.concatenate([x_all, *(x_all + j for j in jitter)])
    model = spec["model"]
    arch = model_spec(model, width=1, out_dim=1)
    kernel_fn = jax.jit(stax_network(arch)[2], static_argnames="get")
    fns: dict[str, Callable[[], Any]] = {}
    solves: dict[str, Callable[[], Any]] = {}
    for n in ns:
        x = jnp.asarray(x_all[:n])
        fns[f"kernel_nt/{n}"] = lambda x=x: kernel_fn(x, None, "ntk")
        fns[f"kernel_ours/{n}"] = lambda x=x: (
            own.kernels(
                x, depth=arch.depth, activation=arch.activation, W_std=arch.W_std, b_std=arch.b_std
            ).ntk
        )
        k = np.asarray(kernel_fn(x, None, ("ntk", "nngp")).ntk)
        kern = {"ntk_train_train": k, "ntk_test_train": k[:10]}
        y = np.ones((n, 1))
        solves[f"solve/{n}"] = lambda kern=kern, y=y: predict.gp_moments(
            kern, y, np.array([np.inf]), lr=1.0, compute_cov=False
        )["mean"]
    times = timed_rounds(fns, rounds)
    times |= timed_rounds(solves, rounds, warm_up=False)  # numpy: nothing to compile
    analytic = {
        name: np.stack([times[f"{name}/{n}"] for n in ns])  # (sizes, rounds)
        for name in ("kernel_ours", "kernel_nt", "solve")
    }
    # Empirical NTK of a finite net: ours (layerwise) against neural-tangents.
    widths = np.array(spec["widths"])
    n_emp = spec["n_empirical"]
    x = jnp.asarray(x_all[:n_emp], jnp.float32)
    emp: dict[str, list] = {"ours": [], "nt3": [], "nt1": [], "gflops": []}
    for width in widths:
        mspec = model_spec(model, width=int(width), out_dim=1)
        params = init_params(mspec, key=keys.fold(key, "params", int(width)), in_dim=x.shape[1])
        impl = {
            "ours": lambda m=mspec, p=params: empirical_ntk(m, p, x),
            "nt3": lambda m=mspec, p=params: nt_empirical_ntk(m, p, x, None, 3),
        }
        if width <= spec["max_width_jacobian"]:
            impl["nt1"] = lambda m=mspec, p=params: nt_empirical_ntk(m, p, x, None, 1)
        t = timed_rounds(impl, rounds)
        for name in ("ours", "nt3", "nt1"):
            emp[name].append(t.get(name, np.full(rounds, np.nan)))
        emp["gflops"].append(ntk_flops(mspec, x.shape[1], n_emp)["total"] / t["ours"] / 1e9)
    return Run(
        ns=ns,
        **analytic,
        widths=widths,
        n_empirical=n_emp,
        matmul_gflops=matmul_gflops(),
        empirical={k: np.array(v) for k, v in emp.items()},
    )


def analyze(
    runs: Sequence[Run], *, spec: Mapping[str, Any]
) -> tuple[dict[str, Any], dict[str, Any]]:
    (run,) = runs  # one run file: this kind is not sharded
    ns, widths = run.ns, run.widths
    fit = min(spec["fit_sizes"], len(ns))
    emp = {k: best(v) for k, v in run.empirical.items() if k != "gflops"}
    gflops = run.empirical["gflops"].max(axis=1)  # the least disturbed round
    empirical = {}
    for i, w in enumerate(widths):
        ours, nt3, nt1 = (run.empirical[k][i] for k in ("ours", "nt3", "nt1"))
        empirical[f"w{int(w)}"] = {
            "ours_s": float(emp["ours"][i]),
            "nt3_s": float(emp["nt3"][i]),
            "nt1_s": float(emp["nt1"][i]),
            "ratio_nt3": round_ratio(ours, nt3),
            "ratio_nt1": round_ratio(ours, nt1),
            "gflops": float(gflops[i]),
            "matmul_fraction": float(gflops[i] / run.matmul_gflops),
        }
    numbers = {
        "ns": ns.tolist(),
        "n_max": int(ns.max()),
        "rounds": int(run.solve.shape[1]),
        "fit_sizes": fit,
        "fit_from": int(np.sort(ns)[-fit]),
        "exponent_kernel_ours": round_exponent(ns, run.kernel_ours, fit),
        "exponent_kernel_nt": round_exponent(ns, run.kernel_nt, fit),
        "exponent_solve": round_exponent(ns, run.solve, fit),
        # Over every size, for comparison: what the fit gives when overheads are included.
        "exponent_solve_all_sizes": loglog_slope(ns, best(run.solve))[0],
        "kernel_ratio_largest_n": round_ratio(run.kernel_ours[-1], run.kernel_nt[-1]),
        "kernel_s_largest_n": float(best(run.kernel_ours)[-1]),
        "solve_s_largest_n": float(best(run.solve)[-1]),
        "n_empirical": run.n_empirical,
        "matmul_gflops": run.matmul_gflops,
        "empirical": empirical,
        "widths": widths.tolist(),
        "width_widest": int(widths.max()),
    }
    numbers["empirical_widest"] = numbers["empirical"][f"w{int(widths.max())}"]
    return numbers, {"cost": _figure(run, numbers, emp)}


def _figure(run: Run, numbers: Mapping[str, Any], emp: Mapping[str, np.ndarray]) -> Cost:
    """The figure's data: each timing's least disturbed round, and the legend's exponents as
    the numbers the text quotes (median over rounds)."""
    timing = {
        k: Timing(seconds=best(getattr(run, k)), exponent=Interval.of(numbers[f"exponent_{k}"]))
        for k in ("kernel_ours", "kernel_nt", "solve")
    }
    return Cost(
        ns=run.ns,
        kernel_ours=timing["kernel_ours"],
        kernel_nt=timing["kernel_nt"],
        solve=timing["solve"],
        widths=run.widths,
        empirical=EmpiricalTimes(ours=emp["ours"], nt3=emp["nt3"], nt1=emp["nt1"]),
    )

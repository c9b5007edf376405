"""Every study kind on a tiny instance, in seconds: run → analyze → every figure, the way
the workflow chains them (through .npz and JSON round trips), and every claim's quantity
present in the numbers. The end-to-end quick build then checks only the wiring.

E7 and E8 (eigendecay, early_stopping) have their own tests in test_studies_spectral.py;
here they only join the claims check."""

from __future__ import annotations

import dataclasses
import importlib
import math
import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import yaml

from ntkpaper.data import datasets
from ntkpaper.figures import draw
from ntkpaper.kernels import gram
from ntkpaper.networks import empirical
from ntkpaper.networks.models import MLPSpec, init_ensemble, make_apply, model_spec
from ntkpaper.paper import claims
from ntkpaper.pipeline import config, io, keys, workflow
from ntkpaper.statistics import fits, rates
from ntkpaper.studies.lr_limit import compute as lr_limit
from ntkpaper.studies.width_sweep import compute as width_sweep

from .conftest import ROOT, through_figure_file, through_run_file

MODEL = {"depth": 3, "activation": "relu", "parameterization": "ntk", "W_std": 1.0, "b_std": 0.1}
DIGITS = {"source": "digits", "n_train": 48, "n_test": 32}

# Each kind's tiny instance (TINY of its kind.py); the schema's defaults fill in the rest.
TINY = {
    kind: workflow.declaration(kind).TINY
    for kind in workflow.study_kinds()
    if hasattr(workflow.declaration(kind), "TINY")
}
SCHEMA = config.load_schema()
CLAIMS = yaml.safe_load((ROOT / "experiments/claims.yaml").read_text())


def instance(kind: str) -> dict:
    """A tiny instance with the schema's defaults applied, as the workflow sees it."""
    return config.with_defaults(TINY[kind], SCHEMA["$defs"][kind], SCHEMA)


def test_every_kind_has_a_tiny_instance_and_a_quick_build_entry():
    """A new kind is never silently skipped: the end-to-end test of every kind below runs
    over TINY, and CI's quick build over experiments/quick.yaml (without an entry there, CI
    would run the kind at full size)."""
    kinds = set(workflow.study_kinds())
    # kinds with an end-to-end test of their own, test_<kind>_end_to_end
    spectral = (ROOT / "tests/test_studies_spectral.py").read_text()
    own = set(re.findall(r"^def test_(\w+)_end_to_end\(", spectral, re.M))
    assert set(TINY) | own == kinds, f"no tiny instance for {kinds - set(TINY) - own}"
    full = yaml.safe_load((ROOT / "experiments/config.yaml").read_text())["experiments"]
    quick = yaml.safe_load((ROOT / "experiments/quick.yaml").read_text())["experiments"]
    for kind, instances in full.items():
        for name in instances:
            assert name in quick.get(kind, {}), f"quick.yaml has no entry for {kind}.{name}"


@pytest.fixture(scope="module")
def tiny():
    d = datasets.prepare("tiny", DIGITS, key=keys.run_key(0, "data", "tiny"))
    k = gram.analytic_kernels(model_spec(MODEL, width=1, out_dim=1), d["x_train"], d["x_test"])
    return {"data": d, "kernels": k}


def _run_round_trip(module, run, path):
    assert isinstance(run, module.Run), "run returns the kind's Run record"
    return through_run_file(run, path)


_NUMBERS: dict[str, dict] = {}  # each kind runs once per session; later tests reuse it


def run_kind(kind: str, tiny, tmp_path):
    """run (one job per shard) → analyze → every figure, as the workflow does."""
    if kind in _NUMBERS:
        return _NUMBERS[kind]
    spec, study = instance(kind), workflow.study_kind(kind)
    module = importlib.import_module(f"ntkpaper.studies.{kind}.compute")

    def inputs(stage):
        names = getattr(study, f"{stage}_inputs")
        return {n: tiny[n] for n in names if n != "data" or "data" in spec}

    runs = [
        _run_round_trip(
            module,
            module.run(study.shard_spec(spec, shard), key=keys.run_key(0, kind), **inputs("run")),
            tmp_path / f"{shard}.npz",
        )
        for shard in study.shards(spec)
    ]
    numbers, fig_data = module.analyze(runs, spec=spec, **inputs("analyze"))
    io.write_json(tmp_path / "numbers.json", numbers)
    numbers = io.read_json(tmp_path / "numbers.json")
    assert set(fig_data) == set(study.figures), "analyze writes the data of every figure"
    figures = importlib.import_module(f"ntkpaper.studies.{kind}.figures") if fig_data else None
    for name, record in fig_data.items():
        plot = getattr(figures, f"plot_{name}")
        plot(through_figure_file(record, plot, tmp_path / f"{name}.npz"), tmp_path / f"{name}.pdf")
        assert (tmp_path / f"{name}.pdf").stat().st_size > 1000
        problems = io.read_json(tmp_path / f"{name}.check.json")["problems"]
        assert problems == [], f"{kind}/{name}:\n  " + "\n  ".join(problems)
    _NUMBERS[kind] = numbers
    return numbers


@pytest.mark.parametrize(
    "kind", [k for k in workflow.study_kinds() if workflow.study_kind(k).figures]
)
def test_every_figure_is_drawn_from_a_record_of_its_kinds_figure_data(kind):
    """The plot job reads each data file as the record its plot function annotates; that
    record lives in the kind's numpy-only figure_data.py, which analyze writes too."""
    figures = importlib.import_module(f"ntkpaper.studies.{kind}.figures")
    for name in workflow.study_kind(kind).figures:
        cls = draw.data_class(getattr(figures, f"plot_{name}"))
        assert cls.__module__ == f"ntkpaper.studies.{kind}.figure_data", (name, cls)


def test_a_plot_function_without_its_record_is_refused_by_name():
    def plot_untyped(data, path):
        pass

    with pytest.raises(TypeError, match=r"plot_untyped: annotate `data` with the figure's record"):
        draw.data_class(plot_untyped)


@pytest.mark.parametrize("kind", sorted(TINY))
def test_kind_runs_analyzes_and_plots(kind, tiny, tmp_path):
    numbers = run_kind(kind, tiny, tmp_path)
    for claim in CLAIMS:
        if claim["kind"] == kind and not claim.get("only_where_measured"):
            found = claims.lookup(numbers, claim["quantity"]) is not claims.MISSING
            assert found, f"claim {claim['id']}: no {claim['quantity']}"
    # Every claim can be evaluated on these numbers (a missing quantity would raise).
    results = claims.evaluate_claims(
        [c for c in CLAIMS if c["kind"] == kind], {f"{kind}.tiny": numbers}
    )
    assert {r["claim"] for r in results} >= {
        c["id"] for c in CLAIMS if c["kind"] == kind and not c.get("only_where_measured")
    }


def test_width_sweep_numbers_on_a_tiny_run(tiny, tmp_path):
    numbers = run_kind("width_sweep", tiny, tmp_path)
    assert numbers["widths"] == [8, 16, 32]
    for name in ("slope_rel_input", "slope_rel_hidden", "slope_rel_output", "slope_f_minus_g"):
        s = numbers[name]
        assert math.isfinite(s["slope"]) and s["lo"] <= s["hi"], name
        assert s["n_seeds"] == 3 and s["widths"] == [8, 16, 32], name
    assert 0 <= numbers["net_accuracy_widest"] <= 1
    assert 0 <= numbers["converged_fraction"] <= 1
    # the NTK Gaussian of neural-tangents and ours agree: to rounding on the same kernels,
    # end to end to neural-tangents' diagonal error (E4) times the condition number
    assert numbers["nt_agreement_predict"] < 1e-12
    assert numbers["nt_agreement"] < 1e-6
    for name in ("standard", "centred", "ensemble"):
        gaps = numbers[f"gap_{name}"]
        assert len(gaps) == 3 and all(g["lo"] <= g["hi"] for g in gaps), name
        rel = numbers[f"rel_gap_{name}_widest"]
        assert rel["lo"] <= rel["mean"] <= rel["hi"] and len(rel["cdist"]) == len(fits.CDIST_LEVELS)


def test_layer_type_change_groups_input_hidden_output():
    """E1's grouping: Dense_0 is the input layer, Dense_{L-1} the output layer, the rest
    hidden; relative change is the group's change over the group's initial norm."""
    dist = np.array([[[3.0, 1.0, 2.0, 4.0]]])  # (records, seeds, layers): L = 4
    norm0 = np.array([[[6.0, 2.0, 2.0, 8.0]]])
    net = width_sweep.Training(
        steps=np.array([10]),
        train_loss=np.ones((1, 1)),
        test_loss=np.ones((1, 1)),
        param_dist=np.array([[np.sqrt(30.0)]]),
        param_rel_dist=np.array([[np.sqrt(30.0 / 108.0)]]),
        layer_dist=dist,
        layer_rel_dist=dist / norm0,
        diverged=np.array([False]),
        f_test_final=np.zeros((1, 2, 1)),
    )
    out = width_sweep.layer_type_change(net)
    np.testing.assert_allclose(out["abs_input"], [[3.0]])
    np.testing.assert_allclose(out["abs_hidden"], [[np.sqrt(5.0)]])
    np.testing.assert_allclose(out["abs_output"], [[4.0]])
    np.testing.assert_allclose(out["rel_input"], [[0.5]])
    np.testing.assert_allclose(out["rel_hidden"], [[np.sqrt(5.0 / 8.0)]])
    np.testing.assert_allclose(out["rel_output"], [[0.5]])
    np.testing.assert_allclose(out["rel_all"], net.param_rel_dist)
    two_layers = width_sweep.layer_type_change(
        dataclasses.replace(net, layer_dist=dist[..., [0, 3]],
                            layer_rel_dist=(dist / norm0)[..., [0, 3]])
    )  # fmt: skip
    assert "abs_hidden" not in two_layers  # depth 2 has no hidden-to-hidden layer


def test_a_missing_quantity_is_an_error_naming_claim_and_key():
    claim = {"id": "X1", "kind": "k", "quantity": "nope.slope", "statement": "s", "source": "s",
             "expected": {"max": 0}}  # fmt: skip
    with pytest.raises(KeyError, match=r"claim X1: results/numbers/k/a.json has no .*nope.slope"):
        claims.evaluate_claims([claim], {"k.a": {"other": 1}})
    skipped = claims.evaluate_claims([{**claim, "only_where_measured": True}], {"k.a": {}})
    assert skipped == []


def test_wide_nets_are_initialized_in_chunks_with_the_ensemble_keys():
    """E3 at Jacot's width 10 000 trains one net at a time; chunk s..t holds exactly the
    parameters of seeds s..t of the whole ensemble, so chunking changes no number."""
    import jax

    from ntkpaper.networks.models import init_ensemble
    from ntkpaper.studies.kernel_convergence import compute as kc

    assert [len(c) for c in kc.seed_chunks(10, 10_000)] == [1] * 10
    assert [len(c) for c in kc.seed_chunks(10, 512)] == [10]
    spec, key = model_spec(MODEL, width=32, out_dim=1), keys.run_key(0, "x")
    whole = init_ensemble(spec, key=keys.fold(key, "init", 32), in_dim=2, n_seeds=5)
    part = kc._init_chunk(spec, key=key, width=32, seeds=range(2, 5))
    for a, b in zip(jax.tree.leaves(whole), jax.tree.leaves(part), strict=True):
        np.testing.assert_array_equal(np.asarray(a)[2:], np.asarray(b))


def test_e3_trains_on_gaussian_inputs_by_default_and_on_the_circle_on_request():
    """Jacot et al. §6.1 train Fig. 1's nets on "random N(0,1) inputs"; `inputs: circle`
    keeps the points of the circle."""
    from ntkpaper.studies.kernel_convergence import compute as kc

    spec, key = instance("kernel_convergence"), keys.run_key(0, "x")
    assert spec["inputs"] == "gaussian"
    x = kc.training_inputs({**spec, "n_train": 4000}, key=key)
    assert x.shape == (4000, 2) and x.dtype == np.float64
    np.testing.assert_allclose(x.mean(0), 0, atol=0.05)
    np.testing.assert_allclose(np.cov(x.T), np.eye(2), atol=0.08)
    on_circle = kc.training_inputs({**spec, "inputs": "circle"}, key=key)
    np.testing.assert_allclose(np.linalg.norm(on_circle, axis=1), 1.0)


def test_e3_trains_the_first_train_seeds_and_measures_every_seed_at_init(tiny, tmp_path):
    """`train_seeds` trains the first initializations of a width; the rest are measured at
    t = 0 only (NaN after training), and the analysis skips them."""
    numbers = run_kind("kernel_convergence", tiny, tmp_path)
    assert numbers["train_seeds"] == [3, 2] and numbers["seeds"] == 3
    assert numbers["drift"][0]["n_seeds"] == 3 and numbers["drift"][1]["n_seeds"] == 2
    assert numbers["deviation"][1]["n_seeds"] == 3
    bad = {"seed": 0, "datasets": {"circle": {"source": "circle", "n_train": 8}},
           "experiments": {"kernel_convergence": {"c": {
        **TINY["kernel_convergence"], "train_seeds": [3]}}}}  # fmt: skip
    with pytest.raises(config.ConfigError, match="train_seeds"):
        config.validate(bad)


def test_nt_gaussian_and_ours_agree():
    """E5/E6's NTK Gaussian comes from neural-tangents; our spectral code on its kernels
    reproduces it to rounding, and our recursion + spectral code to nt's diagonal error."""
    from ntkpaper.kernels import nt_reference, predict

    x = datasets.circle(np.array([-0.75, -0.25, 0.25, 0.75]) * np.pi)
    y, xt = datasets.circle_target(x), datasets.circle(datasets.uniform_angles(16))
    spec, times = model_spec(MODEL, width=1, out_dim=1), np.array([30.0, np.inf])
    nt_gp = nt_reference.nt_gp_moments(spec, x, y, xt, times, lr=1.0)
    on_nt = predict.gp_moments(nt_reference.nt_kernels(spec, x, xt), y, times, lr=1.0)
    ours = predict.gp_moments(gram.analytic_kernels(spec, x, xt), y, times, lr=1.0)
    assert predict.gaussian_difference(on_nt, nt_gp) < 1e-12
    assert predict.gaussian_difference(ours, nt_gp) < 1e-7
    assert nt_gp["mean"].shape == (2, 16, 1) and nt_gp["cov"].shape == (2, 16, 16)


def test_gp_distance_subtracts_the_ensembles_sampling_noise():
    """E5's noise-corrected distances: the leave-one-net-out closed forms match a brute-force
    jackknife, and on ensembles with a known distance the estimate is unbiased where the plain
    distance is biased by the noise (about 1.5/S in D²)."""
    from ntkpaper.studies.gp_prediction import compute as gp

    rng = np.random.default_rng(0)
    mean, std = rng.normal(size=12), rng.uniform(0.5, 1.5, 12)
    f = rng.normal(size=(7, 12))
    loo = np.stack([np.delete(f, i, 0).std(0, ddof=1) for i in range(7)])
    s_jack = 7 * f.std(0, ddof=1) - 6 * loo.mean(0)
    v_std = 6 / 7 * np.sum((loo - loo.mean(0)) ** 2, 0)
    scale2 = np.mean(std**2)
    brute = [np.mean((f.mean(0) - mean) ** 2 - f.var(0, ddof=1) / 7) / scale2,
             np.mean((s_jack - std) ** 2 - v_std) / scale2]  # fmt: skip
    np.testing.assert_allclose(gp.corrected_squares(f, mean, std), brute, rtol=1e-10)
    # 2000 ensembles of 30 nets, mean shifted by 0.2 std, spread 10% wide: D² = 0.04 + 0.01
    f = mean + std * (0.2 + 1.1 * rng.standard_normal((2000, 30, 12)))
    estimate = gp.corrected_squares(f, mean, std).sum(-1)
    assert abs(estimate.mean() - 0.05) < 0.003
    plain = np.mean([np.sum(np.square(gp.distances(e, mean, std))) for e in f[:300]])
    assert plain - 0.05 > 0.03
    rec = gp.corrected_distances(f[0], mean, std, n_boot=500)
    for r in rec.values():
        assert r["lo"] <= r["value"] <= r["hi"] and len(r["cdist"]) == len(fits.CDIST_LEVELS)
    assert rec["total"]["value"] ** 2 == pytest.approx(
        np.sign(rec["mean"]["value"]) * rec["mean"]["value"] ** 2
        + np.sign(rec["std"]["value"]) * rec["std"]["value"] ** 2
    )


def test_gp_figure_margin_is_the_claims():
    from ntkpaper.studies.gp_prediction import compute as gp

    for claim in CLAIMS:
        if claim["kind"] == "gp_prediction" and claim["category"] == "science":
            assert claim["expected"] == {"max": gp.MARGIN}, claim["id"]


def test_ratio_grid_brackets_the_powers_of_two():
    r = lr_limit.ratio_grid(0.5, 16, 3)
    assert len(r) == 17 and r[0] <= 0.5 and r[-1] >= 16
    np.testing.assert_allclose(r[1:] / r[:-1], 2 ** (1 / 3))
    powers = 2.0 ** np.arange(-1, 5)
    assert np.min(np.abs(np.log2(r)[:, None] - np.log2(powers)[None]) * 3) == pytest.approx(0.5)


def test_outcome_bracket_and_phases_from_loss_curves():
    ratios = np.array([0.5, 1.5, 3.0, 6.0])
    # (ratios, steps + 1, seeds = 2): converged, converged, (seed 0 converges, seed 1 blows
    # up), diverged by ending above its start.
    loss = np.ones((4, 3, 2))
    loss[0, -1] = loss[1, -1] = 0.1
    loss[2, -1] = [0.1, np.nan]
    loss[3, -1] = 1.5
    conv, div = lr_limit.outcome(loss)
    assert conv.tolist() == [[True, True], [True, True], [True, False], [False, False]]
    assert div.tolist() == [[False, False], [False, False], [False, True], [True, True]]
    lower, upper = lr_limit.bracket(ratios, conv, div)
    assert lower.tolist() == [3.0, 1.5] and upper.tolist() == [6.0, 3.0]
    assert lr_limit.phases(ratios, conv, div)[:, 0].tolist() == [0, 1, 1, 2]
    record = lr_limit.bracket_interval(lower, upper)
    assert record["lo"] >= 1.5 and record["hi"] <= 6.0 and record["lo"] < record["value"]
    never = lr_limit.bracket_interval(np.array([3.0, 3.0]), np.array([6.0, np.nan]))
    assert np.isnan(never["lo"]) and np.isnan(never["hi"])


def test_gd_losses_of_the_linearized_model_follow_the_kernel_exactly():
    """The chunked loop (steps not a multiple of the chunk, blow-ups frozen) against the
    closed form r_t = (I − ηΘ/m)^t r_0 of GD on the linearized model."""
    spec = MLPSpec(width=24, depth=3, out_dim=2)
    params = init_ensemble(spec, key=keys.run_key(1), in_dim=4, n_seeds=2, dtype=jnp.float32)
    x = np.asarray(jax.random.normal(keys.run_key(2), (6, 4)))
    y = np.asarray(jax.random.normal(keys.run_key(3), (6, 2)))
    kernels = empirical.ensemble_full_ntk(spec, params, x)
    eta = np.array([0.5, 1.3]) * rates.critical_rate(kernels, y.size)  # converges, diverges
    steps = lr_limit.CHUNK + 7
    top = np.linalg.eigh(kernels)[1][:, :, -1]  # (seeds, n·K), example-major
    out = lr_limit.gd_losses(make_apply(spec), params, x, y, eta, steps, linearize=True,
                             directions=top)  # fmt: skip
    assert out["blew_up"].tolist() == [False, True]
    f0 = np.asarray(jax.vmap(lambda p: make_apply(spec)(p, x))(params), np.float64)
    r = (f0 - y).reshape(2, -1)
    expected, expected_top = [], []
    for _ in range(steps + 1):
        expected.append(0.5 * np.mean(r**2, axis=1))
        expected_top.append(np.einsum("si,si->s", top, r))
        r = r - (eta[:, None] / y.size) * np.einsum("sij,sj->si", kernels, r)
    expected, expected_top = np.array(expected), np.array(expected_top)
    np.testing.assert_allclose(out["loss"][:, 0], expected[:, 0], rtol=2e-3)
    blown = np.flatnonzero(np.isnan(out["loss"][:, 1]))
    assert blown.size and np.all(expected[blown[0] :, 1] > 1e5 * expected[0, 1])
    # the top mode: c_t = (1 − ηλ_max/m)^t c_0 on the linearized model (factors 0 and −1.6)
    factor = 1 - eta * np.linalg.eigvalsh(kernels)[:, -1] / y.size
    scale = np.abs(expected_top[0]).max()
    np.testing.assert_allclose(expected_top[:6], expected_top[0] * factor ** np.arange(6)[:, None],
                               rtol=1e-9, atol=1e-12 * scale)  # fmt: skip
    np.testing.assert_allclose(out["top"][:6], expected_top[:6], rtol=5e-3, atol=1e-4 * scale)
    growth = lr_limit.top_growth(out["top"][:, :, None])[..., 0]  # (seeds,)
    assert growth[0] < 1 < growth[1]  # it shrinks below η_crit and grows above


def test_top_growth_ignores_the_start_and_blown_up_steps():
    top = np.array([[2.0, 2.0], [1.0, -6.0], [0.5, np.nan]])  # (steps + 1, seeds)
    np.testing.assert_allclose(lr_limit.top_growth(top), [0.5, 3.0])


def test_lr_limit_numbers_on_a_tiny_run(tiny, tmp_path):
    numbers = run_kind("lr_limit", tiny, tmp_path)
    assert numbers["lazy_widths"] == [8, 16, 32] and numbers["lazy_n_widths"] == 3
    rate = numbers["lazy_rate"]
    assert rate["widths"] == [8, 16, 32] and len(rate["cdist"]) == len(fits.CDIST_LEVELS)
    assert len(numbers["lazy_kernel_change_by_width"]) == 3
    assert len(numbers["top_growth_by_ratio"]) == numbers["n_ratios"]
    for key in ("lazy_kernel_change", "catapult_final_sharpness", "catapult_top_growth"):
        record = numbers[key]
        assert record["mean"] is None or record["lo"] <= record["mean"] <= record["hi"], key


def test_cost_exponents_use_the_largest_sizes_and_record_the_spread_over_rounds():
    from ntkpaper.studies.cost import compute as cost

    ns = np.array([64, 128, 256, 512, 1024])
    # A fixed overhead dominates the small sizes; the rounds differ by a few per cent.
    times = (0.5 + 1e-8 * ns[:, None] ** 3) * np.array([1.0, 1.03, 0.98])
    fit = cost.round_exponent(ns, times, 3)
    assert fit["n_from"] == 256 and fit["n_rounds"] == 3
    assert fit["lo"] <= fit["slope"] <= fit["hi"] and 1.5 < fit["slope"] < 3.0
    everything = cost.round_exponent(ns, times, 5)
    assert everything["slope"] < fit["slope"]  # the overhead flattens a fit over all sizes
    ratio = cost.round_ratio(np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0]))
    assert (ratio["ratio"], ratio["lo"], ratio["hi"]) == (1.0, 0.5, 1.5)
    # From five rounds on, one disturbed round at either end does not set the range.
    five = cost.round_ratio(np.array([1.0, 2.0, 2.1, 2.2, 8.0]), np.full(5, 2.0))
    assert (five["ratio"], five["lo"], five["hi"]) == (1.05, 1.0, 1.1)
    calls = []
    out = cost.timed_rounds({"f": lambda: calls.append(1)}, 2)
    assert out["f"].shape == (2,) and len(calls) >= 3  # a warm-up, then fast calls repeated


@pytest.mark.parametrize("min_steps", [2, 3, 200])
def test_width_sweep_checkpoints_grow_and_end(min_steps):
    """Checked at min_steps·1.25^k (rounded, always moving on) and at the cap; the smallest
    min_steps the schema allows once looped forever (round(1.25 · 2) is 2)."""
    from ntkpaper.studies.width_sweep.compute import checkpoints

    cps = checkpoints(min_steps, 1000)
    assert cps[0] == min_steps and cps[-1] == 1000
    assert np.all(np.diff(cps) > 0)
    assert np.all(cps[1:-1] <= np.ceil(1.25 * cps[:-2]) + 1)


def test_conv_kernel_gd_is_gradient_descent_and_counts_the_steps_to_the_criterion():
    """E13's kernel predictor after T steps is T steps of full-batch GD on the kernel from
    f = 0, and steps_to_criterion is the first step at which its training loss is below the
    criterion."""
    from ntkpaper.studies.conv_ntk import compute as conv_ntk

    rng = np.random.default_rng(0)
    a = rng.normal(size=(9, 6))
    k = a @ a.T + 0.1 * np.eye(9)  # (train 6 + test 3) kernel
    k_train, k_test = k[:6, :6], k[6:, :6]
    y = rng.normal(size=(6, 2))
    m, lr = y.size, 0.9 * 2 * y.size / np.linalg.eigvalsh(k_train)[-1]
    f_train, f_test = np.zeros_like(y), np.zeros((3, 2))
    losses = [0.5 * np.mean(y**2)]
    for _ in range(40):
        residual = f_train - y
        f_train, f_test = f_train - lr / m * k_train @ residual, f_test - lr / m * k_test @ residual
        losses.append(0.5 * np.mean((f_train - y) ** 2))
    test, ratio = conv_ntk.kernel_gd(k_train, k_test, y, np.array([0, 40]), lr=lr)
    np.testing.assert_allclose(test[0], 0.0, atol=1e-12)
    np.testing.assert_allclose(test[1], f_test, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(ratio, [1.0, losses[40] / losses[0]], rtol=1e-9)
    criterion = losses[25] / losses[0] * 1.0000001  # met at step 25 (losses fall monotonically)
    first = conv_ntk.steps_to_criterion(k_train, y, lr=lr, ratio=criterion)
    assert losses[first] <= criterion * losses[0] < losses[first - 1]

"""The JAX route (``sampler="numpyro"`` and ``sampler="nutpie-jax"``) on the CPU at tiny size.

Each JAX sampler must give the same posterior as the default nutpie fit of the same panel
(``tiny_fit``) within Monte Carlo error, produce a tree with the same groups and variables, and
serve the fit's summary, effects, diagnostics and save/load unchanged. The starting points must
be those of the default sampler (credential-effect parameters at their data-derived values,
not jittered; the rest jittered per chain).
"""

from __future__ import annotations

import sys
import warnings

import numpy as np
import pytest
import xarray as xr
from arviz_stats import mcse

import bayescred as bc
from bayescred.data.simulate import SimulatedPanel
from bayescred.errors import SpecError
from bayescred.inference import jax_sampling
from bayescred.inference.sampling import effect_initial_values
from bayescred.model.build import build_model
from bayescred.model.make import make_design

pytest.importorskip("jax", reason="the JAX samplers need JAX: pip install 'bayescred[jax]'")
pytest.importorskip(
    "numpyro", reason="sampler='numpyro' needs NumPyro: pip install 'bayescred[jax]'"
)

JAX = ("numpyro", "nutpie-jax")
#: Population parameters compared (the period-effect sd is left out: NumPyro's diagonal mass
#: matrix mixes it too slowly at this size for its MCSE to be trusted).
POPULATION = ("mu_beta", "sigma_beta", "lambda", "sigma_log_lambda", "gamma", "sigma")


@pytest.fixture(scope="module", params=JAX)
def jax_fit(request: pytest.FixtureRequest, small_sim: SimulatedPanel) -> bc.CredentialFit:
    """The default spec on the ``tiny_fit`` panel with a JAX sampler, 2 chains x 300 draws."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", bc.ConvergenceWarning)
        warnings.simplefilter("ignore", UserWarning)
        return bc.CredentialModel(bc.load_spec("default")).fit(
            small_sim.frame,
            draws=300,
            tune=300,
            chains=2,
            random_seed=11,
            progressbar=False,
            sampler=request.param,
        )


def z_scores(a: xr.Dataset, b: xr.Dataset) -> dict[str, float]:
    """``|mean_a - mean_b| / sqrt(mcse_a^2 + mcse_b^2)`` per element of :data:`POPULATION`."""
    names = list(POPULATION)
    err_a = mcse(a[names], method="mean")
    err_b = mcse(b[names], method="mean")
    out = {}
    for name in names:
        diff = np.abs(a[name].mean(("chain", "draw")) - b[name].mean(("chain", "draw")))
        z = (diff / np.sqrt(err_a[name] ** 2 + err_b[name] ** 2)).values
        for i, value in enumerate(np.atleast_1d(z)):
            out[f"{name}[{i}]"] = float(value)
    return out


def test_same_posterior_as_nutpie(jax_fit: bc.CredentialFit, tiny_fit: bc.CredentialFit) -> None:
    z = z_scores(jax_fit.posterior, tiny_fit.posterior)
    assert max(z.values()) < 4.0, z


def test_comparison_detects_a_shift_of_one_sd(tiny_fit: bc.CredentialFit) -> None:
    """The criterion has power: the same draws moved by one posterior sd fail it."""
    post = tiny_fit.posterior
    shifted = post.assign(mu_beta=post["mu_beta"] + float(post["mu_beta"].std()))
    z = z_scores(shifted, post)
    assert z["mu_beta[0]"] > 4.0
    assert max(v for k, v in z.items() if k != "mu_beta[0]") == 0.0


def test_tree_has_the_groups_and_variables_of_a_nutpie_fit(
    jax_fit: bc.CredentialFit, tiny_fit: bc.CredentialFit
) -> None:
    tree, ref = jax_fit.tree, tiny_fit.tree
    assert set(tree.children) == set(ref.children)
    post, ref_post = jax_fit.posterior, tiny_fit.posterior
    assert set(post.data_vars) == set(ref_post.data_vars)
    for name in ref_post.data_vars:
        assert post[name].dims == ref_post[name].dims, name
        assert post[name].shape[2:] == ref_post[name].shape[2:], name
    assert dict(post.sizes)["chain"] == 2 and dict(post.sizes)["draw"] == 300
    for group in ("constant_data", "observed_data"):
        xr.testing.assert_identical(tree[group].to_dataset(), ref[group].to_dataset())
    stats = tree["sample_stats"].to_dataset()
    assert {"diverging", "energy"} <= set(stats.data_vars)
    assert tree.attrs["sampler"] in JAX
    assert tree.attrs["sampler_device"] == jax_sampling.jax_device()
    assert set(tree.attrs) - {"sampler_device"} == set(ref.attrs)


def test_summary_effects_and_io_work_on_a_jax_fit(
    jax_fit: bc.CredentialFit, tiny_fit: bc.CredentialFit, tmp_path: object
) -> None:
    table = jax_fit.summary()
    ref = tiny_fit.summary()
    assert list(table["parameter"]) == list(ref["parameter"])
    assert np.isfinite(table[["mean", "sd", "ess_bulk", "r_hat"]].to_numpy()).all()
    avg = jax_fit.average_effect(by="group").table
    ref_avg = tiny_fit.average_effect(by="group").table
    assert avg.shape == ref_avg.shape and list(avg.columns) == list(ref_avg.columns)
    assert np.isfinite(avg["mean"]).all()
    effect = jax_fit.effect("A", 1, 10.0)
    assert np.isfinite(effect.table["mean"]).all()
    assert set(jax_fit.diagnostics().index) == set(tiny_fit.diagnostics().index)
    path = jax_fit.save(tmp_path / "fit.nc")  # type: ignore[operator]
    loaded = bc.load(path)
    xr.testing.assert_allclose(loaded.posterior, jax_fit.posterior)


def test_chains_start_where_the_default_sampler_starts(small_sim: SimulatedPanel) -> None:
    design = make_design(bc.load_spec("default"), small_sim.frame)
    model = build_model(design)
    init = effect_initial_values(model, design)
    starts = jax_sampling.chain_starts(model, init, chains=3, random_seed=5)
    again = jax_sampling.chain_starts(model, init, chains=3, random_seed=5)
    assert len(starts) == 3
    free = [rv.name for rv in model.free_RVs]
    for point, same in zip(starts, again, strict=True):
        assert list(point) == free
        for name in free:
            np.testing.assert_array_equal(point[name], same[name])  # seeded
        for name, value in init.items():  # given values: exact, not jittered
            np.testing.assert_array_equal(point[name], np.asarray(value, dtype=float))
    jittered = [name for name in free if name not in init]
    assert jittered
    for name in jittered:  # the others differ between chains
        assert not np.array_equal(starts[0][name], starts[1][name]), name


def test_chain_method(monkeypatch: pytest.MonkeyPatch) -> None:
    import jax

    monkeypatch.setattr(jax, "local_device_count", lambda: 1)
    monkeypatch.setattr(jax, "default_backend", lambda: "cpu")
    assert jax_sampling.chain_method(4) == "sequential"
    monkeypatch.setattr(jax, "default_backend", lambda: "gpu")
    assert jax_sampling.chain_method(4) == "vectorized"
    assert jax_sampling.chain_method(1) == "sequential"
    monkeypatch.setattr(jax, "local_device_count", lambda: 4)
    assert jax_sampling.chain_method(4) == "parallel"


@pytest.mark.parametrize("sampler", JAX)
def test_missing_jax_is_a_spec_error(sampler: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jax", None)
    with pytest.raises(SpecError, match=r"pip install 'bayescred\[jax\]'"):
        jax_sampling.require_jax(sampler)


def test_spec_and_command_line_accept_the_jax_samplers() -> None:
    from bayescred.cli.main import build_parser

    for sampler in JAX:
        spec = bc.ModelSpec.from_dict({"sampling": {"sampler": sampler}})
        assert spec.sampling.sampler == sampler
        args = build_parser().parse_args(["fit", "x.csv", "--sampler", sampler])
        assert args.sampler == sampler
    with pytest.raises(SpecError, match="nutpie-jax"):
        bc.ModelSpec.from_dict({"sampling": {"sampler": "blackjax"}})

"""Model specifications: TOML round trips and errors that name the key and the allowed values."""

from __future__ import annotations

from pathlib import Path

import pytest

import bayescred as bc
from bayescred.spec import PRIOR_NAMES, models_dir

BUNDLED = ["default", "paper_quadratic", "linear_fe", "project_counts"]


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_specs_round_trip(name: str, tmp_path: Path) -> None:
    spec = bc.load_spec(name)
    assert spec.name == name
    assert bc.ModelSpec.from_toml_string(spec.to_toml_string()) == spec
    out = tmp_path / "spec.toml"
    spec.to_toml(out)
    assert bc.ModelSpec.from_toml(out) == spec
    assert bc.ModelSpec.from_json(spec.to_json()) == spec


def test_bundled_specs_match_what_they_promise() -> None:
    default = bc.load_spec("default")
    assert (default.effect.curve, default.effect.modifier, default.worker_effects) == (
        "geometric",
        "log_quadratic",
        "within",
    )
    paper = bc.load_spec("paper_quadratic")
    assert paper.effect.curve == "quadratic" and paper.period_effects
    assert paper.worker_effects == "within"
    fe = bc.load_spec("linear_fe")
    assert (fe.effect.curve, fe.effect.modifier, fe.worker_effects, fe.period_effects) == (
        "linear",
        "none",
        "within",
        True,
    )
    counts = bc.load_spec("project_counts")
    assert (counts.outcome.column, counts.outcome.likelihood, counts.worker_effects) == (
        "n_projects",
        "negative_binomial",
        "correlated",
    )
    assert (counts.effect.curve, counts.effect.modifier, counts.period_effects) == (
        "geometric",
        "none",
        True,
    )
    assert {p.stem for p in models_dir().glob("*.toml")} >= set(BUNDLED)


def test_default_spec_equals_the_default_file() -> None:
    assert bc.load_spec("default").effect == bc.ModelSpec().effect


@pytest.mark.parametrize(
    ("toml", "needles"),
    [
        ('[effect]\ncurve = "geometrc"', ["effect.curve", "'geometrc'", "'geometric'", "'step'"]),
        (
            '[effect]\ncurv = "linear"',
            ["unknown key 'curv'", "[effect]", "curve, modifier, pooling"],
        ),
        ("foo = 1", ["unknown key 'foo'", "worker_effects"]),
        (
            '[effect.pooling]\nlamda = "none"',
            ["'lamda'", "[effect.pooling]", "beta, lambda, gamma"],
        ),
        ('worker_effects = "fixed"', ["worker_effects", "'within'", "'correlated'"]),
        ('[outcome]\nlikelihood = "gaussian"', ["outcome.likelihood", "'normal'", "'poisson'"]),
        (
            '[priors.mu_bta]\ndist = "normal"\nmu = 0\nsigma = 1',
            ["'mu_bta'", "mu_beta", "sigma_alpha"],
        ),
        (
            '[priors.mu_beta]\ndist = "normal"\nmu = 0',
            ["priors.mu_beta", "mu, sigma", "missing sigma"],
        ),
        (
            '[priors.sigma]\ndist = "half_normal"\nsigma = 1\nmu = 0',
            ["priors.sigma", "not allowed: mu"],
        ),
        ('[priors.sigma]\ndist = "halfnormal"\nsigma = 1', ["priors.sigma.dist", "'half_normal'"]),
        ("[sampling]\ndraws = 0", ["sampling.draws", "greater than or equal to 1"]),
        (
            'worker_effects = "within"\n[outcome]\nlikelihood = "poisson"',
            ["within", "normal likelihood", "correlated"],
        ),
        ("covariates = ['x', 'x']", ["covariates", "repeat"]),
        ("this is not toml", ["not valid TOML"]),
    ],
)
def test_bad_specs_raise_spec_error_naming_the_key(toml: str, needles: list[str]) -> None:
    with pytest.raises(bc.SpecError) as err:
        bc.ModelSpec.from_toml_string(toml)
    for needle in needles:
        assert needle in str(err.value)


def test_missing_file_and_unknown_bundled_name() -> None:
    with pytest.raises(bc.SpecError, match="does not exist"):
        bc.ModelSpec.from_toml("no/such/spec.toml")
    with pytest.raises(bc.SpecError, match="bundled: .*default"):
        bc.load_spec("nonexistent_model")


def test_every_prior_is_overridable() -> None:
    priors = {name: {"dist": "normal", "mu": 0.0, "sigma": 2.0} for name in PRIOR_NAMES}
    spec = bc.ModelSpec.from_dict({"priors": priors})
    assert set(spec.priors) == set(PRIOR_NAMES)
    assert spec.priors["sigma_tau"].parameters() == {"mu": 0.0, "sigma": 2.0}


def test_with_changes_merges_nested_sections_and_validates() -> None:
    spec = bc.ModelSpec().with_changes(effect={"curve": "linear"})
    assert spec.effect.curve == "linear" and spec.effect.modifier == "log_quadratic"
    with pytest.raises(bc.SpecError):
        bc.ModelSpec().with_changes(worker_effects="fixed")


def test_spec_hash_changes_with_content() -> None:
    a = bc.ModelSpec()
    assert a.spec_hash() == bc.ModelSpec().spec_hash()
    assert a.spec_hash() != a.with_changes(period_effects=False).spec_hash()

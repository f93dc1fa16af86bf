# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Event studies: when does a credential pay?
#
# The default model says how much a credential is worth, on average over the periods after it
# is first held. An **event study** asks about timing: does the effect appear in the period the
# credential is first shown, build up as employers notice it, or fade? And were workers already
# on a different path *before* they earned it, which would make the comparison suspect (a
# pre-trend, or the "Ashenfelter dip": workers take tests after a bad spell)?
#
# With `[dynamics]` in the spec, each credential's contribution becomes a profile over *event
# time* `e`, the periods since the credential was first held: leads `f(-L) .. f(-2)` before it,
# the reference `f(-1) = 0`, and lags `f(0) .. f(K-1)` after it, the endpoints binned (every
# period from `K-1` on shares `f(K-1)`). A worker may earn many credentials: each one adds its
# own profile, scaled by the credential curve's step, so the returns still fade with the count
# and still depend on the track record. The maths is in `docs/design.md`, section 3.8.
#
# This notebook:
#
# 1. fits the default model with `[dynamics] leads = 3, lags = 6` on the embedded panel and its
#    credential events;
# 2. reads the event study: figure, table, sentence, by group;
# 3. tests for pre-trends, with the breakdown slope of a linear pre-trend;
# 4. recovers a known, built-up-then-fading profile from a simulated panel;
# 5. lets the profile differ between adoption cohorts (`cohort_width`).
#
# **The data are simulated.** The embedded panel was drawn with a *static* effect (the same
# from the period a credential is first held on, and no leads), so its event study should be
# flat after the event and zero before it. Section 4 uses a panel with real dynamics.

# %% [markdown]
# ## Run size
#
# The first cell reads the run size from environment variables. Leave them unset for a real
# analysis (4 chains of 1,000 draws, 3,000 workers per panel: the three fits take about eight
# minutes on two cores); the automated tests and the documentation build set them much smaller.

# %%
import os

# Run size. The defaults are what a real analysis uses; the test suite sets the
# BAYESCRED_NB_* environment variables to tiny values to execute the notebook quickly
# (the numbers are then noisy and the convergence checks fail, as they should).
DRAWS = int(os.environ.get("BAYESCRED_NB_DRAWS", 1000))  # posterior draws per chain
TUNE = int(os.environ.get("BAYESCRED_NB_TUNE", 1000))  # warm-up iterations per chain
CHAINS = int(os.environ.get("BAYESCRED_NB_CHAINS", 4))  # independent Markov chains
N_WORKERS = int(os.environ.get("BAYESCRED_NB_WORKERS", 3000))  # workers in each panel
SEED = 1
SMALL_RUN = DRAWS < 500 or N_WORKERS < 1000
if SMALL_RUN:
    print(
        f"Small run: {N_WORKERS} workers, {CHAINS} chains x {DRAWS} draws; "
        "numbers below are only illustrative."
    )

# %% [markdown]
# ## 1. Credential events as data
#
# `platform_panel(events=True)` returns the panel and its **credential events**: one row per
# credential earned, with the worker and the **first period the credential is held at the
# start of** (a credential earned during period 3 is first held at the start of period 4). A
# missing period means "held before the panel, date unknown"; such credentials count as long
# held (the last, binned lag). The count held at the start of period `t` is the number of the
# worker's events with a period `<= t`, plus those with a missing period, and it must agree
# with the `credentials` column wherever the panel has one (`bc.validate` checks it).
#
# Without `events=` the model derives the events from the `credentials` column (an increase
# is an event at the first observed period it shows in). That is what the embedded events
# are, so here they change nothing; with real data, events with exact dates are better where a
# worker's rows skip periods.

# %%
# %matplotlib inline
import numpy as np
import pandas as pd

import bayescred as bc
from bayescred.datasets import platform_panel

frame, events = platform_panel(events=True)  # SIMULATED data, not real platform records
keep = frame["worker_id"].drop_duplicates().iloc[:N_WORKERS]
frame = frame[frame["worker_id"].isin(keep)].reset_index(drop=True)
events = events[events["worker_id"].isin(keep)].reset_index(drop=True)
print(f"{len(frame):,} worker-periods of {frame['worker_id'].nunique():,} workers")
print(
    f"{len(events):,} credential events, {events['period'].isna().mean():.0%} of them "
    "held before the panel (period missing)"
)
events.head()

# %%
panel = bc.validate(frame, outcome="log_project_value", missing_outcome="exclude", events=events)
panel.describe()

# %% [markdown]
# ## 2. The event-time model
#
# The spec is the default one with a `[dynamics]` section; in a TOML file:
#
# ```toml
# [dynamics]
# leads = 3          # f(-3) (binned: every period 3 or more before) and f(-2); f(-1) = 0
# lags = 6           # f(0) .. f(5) (binned: every period 5 or more after)
# cohort_width = 0   # no adoption cohorts (section 5)
#
# [dynamics.pooling]
# profile = "partial"   # the lag steps and leads by group, around the population's
# ```
#
# The lags are written as `beta[g] * h[g, e]`, with `h` a random walk over the lags whose mean
# is 1: `beta` keeps its meaning (the first credential's effect, here averaged over the lag
# window) and `lags = 1` is the static model. The leads are in the outcome's units, so a
# pre-trend can show even where the effect itself is near zero.

# %%
spec = bc.load_spec("default").with_changes(dynamics={"leads": 3, "lags": 6})
print(spec.dynamics)
model = bc.CredentialModel(spec)
fit = model.fit(
    frame,
    events=events,
    draws=DRAWS,
    tune=TUNE,
    chains=CHAINS,
    random_seed=SEED,
    progressbar=False,
)
print(fit.verdict)

# %% [markdown]
# ## 3. The event study
#
# `fit.event_study()` reports the effect of a worker's **first** credential at each event time,
# at the reference track record, in the outcome's units (and in percent for a log outcome):
# `f(e) * (S(1) - S(0))`. It does not depend on how the model normalises the profile. Dots are
# posterior means, bars 90% HDIs; the hollow marker is the reference period, the shaded area
# the periods before the credential is first held, and `≤-3` and `≥5` the binned endpoints.

# %%
study = fit.event_study()
study.plot().figure

# %%
study.table.round(3)

# %%
print(study.sentence())

# %% [markdown]
# ### By group
#
# The lag steps and the leads are partially pooled over groups, and each group's lags scale
# with its own `beta[g]`. Group `D`, which employers discriminate against in the simulation,
# should gain more at every lag.

# %%
by_group = fit.event_study(by="group")
by_group.plot().figure

# %%
print(by_group.sentence("D"))

# %% [markdown]
# ### Effects at one event time
#
# `fit.effect`, `fit.average_effect` and `fit.hypothesis` read the event-time profile too. With
# `event_time=e` the effect of one more credential is the one `e` periods after it is first held
# (negative: before it), for a worker profile or averaged over the observed rows; without it, the
# effect averaged over the lag window. The stored profile `event_profile` (by event time, and
# `event_profile_group` by group and event time) can be compared in a hypothesis: here, whether
# the effect in the third period a credential is held exceeds the first period's.

# %%
fit.effect(group="D", credentials=1, track_record=5, event_time=2).table.round(3)

# %%
fit.average_effect(by="group", event_time=0).table.round(3)

# %%
print(fit.hypothesis("event_profile[2] > event_profile[0]").sentence())

# %% [markdown]
# ## 4. Pre-trends
#
# If workers who earn a credential were already improving (or dipping) before it, the leads
# are not zero. `fit.pretrend_test()` asks whether zero lies inside the joint 95% credible
# region of the leads (the squared Mahalanobis distance of zero from their posterior, against
# a chi-square quantile), and how large a **linear pre-trend** would have to be, extrapolated
# after the event, to make the 90% interval of the average post-event effect include zero: the
# *breakdown slope*, in the spirit of Rambachan & Roth (2023). It is compared with the slope the
# leads themselves suggest.

# %%
pretrend = fit.pretrend_test()
pretrend

# %%
print(pretrend.sentence())

# %%
sens = pretrend.sensitivity
print(
    f"breakdown slope {sens.breakdown_slope:+.4f} per period; the leads' slope "
    f"{sens.slope_mean:+.4f} (90% HDI {sens.slope_hdi[0]:+.4f} to {sens.slope_hdi[1]:+.4f})"
)

# %% [markdown]
# ## 5. A known profile: recovery from a simulated panel
#
# `simulate("event_study", ...)` draws a panel whose credentials pay with a delay: the effect
# builds up to its full size two periods after the credential is first held and fades to half
# of it from event time 5 on (lag multipliers 0.3, 0.7, 1.0, 0.8, 0.6, 0.5 of each group's
# `beta`), with two zero leads. `sim.truth.event_effects()` gives the true profile on the same
# scale as `fit.event_study()`.
#
# The true profile is defined at the simulator's reference track record, so the fit uses the
# same reference (`[track_record] reference`); otherwise the two would differ by the modifier
# `M` at the other reference.

# %%
from bayescred.data.simulate import simulate

sim = simulate("event_study", seed=2024, n_workers=N_WORKERS, n_periods=16)
truth = sim.truth
print(
    f"{len(sim.frame):,} worker-periods of {sim.frame['worker_id'].nunique():,} workers, "
    f"{len(sim.events):,} credential events"
)
truth.event_effects()

# %%
sim_spec = spec.with_changes(track_record={"reference": float(truth.track_record_reference)})
sim_fit = bc.CredentialModel(sim_spec).fit(
    sim.frame,
    events=sim.events,
    draws=DRAWS,
    tune=TUNE,
    chains=CHAINS,
    random_seed=SEED,
    progressbar=False,
)
print(sim_fit.verdict)

# %%
sim_study = sim_fit.event_study()
true_profile = truth.event_effects()
true_percent = 100 * np.expm1(true_profile["value"])  # the figure is in percent
ax = sim_study.plot()
ax.plot(
    true_profile["event_time"],
    true_percent,
    marker="x",
    markersize=9,
    linestyle="none",
    color="black",
    label="truth",
    zorder=5,
)
ax.legend(loc="upper left")
ax.figure

# %%
comparison = sim_study.table[["event_time", "label", "mean", "hdi_low", "hdi_high"]].copy()
comparison["truth"] = true_profile["value"].to_numpy()
comparison["covered"] = comparison["truth"].between(comparison["hdi_low"], comparison["hdi_high"])
comparison.round(3)

# %%
print(sim_study.sentence())
print(sim_fit.pretrend_test().sentence())

# %% [markdown]
# ## 6. Adoption cohorts
#
# In a staggered design, workers who earn their first credential early may gain differently
# from those who earn it late. A two-way fixed-effects event study then mixes the cohorts with
# weights that can even be negative (Sun & Abraham 2021; de Chaisemartin & D'Haultfoeuille
# 2020). With `cohort_width = w` the workers are grouped into adoption cohorts of `w` periods
# by the period their first credential is first held, and each cohort's lags and leads deviate
# from the population's by their own partially pooled offsets (cohort `entry` holds the workers
# with credentials at entry and those who never earn one).
#
# Here the simulated effect grows across cohorts: `cohort_slope = 0.8` makes the last cohort's
# lags 1.8 times and the first's 0.2 times the middle one's.

# %%
cohort_sim = simulate("event_study", seed=2025, n_workers=N_WORKERS, n_periods=16, cohort_slope=0.8)
cohort_spec = spec.with_changes(
    dynamics={"leads": 3, "lags": 6, "cohort_width": 5},
    track_record={"reference": float(cohort_sim.truth.track_record_reference)},
)
cohort_fit = bc.CredentialModel(cohort_spec).fit(
    cohort_sim.frame,
    events=cohort_sim.events,
    draws=DRAWS,
    tune=TUNE,
    chains=CHAINS,
    random_seed=SEED,
    progressbar=False,
)
print(cohort_fit.verdict)
by_cohort = cohort_fit.event_study(by="cohort")
by_cohort.plot().figure

# %% [markdown]
# The average lag effect of each cohort against the truth (the true profile of each adoption
# period averaged over the cohort's workers):

# %%
lags = by_cohort.draws.sel(event_time=by_cohort.draws["event_time"] >= 0)
average_lag = lags.mean("event_time")  # (draw, cohort)
true_cohorts = cohort_sim.truth.event_effects(by="cohort")
true_average = true_cohorts[true_cohorts["event_time"] >= 0].groupby("cohort")["value"].mean()
workers = cohort_sim.truth.worker_cohort.dropna().astype(str).value_counts()
fitted = [str(c) for c in average_lag["cohort"].values]  # "entry", then bins of 5 periods
first_period = int(cohort_sim.frame["period"].min())


def fitted_bin(period: int) -> str:
    """The fitted cohort of a first-held period (bins of 5 from the first; clipped)."""
    b = min(max((period - first_period) // 5, 0), len(fitted) - 2)
    return fitted[1 + b]


bins = pd.Series({c: (c if c == "entry" else fitted_bin(int(c))) for c in true_average.index})
weighted = (true_average * workers.reindex(true_average.index).fillna(0)).groupby(bins).sum()
true_by_bin = weighted / workers.reindex(true_average.index).fillna(0).groupby(bins).sum()

pd.DataFrame(
    {
        "mean": average_lag.mean("draw").to_numpy(),
        "q05": average_lag.quantile(0.05, "draw").to_numpy(),
        "q95": average_lag.quantile(0.95, "draw").to_numpy(),
        "truth": true_by_bin.reindex(fitted).to_numpy(),
    },
    index=pd.Index(fitted, name="cohort"),
).round(3)

# %% [markdown]
# (`q05` and `q95` bound the central 90% interval of the draws.) Read this table with care. The
# cohort offsets are partially pooled, and with a few hundred workers per cohort and at most
# sixteen periods they shrink towards the population's profile: the fitted cohorts follow the
# true gradient across cohorts, but less steeply, the more so the fewer workers a cohort has.
# The posterior of the between-cohort sd shows how much the data say about it, against its
# prior `HalfNormal(0.25 s)` (`s` the outcome's scale):

# %%
summary = cohort_fit.summary()
summary[summary["parameter"].str.startswith("sigma_cohort")].round(3)

# %% [markdown]
# The `entry` cohort's truth is the earliest cohort's multiplier; in the fit, its profile is
# carried only by the credentials its workers earn during the panel after the ones they held at
# entry, and its workers who never earn one add nothing.
#
# ## Where next
#
# * `docs/design.md`, section 3.8: the distributed-lag form, the normalisation, the priors,
#   the closed form over row signatures, and why staggered two-way fixed-effects event studies
#   are biased when cohorts differ.
# * `02_checking_and_comparing`: compare the event-time model with the static one by PSIS-LOO
#   (`bc.compare({"static": fit_static, "event time": fit})`).

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
# # Quick start: what is one more credential worth?
#
# Online labour platforms let freelancers take skill tests and display the passed ones as
# badges ("credentials"). Kässi & Lehdonvirta (*Journal of Human Resources* 59(4), 2024)
# found, with transaction data from a freelancing platform, that **one more credential raises
# the value of the projects a worker wins over the next two weeks by about 9%**, that the
# returns fade as credentials accumulate, that workers with a short but non-empty track
# record gain most, and that groups facing statistical discrimination gain more.
#
# `bayescred` estimates the same quantities with a Bayesian hierarchical model: every answer
# comes with its full posterior uncertainty, groups borrow strength from each other, and
# worker fixed effects are handled exactly, so that the negative selection into credentials
# (weaker workers take more tests) does not bias the estimate.
#
# This notebook walks through the shortest useful analysis:
#
# 1. load the embedded example panel and check it against the data rules;
# 2. fit the default model;
# 3. read the parameter summary and the convergence verdict;
# 4. report the average effect of one more credential and plot the effect curve.
#
# **The data are simulated.** The embedded panel is drawn from a simulator calibrated to the
# study, so we know the true answers and can see whether the model finds them. It is not real
# platform data.

# %% [markdown]
# ## Run size
#
# The first cell reads the run size from environment variables. Leave them unset for a real
# analysis (4 chains of 1,000 draws, all 3,000 workers); the automated tests set them much
# smaller so that the notebook executes in seconds.

# %%
import os

# Run size. The defaults are what a real analysis uses; the test suite sets the
# BAYESCRED_NB_* environment variables to tiny values to execute the notebook quickly
# (the numbers are then noisy and the convergence checks fail, as they should).
DRAWS = int(os.environ.get("BAYESCRED_NB_DRAWS", 1000))  # posterior draws per chain
TUNE = int(os.environ.get("BAYESCRED_NB_TUNE", 1000))  # warm-up iterations per chain
CHAINS = int(os.environ.get("BAYESCRED_NB_CHAINS", 4))  # independent Markov chains
N_WORKERS = int(os.environ.get("BAYESCRED_NB_WORKERS", 3000))  # workers in the panel
SEED = 1
SMALL_RUN = DRAWS < 500 or N_WORKERS < 1000
if SMALL_RUN:
    print(
        f"Small run: {N_WORKERS} workers, {CHAINS} chains x {DRAWS} draws; "
        "numbers below are only illustrative."
    )

# %% [markdown]
# ## 1. The data
#
# The panel has one row per worker and two-week period. The columns the model needs are the
# worker, the period, the worker's group, the number of credentials held at the start of the
# period, the track record (projects completed before the period) and an outcome; here the
# outcome is `log_project_value`, the log of the average value of the period's projects
# (missing in periods without a project).

# %%
# %matplotlib inline
import bayescred as bc
from bayescred.datasets import platform_panel

panel = platform_panel()  # SIMULATED data, not real platform records
# Keep the first N_WORKERS workers (all 3,000 by default). Groups were assigned at random,
# so any subset of workers is a fair sample of the panel.
keep = panel["worker_id"].drop_duplicates().iloc[:N_WORKERS]
panel = panel[panel["worker_id"].isin(keep)].reset_index(drop=True)
print(f"{len(panel):,} worker-periods of {panel['worker_id'].nunique():,} workers")

# %%
panel.head()

# %% [markdown]
# Group `D` is the group that employers statistically discriminate against in the simulation.
# Credentials accumulate over time, so most rows hold few credentials and a few hold many:

# %%
panel.groupby("group").agg(
    workers=("worker_id", "nunique"),
    rows=("worker_id", "size"),
    mean_credentials=("credentials", "mean"),
    max_credentials=("credentials", "max"),
    median_track_record=("track_record", "median"),
)

# %% [markdown]
# ### Validating the data
#
# `bc.validate` checks the panel against the data rules before any model is built (periods
# unique per worker, credentials whole numbers that never decrease within a worker, track
# records non-negative, and so on). Periods without a project have no project value; with
# `missing_outcome="exclude"` they are set aside and counted rather than treated as an error.
# Fitting a model runs the same checks, so this step is optional, but it is a cheap way to
# see what the model will use.

# %%
checked = bc.validate(panel, outcome="log_project_value", missing_outcome="exclude")
checked.describe()

# %% [markdown]
# Bad data are refused with one `bc.DataError` that lists every broken rule, how many rows
# break it and which (worker, period) keys to look at. For example, a credential count that
# goes down within a worker:

# %%
broken = panel.copy()
rows_per_worker = broken["worker_id"].value_counts()
worker = rows_per_worker[rows_per_worker >= 2].index[0]  # a worker seen at least twice
rows = broken.index[broken["worker_id"] == worker]
broken.loc[rows, "credentials"] = range(len(rows), 0, -1)  # counts that go down
try:
    bc.validate(broken, outcome="log_project_value", missing_outcome="exclude")
except bc.DataError as err:
    print(err)

# %% [markdown]
# ## 2. Fitting the default model
#
# The default model (`models/default.toml`) says, for worker *i* in group *g* and period *t*:
#
#     log project value = worker effect + period effect
#                         + beta_g * S(credentials; lambda_g) * M(track record; gamma) + noise
#
# * `beta_g` is the effect of the **first** credential for group *g* (at a typical track record);
# * `S` is a geometric curve: each further credential adds a fixed fraction `exp(-lambda_g)`
#   of the previous one's effect, so returns diminish;
# * `M` scales the effect up or down with the worker's track record (an inverted U is possible);
# * the worker effects are worker fixed effects, integrated out exactly: the model learns only
#   from changes *within* each worker over time, as the paper's fixed-effects regressions do.
#
# The group parameters are partially pooled: each group's `beta_g` is shrunk towards the
# population mean `mu_beta` by an amount the data decide.

# %%
model = bc.CredentialModel("default")
print(model.spec.description)

# %%
fit = model.fit(panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False)

# %%
fit

# %% [markdown]
# ## 3. Parameter summary and convergence
#
# `fit.summary()` gives one row per parameter: posterior mean, standard deviation, a 90%
# highest-density interval (HDI, the narrowest interval holding 90% of the posterior) and two
# sampling diagnostics, the effective sample size (ESS) and R-hat.

# %%
fit.summary().round(3)

# %% [markdown]
# Before reading any number, check that the sampler has converged. `fit.diagnostics()` lists
# the standard checks against their thresholds (no divergent transitions, R-hat below 1.01,
# enough effective draws, a healthy energy fraction), and `fit.verdict` sums them up in one
# sentence. With the small test settings the verdict is expected to fail: that is the check
# doing its job.

# %%
fit.diagnostics()

# %%
print(fit.verdict)

# %% [markdown]
# Nothing is dropped silently. Periods without a project have no project value, and under
# worker fixed effects a worker seen in a single period carries no information; such rows are
# set aside and counted:

# %%
fit.rows_not_used()

# %% [markdown]
# ## 4. The average effect of one more credential
#
# `fit.average_effect()` computes, for every posterior draw, the effect of one more credential
# for every worker-period in the data (given the credentials and track record each worker
# actually had), averages it, and summarises the result. The `mean`/`median` columns are in
# log points. The `pct_*` columns give the average *percentage* gain in project value: each
# row's effect is converted to percent first and then averaged, so when effects differ across
# workers they are a little larger than the percentage equivalent of the average log effect.
# `prob_positive` is the posterior probability that the average effect is positive.
#
# The simulation was calibrated to the paper's estimate, about +9%.

# %%
fit.average_effect().table.round(3)

# %% [markdown]
# The same average, group by group. Group `D`, which employers discriminate against, should
# gain more: a credential tells employers more about a worker they would otherwise discount.

# %%
fit.average_effect(by="group").table.round(3)

# %% [markdown]
# ### The effect curve
#
# The figure shows, per group and for the population (dashed), the cumulative effect of
# holding *n* credentials (top) and the effect of the next credential (bottom), at a typical
# track record. Lines are posterior medians, bands 90% HDIs. Diminishing returns show up as a
# flattening top curve and a bottom curve that falls towards zero.

# %%
fit.plot.effect_curve()

# %% [markdown]
# ### One worker profile
#
# Finally, the question a worker or a platform asks: what would one more credential do for a
# particular person? Here a group-`D` worker with 3 credentials and 10 completed projects.
# Notebook `03_new_worker_profile` goes further.

# %%
print(fit.effect(group="D", credentials=3, track_record=10).sentence())

# %% [markdown]
# ## Where next
#
# * `02_checking_and_comparing`: does the model fit the data, and is the geometric curve
#   better than a linear or a one-off ("any credential") effect?
# * `03_new_worker_profile`: effects for worker profiles, unseen groups, saving a fit.
# * `04_paper_patterns`: the study's findings, recovered from data with a known truth.
# * `bc.report(fit, "report.html")` writes all of the above into one self-contained HTML
#   report.

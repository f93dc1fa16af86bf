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
# # Checking the model and comparing alternatives
#
# A posterior is only as good as the model behind it. This notebook goes through the checks
# an analyst should make before quoting a number from `bayescred`:
#
# 1. **convergence**: did the sampler explore the posterior properly?
# 2. **prior predictive check**: do the priors, before seeing the data, allow outcomes of the
#    right size?
# 3. **posterior predictive check**: does data simulated from the fitted model look like the
#    observed data?
# 4. **model comparison**: does the geometric credential curve (diminishing returns) predict
#    better than a linear curve (every credential worth the same) or a step (only the first
#    credential matters)?
#
# The data are the embedded, **simulated** panel (`platform_panel()`), generated with
# diminishing (geometric) returns, so the comparison has a known right answer.

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

# %% [markdown]
# We fit the default model (geometric curve, worker fixed effects). The other two curves are
# fitted further down on the same rows.

# %%
spec = bc.load_spec("default")
fit_geometric = bc.CredentialModel(spec).fit(
    panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False
)

# %% [markdown]
# ## 1. Convergence diagnostics
#
# Each row of the table is one standard check with its threshold:
#
# * **divergences**: transitions where the sampler's numerical integration broke down; any
#   number above zero means parts of the posterior may have been missed;
# * **R-hat**: compares the chains with each other; above 1.01 they disagree;
# * **ESS** (bulk and tail): the number of effectively independent draws behind the centre
#   and the tails of the posterior;
# * **BFMI**: whether the sampler's momentum resampling explores the energy distribution.
#
# The verdict below the table summarises them. With the small test settings it fails, as it
# should: 60 draws are not enough for any serious conclusion.

# %%
fit_geometric.diagnostics()

# %%
print(fit_geometric.verdict)

# %% [markdown]
# Rank plots show the same thing visually: for each population parameter, the ranks of
# each chain's draws among all draws should be spread uniformly (flat lines inside the band).

# %%
fit_geometric.plot.rank()

# %% [markdown]
# ## 2. Prior predictive check
#
# The prior predictive check draws parameters from the priors alone, simulates outcomes, and
# compares summary statistics of those outcomes with the data's. The question is not whether
# the priors are *right* (they are not meant to be) but whether they are *sensible*: a prior
# that put most of its mass on effects of several hundred percent would be a bad starting
# point.
#
# With worker fixed effects the worker intercepts have no prior (a flat one), so the level of
# the outcome has no prior predictive distribution. The check is made on *within-worker
# deviations*, each row's outcome minus that worker's mean, which is exactly the part of the
# data that the model describes (see the `scale` column).
#
# Each row gives the observed statistic, the mean and sd of the replicated one, and a Bayesian
# p-value, the share of replications with a larger statistic. Under the prior the replications
# are more dispersed than the data, as they should be for weakly informative priors.
#
# Expect one striking column: the *mean* replicated sd can be orders of magnitude above the
# observed one while its p-value is unremarkable. The track-record modifier is exponential,
# `M = exp(gamma1 z + gamma2 z^2)`, so the few prior draws with a large positive `gamma2`
# blow the effect up for the most extreme track records (complete newcomers and the longest
# records) and dominate the average. The p-value and the quantiles, which count draws rather
# than average them, show that most prior draws produce outcomes of a plausible size. If you
# want a tighter prior, override it in the spec's `[priors]` table (for example
# `[priors.gamma]` with a smaller `sigma`).

# %%
fit_geometric.prior_check(random_seed=SEED).round(3)

# %% [markdown]
# ## 3. Posterior predictive check
#
# The same statistics, now for outcomes simulated from the posterior. Here we do want the
# observed statistics to sit comfortably inside the replicated ones: a p-value near 0 or 1
# (flagged when outside [0.05, 0.95]) means the fitted model fails to reproduce that feature
# of the data, overall (`scope = all`) or in one group.

# %%
ppc_table = fit_geometric.check(random_seed=SEED)
ppc_table.round(3)

# %%
flagged = ppc_table[ppc_table["flag"]]
print(f"{len(flagged)} of {len(ppc_table)} statistics flagged")

# %% [markdown]
# The plot compares the distribution of the observed outcome (within-worker deviations) with
# that of a few dozen replicated data sets. The observed curve should look like one more
# replication.

# %%
fit_geometric.plot.ppc()

# %% [markdown]
# ## 4. Comparing credential curves by PSIS-LOO
#
# Does the data favour diminishing returns? We refit the same model on the same rows with two
# other curves, changing only the `curve` of the effect in the spec:
#
# * `linear`: every credential adds the same amount, `S(n) = n`;
# * `step`: only holding any credential matters, `S(n) = 1` for `n >= 1`.

# %%
spec_linear = spec.with_changes(effect={"curve": "linear"})
spec_step = spec.with_changes(effect={"curve": "step"})
fit_linear = bc.CredentialModel(spec_linear).fit(
    panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False
)
fit_step = bc.CredentialModel(spec_step).fit(
    panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False
)

# %% [markdown]
# `bc.compare` estimates each model's expected log predictive density for new data (`elpd`,
# higher is better) by Pareto-smoothed importance-sampling leave-one-out cross-validation.
# Because a worker's periods are not independent, the unit left out is a **whole worker**:
# the comparison asks how well each model predicts the trajectory of a worker it has not seen.
#
# Read the table as follows: the best model comes first; `elpd_diff` is each model's shortfall
# against it and `dse` the standard error of that difference (a difference of less than about
# two standard errors is not a clear preference); `weight` gives stacking weights, how much
# each model would contribute to the best predictive mixture; `n_high_pareto_k` counts workers
# for which the importance-sampling approximation is unreliable (ideally zero). Only fits of
# the same outcome on the same rows can be compared; `bc.compare` refuses anything else.

# %%
fits = {"geometric": fit_geometric, "linear": fit_linear, "step": fit_step}
comparison = bc.compare(fits)
comparison

# %% [markdown]
# With all 3,000 workers and full-length chains, the geometric curve should come first: the
# data were simulated with diminishing returns, which a linear curve overstates for workers
# with many credentials and a step ignores altogether. With the tiny test settings the ranking
# can go either way.
#
# The average effects of the three models show why the choice matters for policy: they
# answer "what is the next credential worth?" differently for workers who already hold many.

# %%
import pandas as pd

columns = ["median", "hdi_low", "hdi_high", "pct_median"]
averages = {name: f.average_effect().table[columns] for name, f in fits.items()}
pd.concat(averages).droplevel(1).round(3)

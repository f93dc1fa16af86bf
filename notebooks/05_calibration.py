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
# # Is the model calibrated on my panel? Simulation-based calibration and repeated sampling
#
# Two checks of the inference itself, both run on a Dask cluster (one single-threaded worker
# process per core unless you pass a `distributed.Client`), with results streamed to one file
# that an interrupted study resumes from:
#
# 1. **Simulation-based calibration (SBC)** on the skeleton of your own panel: parameters
#    drawn from the model's prior, outcomes from its likelihood on your workers, periods,
#    groups, credentials and track records; each simulation is fitted and the rank of every
#    true parameter among its (thinned) posterior draws recorded. A calibrated model gives
#    uniform ranks.
# 2. **Repeated sampling from a fixed truth**: panels simulated from the `paper` preset, each
#    fitted; bias, RMSE and 90% interval coverage of the quantities a report quotes.

# %%
import os

import bayescred as bc
from bayescred.data.simulate import simulate

# BAYESCRED_NB_* environment variables set the sizes (tiny values run the notebook quickly)
DRAWS = int(os.environ.get("BAYESCRED_NB_DRAWS", 500))  # posterior draws per chain
TUNE = int(os.environ.get("BAYESCRED_NB_TUNE", 500))  # warm-up iterations per chain
CHAINS = int(os.environ.get("BAYESCRED_NB_CHAINS", 2))  # independent Markov chains
N_WORKERS = int(os.environ.get("BAYESCRED_NB_WORKERS", 60))  # workers in the skeleton
N_SIMS = int(os.environ.get("BAYESCRED_NB_SIMS", 200))  # SBC simulations
N_PANELS = int(os.environ.get("BAYESCRED_NB_PANELS", 20))  # repeated-sampling panels
PROCESSES = int(os.environ.get("BAYESCRED_NB_PROCESSES", 0)) or None  # Dask workers

# %% [markdown]
# ## SBC of the default spec on a small skeleton
#
# Here the skeleton comes from the simulator; with your own data pass your data frame.

# %%
panel = simulate("paper", seed=11, n_workers=N_WORKERS, n_periods=6).frame
sbc = bc.calibrate(
    "default", panel, n_sims=N_SIMS, draws=DRAWS, tune=TUNE, chains=CHAINS, workers=PROCESSES
)
sbc

# %%
sbc.table.head()

# %%
fig = sbc.plot(["mu_beta", "sigma_beta", "lambda", "gamma[z]", "gamma[z_squared]", "sigma"])

# %% [markdown]
# ## Repeated sampling from the `paper` truth
#
# The truth of each quantity is computed from the simulator's true parameters by the same
# functions as the estimate. Small panels give wide intervals: the table is a check of the
# machinery at this size, not the study's measured table.

# %%
study = bc.repeated_sampling(
    "default", "paper", n_panels=N_PANELS, n_workers=N_WORKERS, n_periods=6,
    draws=DRAWS, tune=TUNE, chains=CHAINS, workers=PROCESSES,
)  # fmt: skip
study.table

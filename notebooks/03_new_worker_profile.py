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
# # What would one more credential do for this worker?
#
# A platform considering which skill tests to recommend, a policy analyst assessing a
# training programme, or a worker deciding whether to take a test all ask the same question:
# **for a worker like this one, what is the next credential worth?** The answer depends on the
# worker's group, on how many credentials the worker already holds (returns diminish) and on
# the worker's track record (credentials matter most for workers with a short but non-empty
# record).
#
# This notebook shows how to get that answer from a fitted model, with its uncertainty:
#
# 1. the effect for one profile, as a table, a sentence and posterior draws;
# 2. a table of profiles at once;
# 3. the percentage gain, and the probability that the gain exceeds a threshold;
# 4. a group the model has never seen;
# 5. saving the fit to one file and loading it back.
#
# The data are the embedded, **simulated** panel (`platform_panel()`).

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

# %%
fit = bc.CredentialModel("default").fit(
    panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False
)

# %% [markdown]
# ## 1. One profile
#
# A group-`B` worker holding 2 credentials with 10 completed projects. The effect is the
# change in log project value from holding 3 credentials instead of 2, computed for every
# posterior draw. The table reports its posterior mean, median and 90% HDI on the log scale,
# the same as a percentage gain (`pct_*` columns), and the probability that the effect is
# positive. `parameters_from` says where the group's parameters came from.

# %%
one = fit.effect(group="B", credentials=2, track_record=10)
one.table.round(3)

# %% [markdown]
# The same in words, ready for a report:

# %%
print(one.sentence())

# %% [markdown]
# ### Working with the draws
#
# `.draws` holds the effect for every posterior draw (log scale, dims `chain`, `draw`,
# `profile`) and `.percent` the same as a percentage gain. Any question about the effect is a
# question about these draws; for instance the probability that the next credential raises
# project value by more than 5%, or a histogram of the posterior.

# %%
gain = one.percent.sel(profile=0)
print(f"P(gain > 5%) = {float((gain > 5).mean()):.2f}")
print(f"P(gain > 0%) = {float((gain > 0).mean()):.2f}")

# %%
from matplotlib.figure import Figure

fig = Figure(figsize=(6, 3))
ax = fig.subplots()
ax.hist(gain.values.ravel(), bins=30, color="0.6")
ax.axvline(0, color="k", lw=1)
ax.set_xlabel("gain in project value from one more credential (%)")
ax.set_ylabel("posterior draws")
ax.set_title("Group B, 2 credentials, 10 completed projects")
fig

# %% [markdown]
# ## 2. A table of profiles
#
# Pass a DataFrame of profiles (columns `group`, `credentials`, `track_record`, and optionally
# `to`, the credential count to compare with) to get one row per profile. Here every group at
# 0, 3 and 10 credentials, for a newcomer (0 projects), a worker with a short record (15) and
# an experienced one (150).

# %%
import itertools

import pandas as pd

profiles = pd.DataFrame(
    list(itertools.product(["A", "B", "C", "D"], [0, 3, 10], [0, 15, 150])),
    columns=["group", "credentials", "track_record"],
)
grid = fit.effect(profiles=profiles).table
shown = ["group", "credentials", "track_record", "pct_median", "pct_hdi_low", "pct_hdi_high"]
grid[[*shown, "prob_positive"]].round(2)

# %% [markdown]
# The medians as a compact cross-table (percentage gain from one more credential): the
# effect should fall with the number of credentials held and be largest for the short track
# record.

# %%
cross = grid.pivot_table(
    index=["group", "credentials"], columns="track_record", values="pct_median"
)
cross.round(1)

# %% [markdown]
# ## 3. Percentage gains and larger steps
#
# Effects are estimated on the log scale; the percentage gain is `100 * (exp(effect) - 1)`,
# computed draw by draw (so its median is the transformed median, but its mean is not the
# transformed mean). For small effects the two scales nearly agree: 0.09 log points is a 9.4%
# gain.
#
# The `to` argument compares any two credential counts, for example going from no
# credential to five:

# %%
five = fit.effect(group="B", credentials=0, to=5, track_record=15)
print(five.sentence())

# %% [markdown]
# ## 4. A group the model has not seen
#
# Suppose the platform opens to a new group of workers, `E`, absent from the data. By default
# the model refuses to invent an answer:

# %%
try:
    fit.effect(group="E", credentials=1, track_record=15)
except ValueError as err:
    print(f"ValueError: {err}")

# %% [markdown]
# Because the group effects are partially pooled, the model has learnt a *population
# distribution* of group effects. With `new_group="population"` each posterior draw draws a
# new group from that distribution. The result is honest about what is unknown: the interval
# is wider than for any observed group, since it includes the spread between groups. With
# only four groups in the data, that spread is itself uncertain.

# %%
pair = pd.DataFrame({"group": ["E", "B"], "credentials": [1, 1], "track_record": [15, 15]})
unseen = fit.effect(profiles=pair, new_group="population", random_seed=SEED)
shown = ["group", "parameters_from", "pct_median", "pct_hdi_low", "pct_hdi_high", "prob_positive"]
unseen.table[shown].round(2)

# %%
print(unseen.sentence(0))

# %% [markdown]
# ## 5. Saving and loading a fit
#
# `fit.save` writes the posterior, the rows used, the model specification and the package
# versions into one NetCDF file; `bc.load` reads it back (nothing is pickled, so loading a
# file from someone else cannot run code). A loaded fit answers the same questions with the
# same numbers.

# %%
import tempfile
from pathlib import Path

folder = Path(tempfile.mkdtemp())
path = fit.save(folder / "credential_fit.nc")
print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB")

loaded = bc.load(path)
loaded

# %%
again = loaded.effect(group="B", credentials=2, track_record=10)
same = again.table.equals(one.table)
print(f"Same effect table after the round trip: {same}")
assert same

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
# 5. average effects for a subpopulation (newcomers, track-record bands, your own profiles);
# 6. saving the fit to one file and loading it back.
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
# ### Probabilities and the posterior
#
# `.draws` holds the effect for every posterior draw (log scale, dims `chain`, `draw`,
# `profile`) and `.percent` the same as a percentage gain. Any question about the effect is a
# question about these draws. `.prob` answers the common ones: the probability that the next
# credential raises project value by more than 5% (`gt=5`, on the percentage scale), or by
# between 2% and 10%. `.plot()` draws the posterior: its density, median and 90% HDI.

# %%
print(f"P(gain > 5%) = {one.prob(gt=5, row=0):.2f}")
print(f"P(gain > 0%) = {one.prob(row=0):.2f}")
print(f"P(2% < gain < 10%) = {one.prob(gt=2, lt=10, row=0):.2f}")

# %%
one.plot()

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
grid_effects = fit.effect(profiles=profiles)
grid = grid_effects.table
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
# Two profiles' effects are compared over the joint posterior draws (not by comparing their
# intervals): here the probability that a newcomer's next credential is worth more than that
# of a worker with a short record of 15 projects, both in group `B` with 3 credentials.

# %%
in_b3 = (grid["group"] == "B") & (grid["credentials"] == 3)
newcomer = int(grid.index[in_b3 & (grid["track_record"] == 0)][0])
short = int(grid.index[in_b3 & (grid["track_record"] == 15)][0])
comparison = grid_effects.compare(short, newcomer)
print(comparison.sentence())

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
# A different question is a worker from one of the *observed* groups whose group is not known
# (a missing label, say). With `new_group="mixture"` each posterior draw takes one observed
# group's parameters, every group equally often: the answer mixes the four groups' posteriors,
# without the extra uncertainty of a group never seen.

# %%
mixed = fit.effect(profiles=pair, new_group="mixture", random_seed=SEED)
mixed.table[shown].round(2)

# %% [markdown]
# ## 5. Average effects for a subpopulation
#
# `fit.average_effect()` averages the next credential's effect over the rows the model used,
# draw by draw. `where=` selects rows (a pandas expression or a boolean mask) and `by=` splits
# them; `track_record_band` and `credentials_band` are ready-made bands (or pass your own edges
# with `bands=`). Newcomers only, then by track-record band:

# %%
newcomers = fit.average_effect(where="track_record == 0")
print(newcomers.sentence())

# %%
bands = fit.average_effect(by="track_record_band")
bands.table[["scope", "rows", "pct_median", "pct_hdi_low", "pct_hdi_high", "prob_positive"]].round(
    2
)

# %%
bands.plot()

# %% [markdown]
# `newdata=` averages over profiles of your own instead, for example the grid above, split by
# group:

# %%
fit.average_effect(newdata=profiles, by="group").table.round(3)

# %% [markdown]
# ## 6. Saving and loading a fit
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

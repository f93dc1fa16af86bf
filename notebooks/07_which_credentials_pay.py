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
# # Which credentials pay? Effects by credential type
#
# A platform offers dozens of skill tests: programming languages, office software, languages,
# design tools. A few are taken by thousands of workers, most by a handful. The data scientist
# who decides which tests to keep, promote or drop wants to know **which tests raise the value
# of the projects their holders win**, and how sure that ranking is. Two things make the
# question hard: most tests have too few holders for their own estimate to mean much, and a
# test may pay only where the skill it certifies is one the worker's jobs use.
#
# With a `[credential_types]` section every credential carries its type, each type belongs to
# a skill **category**, and a credential of type `j` is worth `beta[g] + v[j]` as a first
# credential (times the curve's step for later ones, and the track-record modifier), with
# `v[j] = u_category[c(j)] + u_type[j]`: types are partially pooled within their category and
# categories around the typical type, so a test with five holders borrows strength from its
# category while a test with hundreds keeps its own estimate. With `match = true` a credential
# of the worker's own job category pays `rho` more (the *match effect*). The maths is in
# `docs/design.md`, section 3.9.
#
# This notebook:
#
# 1. looks at the data: the types table, the credential events with their type, and the long
#    tail of holders;
# 2. fits the model with `[credential_types] match = true` and checks convergence;
# 3. reads the ranked answer with its uncertainty (the caterpillar plot), and says which types
#    can be told apart from the average and which cannot;
# 4. by skill category, the match effect, and the shrinkage of small types to their category;
# 5. compares everything with the simulated truth: coverage of the 90% intervals, and the
#    mean squared error of the pooled against the raw (unpooled) estimates for small types;
# 6. compares two types in a hypothesis, and gives the effect of a next credential of a given
#    type for one worker profile.
#
# **The data are simulated** (`simulate("types", ...)`), so every type's true effect is known;
# none of it is real platform data.

# %% [markdown]
# ## Run size
#
# The first cell reads the run size from environment variables. The defaults (2 chains of
# 1,000 draws, a panel of 2,000 workers over 16 periods) keep the fit to about a minute on two
# cores; a real analysis would run 4 chains. The automated tests and the documentation build
# set them much smaller.

# %%
import os

# Run size. The defaults fit in about a minute on two cores; the test suite sets the
# BAYESCRED_NB_* environment variables to tiny values to execute the notebook quickly
# (the numbers are then noisy and the convergence checks fail, as they should).
DRAWS = int(os.environ.get("BAYESCRED_NB_DRAWS", 1000))  # posterior draws per chain
TUNE = int(os.environ.get("BAYESCRED_NB_TUNE", 1000))  # warm-up iterations per chain
CHAINS = int(os.environ.get("BAYESCRED_NB_CHAINS", 2))  # independent Markov chains
N_WORKERS = int(os.environ.get("BAYESCRED_NB_WORKERS", 2000))  # workers in the panel
N_PERIODS = 16  # periods per worker
SEED = 1
SMALL_RUN = DRAWS < 500 or N_WORKERS < 1000
if SMALL_RUN:
    print(
        f"Small run: {N_WORKERS} workers, {CHAINS} chains x {DRAWS} draws; "
        "numbers below are only illustrative."
    )

# %% [markdown]
# ## 1. The data: types, events and the long tail
#
# `simulate("types", ...)` is the `paper` simulator with credential types switched on. Here
# 60 skill tests in 6 categories, with a Zipf-like popularity (a few tests popular, a long tail
# of rare ones); the true type deviations have sd 0.10 and the category deviations sd 0.05 (in
# log points), and a credential in the worker's own job category pays 0.06 more. Half of the
# credentials a worker earns are drawn from the worker's own job category.
#
# Three inputs carry the types:
#
# * the **credential events** (one row per credential earned: worker, first period held, and
#   its `credential_type`; a missing period is "held before the panel, date unknown");
# * the **types table**, mapping every type to its skill `category`;
# * a **`job_category`** column of the panel: the category of the worker's own work (missing
#   means unknown, never a match).

# %%
# %matplotlib inline
import time

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import bayescred as bc
from bayescred.data.presets import TypeSettings
from bayescred.data.simulate import simulate

type_settings = TypeSettings(n_types=60, n_categories=6, sigma_type=0.10, sigma_category=0.05)
sim = simulate(  # SIMULATED data, not real platform records
    "types", n_workers=N_WORKERS, n_periods=N_PERIODS, seed=3, types=type_settings
)
truth = sim.truth
print(
    f"{len(sim.frame):,} worker-periods of {sim.frame['worker_id'].nunique():,} workers, "
    f"{len(sim.events):,} credential events "
    f"({sim.events['period'].isna().mean():.0%} held before the panel)"
)
sim.events.head()

# %%
sim.credential_types.head()

# %%
columns = ["worker_id", "period", "group", "credentials", "log_project_value", "job_category"]
sim.frame[columns].head()

# %% [markdown]
# **The long tail.** Holders are the workers who hold a type in at least one of their rows.
# The most popular test has hundreds of holders; most have a few dozen or fewer. For a test
# with ten holders, its own (within) estimate rests on ten workers' earnings before and after
# they earned it: far too few to rank it by itself.

# %%
true_types = truth.type_effects()  # true effect per type: credential_type, category, holders, ...
held = true_types["holders"].sort_values(ascending=False).to_numpy()
fig = Figure(figsize=(7.5, 3.2), layout="constrained")
ax = fig.subplots()
ax.bar(np.arange(1, len(held) + 1), np.maximum(held, 0.8), color="tab:blue")
ax.set_yscale("log")
ax.set_xlabel("credential type, by popularity rank")
ax.set_ylabel("holders (workers, log scale)")
ax.set_title("Holders per credential type: a long tail")
for cut in (20, 10):
    ax.axhline(cut, color="grey", linestyle=":", linewidth=1)
fig

# %%
bins = pd.cut(true_types["holders"], [-1, 0, 9, 19, 49, 99, np.inf])
bins = bins.cat.rename_categories(["0", "1-9", "10-19", "20-49", "50-99", "100+"])
print("types by number of holders:")
print(bins.value_counts(sort=False).to_string())

# %% [markdown]
# `bc.validate` checks the three inputs together and lists every broken rule in one
# `DataError`: events without a `credential_type`, a type the table does not have (with close
# matches), a type without a category or listed twice, a job category that is no type's
# category. A type nobody holds is allowed: its effect is what its category predicts.

# %%
panel = bc.validate(
    sim.frame,
    outcome="log_project_value",
    events=sim.events,
    credential_types=sim.credential_types,
    missing_outcome="exclude",
)
panel.describe()

# %% [markdown]
# ## 2. The model and the fit
#
# The spec is the default one with a `[credential_types]` section; in a TOML file:
#
# ```toml
# [credential_types]
# match = true           # a credential of the worker's own job category pays rho more
# pooling = "partial"    # types within categories within the population (the default)
# job_category = "job_category"
# ```
#
# The true effects of the simulation are defined at the simulator's reference track record,
# so the fit uses the same reference (`[track_record] reference`), as in notebook
# `06_event_study`; otherwise every effect would differ from the truth by the modifier at the
# other reference.

# %%
spec = bc.ModelSpec().with_changes(
    credential_types={"match": True},
    track_record={"reference": float(truth.track_record_reference)},
)
print(spec.credential_types)
start = time.perf_counter()
fit = bc.CredentialModel(spec).fit(
    panel, draws=DRAWS, tune=TUNE, chains=CHAINS, random_seed=SEED, progressbar=False
)
fit_seconds = time.perf_counter() - start
print(f"fit in {fit_seconds:.0f} s (compilation included)")
print(fit.verdict)

# %% [markdown]
# ### Diagnostics
#
# The usual checks: no divergent transitions, R-hat close to 1 and enough effective draws. The
# spreads are the ones to watch: `sigma_type` (between types of a category) and
# `sigma_category` (between categories) are estimated from few groups, so their posteriors are
# wide and the sampler explores them slowly. If R-hat is above 1.01, run more draws.

# %%
fit.diagnostics()

# %%
summary = fit.summary()
spreads = ["mu_beta", "sigma_type", "sigma_category", "match_effect"]
summary[summary["parameter"].isin(spreads)].round(3)

# %%
print(
    f"truth: sigma_type {truth.sigma_type}, sigma_category {truth.sigma_category}, "
    f"match effect {truth.match_effect}, row-weighted beta {truth.row_weighted_beta:.3f}"
)

# %% [markdown]
# ## 3. The ranked answer, uncertainty first
#
# `fit.type_effects()` gives the effect of a worker's first credential being of each type, at
# the reference track record, averaged over groups by their share of rows; outside the
# worker's job category (`matched=True` adds the match effect). The caterpillar plot shows the
# 30 best by posterior mean, with their 90% HDIs, coloured by category; the number beside each
# label is its holders. The dashed line is the average over all types.
#
# Read the bars before the dots: a ranking by posterior means alone would be a ranking of
# noise for most types.

# %%
types = fit.type_effects()
types.plot(top=30).figure

# %%
types.table.head(12).round(3)

# %%
print(types.sentence())

# %% [markdown]
# **Which types can be told apart?** Two different questions: does a type pay at all (its
# 90% HDI above zero), and does it pay *more or less than the average test* (`p_above_average`,
# the posterior probability that its effect exceeds the mean over all types, at least 0.95 or
# at most 0.05)? The second is the one that matters for choosing between tests.

# %%
t = types.table
pays = t[t["hdi_low"] > 0]
above = t[t["p_above_average"] >= 0.95]
below = t[t["p_above_average"] <= 0.05]
print(f"{len(pays)} of {len(t)} types have a 90% HDI above zero")
print(
    f"above the average type with probability >= 0.95: {len(above)} "
    f"{list(above['credential_type'])} (holders {list(above['holders'])})"
)
print(
    f"below the average type with probability >= 0.95: {len(below)} "
    f"{list(below['credential_type'])} (holders {list(below['holders'])})"
)
undecided = t[(t["p_above_average"] < 0.95) & (t["p_above_average"] > 0.05)]
print(
    f"cannot be told apart from the average: {len(undecided)} types, "
    f"median holders {undecided['holders'].median():.0f}"
)

# %% [markdown]
# ### By group
#
# Groups shift every type's effect by the same amount (`beta[g] - mu_beta`; the additive form
# of section 3.9): group `D`, which employers discriminate against in the simulation, gains
# more from every test, but the ranking of the tests is the same in every group.

# %%
types_d = fit.type_effects(group="D")
print(types_d.sentence(n=2))

# %% [markdown]
# ## 4. Skill categories
#
# `fit.type_effects("category")` gives the effect of a *typical* type of each category
# (`v = u_category[c]`); holders count the workers holding any type of it. With six
# categories and a between-category sd of 0.05 in the simulation, the categories are hard to
# separate: compare the HDIs with the spread of the means.

# %%
categories = fit.type_effects("category")
categories.plot().figure

# %%
cat_table = categories.table.merge(
    truth.type_effects("category")[["category", "effect"]].rename(columns={"effect": "truth"}),
    on="category",
)
cat_table[["category", "holders", "mean", "hdi_low", "hdi_high", "p_above_average", "truth"]].round(
    3
)

# %%
print(categories.sentence(n=2))

# %% [markdown]
# (The truth of a category is its typical type's, `u_category[c]`; the data see only the
# category's *realised* types, whose deviations `u_type` need not average to zero in a
# category with ten types, so a category's estimate follows its types' mean.)

# %% [markdown]
# ## 5. The match effect
#
# *A credential pays more when it certifies a skill the worker's jobs use.* The match effect
# `rho` is the extra effect of a credential whose category is the worker's job category, the
# same for every type. It is estimated from all credentials together, matched and not, so it is
# far better determined than any single type's effect.

# %%
match = summary[summary["parameter"] == "match_effect"].iloc[0]
print(
    f"match effect: posterior mean {match['mean']:+.3f} "
    f"(90% HDI {match['hdi_low']:+.3f} to {match['hdi_high']:+.3f}); "
    f"truth {truth.match_effect:+.3f}"
)
print(fit.hypothesis("match_effect > 0").sentence())

# %%
matched = fit.type_effects(matched=True)
best = types.table.iloc[0]["credential_type"]
pair = pd.DataFrame(
    {
        "outside the job category": types.table.set_index("credential_type").loc[best],
        "in the job category": matched.table.set_index("credential_type").loc[best],
    }
).loc[["category", "holders", "percent", "percent_hdi_low", "percent_hdi_high"]]
print(f"type {best}, first credential's effect in percent:")
pair

# %% [markdown]
# ## 6. Shrinkage: small types borrow from their category
#
# Beside each pooled estimate, the table has the **raw within estimate** (`raw_mean`,
# `raw_se`): the least-squares effect of the type from its own holders alone (the
# worker-demeaned outcome on one column per type, the curve and the modifier fixed at their
# posterior means), without borrowing from the category. By default it is shown from 20
# holders on; here from 5, to see the small types. The shrinkage plot joins each type's raw
# estimate (hollow) to its pooled one (filled): the fewer its holders, the further a type is
# pulled towards its category, while the popular types keep their own estimate.

# %%
MIN_RAW = 5
with_raw = fit.type_effects(min_raw_holders=MIN_RAW)
with_raw.plot_shrinkage().figure

# %%
shrink = with_raw.table.dropna(subset=["raw_mean"]).copy()
shrink = shrink.merge(
    categories.table[["category", "mean"]].rename(columns={"mean": "category_mean"}),
    on="category",
)
shrink["pulled"] = (shrink["mean"] - shrink["raw_mean"]) / (
    shrink["category_mean"] - shrink["raw_mean"]
)
cols = ["credential_type", "category", "holders", "raw_mean", "raw_se", "mean", "category_mean"]
shrink.sort_values("holders")[[*cols, "pulled"]].iloc[np.r_[0:5, -5:0]].round(3)

# %% [markdown]
# `pulled` is the share of the way from the raw estimate to the category's estimate that the
# pooled estimate has moved: near 1 for the rare tests (their pooled estimate is almost their
# category's), much lower for the popular ones.
#
# ## 7. Against the truth
#
# The simulation knows every type's true effect (`truth.type_effects()`: the effect of a first
# credential of the type outside the worker's job category, at the reference track record, on
# the same scale as `fit.type_effects()`). Two checks:
#
# * **coverage**: the share of types whose 90% HDI contains the true effect;
# * **accuracy for small types**: the mean squared error over types with fewer than 20 holders
#   of the pooled posterior means against that of the raw within estimates.

# %%
compare = types.table.merge(
    with_raw.table[["credential_type", "raw_mean", "raw_se"]].rename(
        columns={"raw_mean": "raw", "raw_se": "raw_sd"}
    ),
    on="credential_type",
).merge(true_types[["credential_type", "effect"]], on="credential_type")
compare["covered"] = compare["effect"].between(compare["hdi_low"], compare["hdi_high"])
print(
    f"coverage of the 90% HDIs: {compare['covered'].mean():.0%} of {len(compare)} types "
    f"({compare['covered'].sum()} covered)"
)
for lo, hi in [(0, 19), (20, 99), (100, None)]:
    rows = compare[(compare["holders"] >= lo) & (compare["holders"] <= (hi or np.inf))]
    label = f"{lo}-{hi}" if hi else f"{lo}+"
    if len(rows):
        print(f"  holders {label:>6}: {rows['covered'].mean():.0%} of {len(rows)} covered")

# %%
ax = types.plot(top=30)
top = types.table.head(30)
top_truth = compare.set_index("credential_type").loc[top["credential_type"], "effect"]
ax.scatter(
    100 * np.expm1(top_truth.to_numpy()),
    np.arange(len(top))[::-1],
    marker="x",
    color="black",
    zorder=5,
    label="truth",
)
ax.legend(loc="lower right", fontsize="small")
ax.figure

# %%
small = compare[(compare["holders"] < 20) & compare["raw"].notna()]
mse_pooled = float(np.mean((small["mean"] - small["effect"]) ** 2))
mse_raw = float(np.mean((small["raw"] - small["effect"]) ** 2))
print(
    f"types with {MIN_RAW}-19 holders: {len(small)}; mean squared error of the pooled "
    f"estimates {mse_pooled:.4f}, of the raw within estimates {mse_raw:.4f}"
)
large = compare[(compare["holders"] >= 20) & compare["raw"].notna()]
if len(large):
    print(
        f"types with 20 holders or more: {len(large)}; pooled "
        f"{np.mean((large['mean'] - large['effect']) ** 2):.4f}, raw "
        f"{np.mean((large['raw'] - large['effect']) ** 2):.4f}"
    )

# %% [markdown]
# Two cautions when reading the coverage. It is one panel, and the types' errors are not
# independent: every type's effect includes the common level `beta`, and the level trades off
# against the match effect (half the credentials are matched), so when the panel's estimate of
# the level is off, many intervals miss together, and the coverage of one panel can lie well
# away from 90% on either side. And a 90% HDI of a rare type is mostly its category's interval:
# it covers because it is wide, not because the type was measured.
#
# ## 8. Two types compared
#
# Is the most popular test worth more than the second most popular? `type[j]` in a hypothesis
# is the population effect of a first credential of type `j` (`mu_beta + v[j]`), and
# `category[c]` a typical type of category `c`; differences between them do not depend on the
# group.

# %%
by_holders = types.table.sort_values("holders", ascending=False, kind="stable")
first, second = by_holders["credential_type"].iloc[:2]
test = fit.hypothesis(f"type[{first}] > type[{second}]")
print(test.sentence())
true_effect = true_types.set_index("credential_type")["effect"]
print(f"true difference: {true_effect[first] - true_effect[second]:+.3f}")

# %%
cat_first, cat_second = categories.table.sort_values("holders", ascending=False)["category"][:2]
print(fit.hypothesis(f"category[{cat_first}] > category[{cat_second}]").sentence())

# %% [markdown]
# ## 9. The next credential for a worker profile
#
# `fit.effect(..., credential_type=j, job_category=c)` is the effect of a worker's *next*
# credential if it is of type `j`, for a worker of job category `c` (the match effect is added
# when `c` is the type's category): `(beta_g + v[j] + rho match) (S(n + 1) - S(n)) M(z)`. Here
# a worker of group `A` with one credential and five completed projects, who takes the most
# popular test: once in its category, once from another.

# %%
cats = list(categories.table["category"])
home = str(true_types.set_index("credential_type").loc[first, "category"])
away = next(c for c in cats if c != home)
worker = {"group": "A", "credentials": 1, "track_record": 5}
profile = pd.concat(
    [fit.effect(**worker, credential_type=first, job_category=job).table for job in (home, away)],
    ignore_index=True,
)
profile[["credential_type", "job_category", "mean", "hdi_low", "hdi_high", "pct_mean"]].round(3)

# %% [markdown]
# The truth of the same profile: the simulator's effect of a next credential of a typical type,
# `truth.next_effect`, plus what the type and the match add, `(S(2) - S(1)) M(z) (u_category +
# u_type + rho match)`:

# %%
typical = float(np.ravel(truth.next_effect("A", 1, 5))[0])
a = list(truth.groups).index("A")
scale = typical / truth.beta[a]  # (S(2) - S(1)) M(z) for group A at track record 5
v = truth.u_category[home] + truth.u_type[first]
profile["truth"] = [typical + scale * (v + truth.match_effect), typical + scale * v]
profile[["credential_type", "job_category", "mean", "hdi_low", "hdi_high", "truth"]].round(3)

# %%
plain = fit.effect(**worker).table.iloc[0]  # a next credential of a typical type
print(
    f"typical type: {plain['mean']:+.3f} (90% HDI {plain['hdi_low']:+.3f} to "
    f"{plain['hdi_high']:+.3f}); truth {typical:+.3f}"
)
row = compare.set_index("credential_type").loc[first]
print(
    f"type {first} ({int(row['holders'])} holders): pooled {row['mean']:+.3f}, raw within "
    f"{row['raw']:+.3f} (se {row['raw_sd']:.3f}), truth {row['effect']:+.3f}"
)

# %% [markdown]
# The profile's effect has three parts, each with its own error: the typical type's effect at
# this track record (the curve and the modifier), the type's deviation, and the match. A
# popular type's deviation follows its own holders: when they happen to have done better or
# worse than the type's truth (compare its raw estimate, whose standard error is the honest
# measure of how well its holders pin it down), the profile's effect follows them, and a single
# profile's interval can miss the truth where the coverage over all types is fine.

# %% [markdown]
# ## What it says
#
# * **Only the popular tests can be ranked.** The tests credibly above or below the average are
#   among those with many holders; for the long tail the posterior is close to the category's,
#   and the honest answer is "not yet known". A test with a handful of holders that tops a
#   ranking of raw estimates is usually noise: its pooled estimate says so.
# * **Pooling pays.** For the rare tests the pooled estimates are far closer to the truth than
#   their own within estimates (section 7), at the price of pulling a truly exceptional rare
#   test towards its category until it has more holders.
# * **Matching matters.** The match effect is the best-determined part of the answer: a test
#   pays more to workers whose jobs use the skill, which argues for offering tests close to
#   the work workers do (and for recording `job_category`).
# * **Categories are hard to separate** with a handful of categories: the between-category sd
#   has a wide posterior.
#
# ## Where next
#
# * `docs/design.md`, section 3.9: the typed credential term, tie blocks of credentials first
#   held in the same period, the priors, and the exact closed form over type signatures.
# * `[credential_types] pooling = "none"`: each type on its own prior, the unpooled estimate,
#   to compare with this fit by PSIS-LOO (`02_checking_and_comparing`).
# * `03_new_worker_profile`: tables of profiles and the effect of going to more credentials.

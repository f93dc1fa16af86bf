"""Analysis of a fit's DataTree: the predictor over draws, effects, predictive checks,
per-worker log-likelihoods and LOO, summaries and diagnostics."""

"""Sampling, diagnostics and the fitted-model object."""

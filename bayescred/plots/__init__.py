"""Publication-quality figures of a fitted credential model (``fit.plot``)."""

from bayescred.plots.fit_plots import FitPlots

__all__ = ["FitPlots"]

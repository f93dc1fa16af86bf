"""Closed forms shared by the simulator, the PyMC model and the analysis: credential curves,
track-record modifiers and Gaussian worker likelihoods. NumPy/PyTensor-neutral; no PyMC."""

"""Inference: sampling a built model into a DataTree, saving and loading fits, and rebuilding
a fit's design from its tree."""

"""Defaults of the command line that the parser shows before any work is imported."""

#: Sampler settings of ``bayescred demo`` (each can be overridden on the command line).
DEMO_DRAWS = 1000
DEMO_TUNE = 1000
DEMO_CHAINS = 4
DEMO_SEED = 1
DEMO_SPEC = "default"

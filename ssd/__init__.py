"""SSD pipeline: problem sources, generation, SFT, sandboxed grading, metrics, stage cache, CLI."""

__version__ = "0.1.0"

"""parkzero: the operating platform of a zero-carbon industrial park."""

__version__ = "0.1.0"

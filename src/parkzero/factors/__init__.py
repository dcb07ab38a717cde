"""The versioned, sourced emission-factor library (see `parkzero.factors.library`)."""

from parkzero.factors.library import Factor, FactorSet, load_factors, shipped_sets

__all__ = ["Factor", "FactorSet", "load_factors", "shipped_sets"]

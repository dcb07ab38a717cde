"""Product carbon footprints (ISO 14067) of a park's products: a product system of unit processes solved on
sparse matrices, all products from one factorisation, with contributions, allocation sensitivity and Monte Carlo.

Pure functions over plain values, no database: `model` describes the system, `engine` computes it.
"""

from parkzero.footprint.engine import (
    Contribution,
    Distribution,
    Factorised,
    allocation_sensitivity,
    build,
    contributions,
    dense_footprints,
    factorise,
    footprints,
    monte_carlo,
    supply,
)
from parkzero.footprint.model import EnergyInput, Exchange, Process, Product, SecondaryFactor, System

__all__ = [
    "Contribution",
    "Distribution",
    "EnergyInput",
    "Exchange",
    "Factorised",
    "Process",
    "Product",
    "SecondaryFactor",
    "System",
    "allocation_sensitivity",
    "build",
    "contributions",
    "dense_footprints",
    "factorise",
    "footprints",
    "monte_carlo",
    "supply",
]

"""Energy services: flows and balances of the park's electricity (grid, PV, storage, tenants)."""

from parkzero.energy.flows import EnergyBalance, balance_from_sums, energy_balance

__all__ = ["EnergyBalance", "balance_from_sums", "energy_balance"]

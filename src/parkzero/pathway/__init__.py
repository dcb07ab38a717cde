"""The road to zero: targets and progress, the baseline pathway, abatement measures and their marginal abatement
cost curve, and the portfolio MILP that picks measures and their timing to meet targets at least discounted cost.

Pure functions over plain values (no database): `targets`, `baseline`, `measures`, then `optimise`, which
composes them; `evaluations` scores a park or factory against recognition indicator sets.
"""

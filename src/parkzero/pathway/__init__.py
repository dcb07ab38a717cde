"""The road to zero: targets and progress, the baseline pathway, abatement measures and their marginal abatement
cost curve, the portfolio MILP that picks measures and their timing to meet targets at least discounted cost,
evaluations against recognition indicator sets, air pollutants with carbon, and the district view.

Pure functions over plain values: `targets`, `baseline`, `measures` (and `derive`, measures from the energy and
ledger models), `optimise`, which composes them, `scenario` (all of it as one file), `pollution` and
`evaluations`. Over the store, in the caller's scope: `records` (targets and recognitions kept) and `district`
(progress from the closed inventories, parks side by side). Data files are read by `datafile`.
"""

"""The demo park: a Baoshan-style zero-carbon industrial park and one year of its 15-minute data.

Modules (import them directly; this package imports nothing so that ``parkzero`` starts fast):

- `parkzero.demo.park`: `demo_registry(seed)` (the registry document), `demo_summary(registry)`;
- `parkzero.demo.readings`: `demo_readings(registry, year, seed, start, end)` (pyarrow tables per meter);
- `parkzero.demo.weather`: `shanghai_weather(year, seed, ...)` (clear sky x documented cloud model);
- the working-day calendar (Chinese holidays, 调休) is `parkzero.calendar`, shared with the energy services;
- `parkzero.demo.loads`, `battery`, `identifiers`: the load shapes, battery rule and identifiers behind them
  (the PV physics is `parkzero.energy.pv`);
- `parkzero.demo.build`: `build_demo(store, ...)` writes the registry and the readings into a store.
"""

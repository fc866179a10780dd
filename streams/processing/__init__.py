"""The processing core: plain code over batches, apart from the faust wiring (docs/design.md §4).

Nothing here imports `streams.app`, builds a faust App, opens a connection or reads a setting
at import; the agents (agents/) and tables (tables/) wire it to faust, and the unit tests run
it against an in-memory state (`state.MemoryState`). `make lint` enforces the layering
(import-linter contracts in pyproject.toml).

- `messages`: a source message (a JSON array of records, or one record) → its elements, each
  with its own exact bytes when it must be dead-lettered;
- `state`: the small key-value interface the enrichment reads and writes, per partition;
- `enrich`: a batch of `PostSnapshot`s → observations, state changes, mirror entries, stats;
- `stats`: the per-subreddit sums and their fold into the windowed tables;
- `sink`: an observations message → the sink's rows and dead rows.
"""

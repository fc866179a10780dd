"""Database I/O of the sink and of maintenance (docs/design.md §5): pool, bulk writer, rollup/retention."""

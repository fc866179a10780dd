"""Database I/O of the sink and of maintenance (DESIGN §5): pool, bulk writer, rollup/retention."""

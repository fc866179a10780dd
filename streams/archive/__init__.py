"""The Arctic Shift archive as a source: its HTTP client, paging, mapping and the backfill's checkpoint."""

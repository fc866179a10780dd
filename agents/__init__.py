"""Faust agents: posts, refresh, sink, DLQ."""

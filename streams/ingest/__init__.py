"""Ingest: polls Reddit (or the simulator) and produces to `reddit.posts` / `reddit.refresh`."""

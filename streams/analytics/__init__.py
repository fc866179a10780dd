"""Pure analytics: no I/O, no Faust. Agents and the ingest scheduler call these."""

"""Faust tables (velocity, sentiment cache, windowed stats) and the Redis mirror."""

"""A local Reddit API for `make demo` and the tests (`faust -A streams simulate`)."""

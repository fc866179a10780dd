"""`python -m streams` and the `redditstream` console script: faust's command line for this
project's app (`redditstream worker -l info`, `redditstream migrate`, `redditstream ingest`,
…), the commands of `faust -A streams`."""

from __future__ import annotations


def main() -> None:
    from streams.app import app

    app.main()


if __name__ == "__main__":
    main()

"""`python -m ingest` runs the same CLI as the `exhibit` console script."""

from ingest.cli import run as main

if __name__ == "__main__":
    main()

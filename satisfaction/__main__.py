"""``python -m satisfaction``: the command line, as the ``satisfaction`` script runs it."""

from satisfaction.cli import run

if __name__ == "__main__":
    run()

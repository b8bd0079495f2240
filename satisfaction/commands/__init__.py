"""Sub-commands of the ``satisfaction`` command, one module per family.

Each module exposes ``register(app)``, which adds its commands to the Typer
application; :mod:`satisfaction.cli` calls them in order.
"""

"""Serve the simulator: ``python -m adapters.gerrit.simulator`` (see the package docstring)."""

from adapters.gerrit.simulator import main

main()

"""Serve the simulator: ``python -m adapters.abf.simulator`` (see the package docstring)."""

from adapters.abf.simulator import main

main()

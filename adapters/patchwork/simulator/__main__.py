"""Serve the simulator: ``python -m adapters.patchwork.simulator`` (see the package docstring)."""

from adapters.patchwork.simulator import main

main()

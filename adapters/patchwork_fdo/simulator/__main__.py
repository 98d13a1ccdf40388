"""Serve it: ``python -m adapters.patchwork_fdo.simulator`` (see the package docstring)."""

from adapters.patchwork_fdo.simulator import main

main()

"""revgate's backends: unified records, ports, the HTTP client, one package per kind."""

# revgate.py checks for this line: another distribution's `adapters/__init__.py` lacks it.
__revgate__ = True

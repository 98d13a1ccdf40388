"""revgate's GraphQL schema: strawberry types, resolvers, the execution fast path."""

# revgate.py checks for this line: another distribution's `schema/__init__.py` lacks it.
__revgate__ = True

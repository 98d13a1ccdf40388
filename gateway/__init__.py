"""revgate's server: the ASGI app and its middleware, settings, CLI (docs/architecture.md)."""

from revgate import require_own_import_names

# Before any submodule imports `schema` or `adapters`: another distribution's package of that
# name fails here, saying which and what to do, instead of deep inside an import.
require_own_import_names()

__revgate__ = True

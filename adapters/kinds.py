"""The registration: every backend kind the gateway knows, one line per kind.

Each entry is the kind's descriptor (``adapters/plugin.py``), exported by its package as
``adapters/<kind>/kind.py`` ``KIND``. Everything per kind is derived from this list: the
source factories and compat routers (``adapters/registry.py``), the kind names and their
config keys (``gateway/settings.py``), ``revgate demo`` (``gateway/cli.py``) and the GraphQL
schema (``schema/plugin.py``: the ``BackendKind`` enum, Query/Mutation, node loaders, the
change types of ``changes``). The order is the order of ``BackendKind``'s values and of each
kind's fields in the root types. A fifth kind: its package plus one line here
(``docs/adding-a-kind.md``).
"""

from __future__ import annotations

from adapters.abf.kind import KIND as ABF
from adapters.gerrit.kind import KIND as GERRIT
from adapters.patchwork.kind import KIND as PATCHWORK
from adapters.patchwork_fdo.kind import KIND as PATCHWORK_FDO
from adapters.plugin import AdapterKind

KINDS: tuple[AdapterKind, ...] = (PATCHWORK, PATCHWORK_FDO, GERRIT, ABF)

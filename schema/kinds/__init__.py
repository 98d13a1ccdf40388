"""Each backend kind's part of the GraphQL schema (``schema/plugin.py`` ``SchemaPart``), one
module per kind, named by the kind's adapter descriptor (``AdapterKind.schema``); ``core``
is the kind-independent part every schema has."""

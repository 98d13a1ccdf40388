"""The benchmark queries: the same data through revgate and GraphQL Mesh, and directly."""

from __future__ import annotations

TOKEN = "a0" * 20  # the simulator's admin token
PROJECT = "generated"  # the simulator's 100 generated patches (``--generated 100``)
SINGLE_ID = 44  # the first generated patch

# Ten fields per patch, two nested objects: what a review dashboard shows.
LIST_QUERY = """query List { patches(first: 100, filter: {project: "generated"}) { nodes {
  id title state rawState createdAt webUrl checkState
  author { name email } project { name linkName } } } }"""

# The same patch through ``node``: one upstream detail read.
SINGLE_QUERY = """query One { node(id: "UGF0Y2g6cHc6NDQ") { ... on Patch {
  id title state rawState createdAt webUrl checkState
  author { name email } project { name linkName } } } }"""

# GraphQL Mesh over bench/mesh/patchwork.openapi.yaml: the same fields, Patchwork's names.
MESH_LIST_QUERY = """query List { patches(project: "generated", per_page: 100) {
  id name state date web_url check submitter { name email } project { name link_name } } }"""

MESH_SINGLE_QUERY = """query One { patch(id: 44) {
  id name state date web_url check submitter { name email } project { name link_name } } }"""

# What a client without a gateway asks the upstream for.
REST_LIST_PATH = "/api/1.3/patches/?project=generated&per_page=100"
REST_SINGLE_PATH = "/api/1.3/patches/44/"

"""The execution machinery under the schema: compiled plans, projections, caches (README.md).

The rest of the code uses what is exported here; the modules are the package's own.
"""

from schema.execution.compiler import compile_operation
from schema.execution.fastpath import FastPath
from schema.execution.hooks import CachedHooksRunner, HookCachingSchema, HookTables
from schema.execution.plan import Plan
from schema.execution.projection import LazyList, RecordList, register
from schema.execution.run import run_plan
from schema.execution.runtime import ListMemo
from schema.execution.strawberry_private import graphql_schema
from schema.execution.validation import TextValidationCache

__all__ = [
    "CachedHooksRunner",
    "FastPath",
    "HookCachingSchema",
    "HookTables",
    "LazyList",
    "ListMemo",
    "Plan",
    "RecordList",
    "TextValidationCache",
    "compile_operation",
    "graphql_schema",
    "register",
    "run_plan",
]

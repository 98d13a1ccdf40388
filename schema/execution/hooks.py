"""strawberry's extension runner, with each extension class's hooks looked up once.

For every request strawberry opens four hook contexts (operation, parse, validate, execute),
and each one asks every extension of the schema — a dozen here: masking, partial errors,
parser and validation caches, the limits, cost, metrics, the fast path — whether its class
overrides that hook and, if so, wraps the method in a fresh ``contextlib`` context manager
factory (``inspect`` checks and ``functools.wraps`` each time). That is ~48 look-ups per
request for an answer that depends only on the extension's class.

``CachedHooksRunner`` keeps the answer per (class, hook): the context-manager factory of a
generator hook is built once (``contextlib.contextmanager(Class.on_execute)``) and bound to
the request's extension instance by a ``functools.partial``, which is what strawberry's
``contextmanager(MethodType(hook, extension))`` amounts to; and per (stage, tuple of
extension classes) which positions have a hook at all, so a request touches only those.
Hooks written as plain (async) functions, and the streaming hook, go through strawberry's
own code unchanged. The hooks run in the same order, with the same instances, entering and
exiting exactly as before (``tests/schema/test_hooks.py`` compares the calls with
strawberry's runner).
"""

from __future__ import annotations

import contextlib
import functools
import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

from schema.execution.strawberry_private import WrappedHook

# What a class's hook is: no override (None), a context-manager factory and whether it is
# async, or CALLABLE (a plain function: strawberry wraps it per request, as before).
_Kind = tuple[Callable[..., Any], bool] | None
CALLABLE: _Kind = (lambda: None, False)  # a marker, compared by identity
# Per hook stage, the positions of the extensions that have a hook, and of what kind.
_StagePlan = tuple[tuple[int, tuple[Callable[..., Any], bool]], ...]
# Entries per table; past it a table starts over (one schema has a dozen extension classes).
MAX_ENTRIES = 1024


class HookTables:
    """What each extension class does per hook, owned by one schema (``HookCachingSchema``):
    its answers depend only on the classes, so they are computed once; bounded."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.kinds: dict[tuple[type[SchemaExtension], str], _Kind] = {}
        # by hook stage and tuple of extension classes
        self.stages: dict[tuple[str, tuple[type[SchemaExtension], ...]], _StagePlan] = {}
        self.results: dict[type[SchemaExtension], bool] = {}

    def kind(self, cls: type[SchemaExtension], name: str) -> _Kind:
        """How ``cls`` implements hook ``name``."""
        key = (cls, name)
        try:
            return self.kinds[key]
        except KeyError:
            pass
        hook = getattr(cls, name)
        kind: _Kind
        if hook is getattr(SchemaExtension, name):
            kind = None
        elif inspect.isgeneratorfunction(hook):
            kind = (contextlib.contextmanager(hook), False)
        elif inspect.isasyncgenfunction(hook):
            kind = (contextlib.asynccontextmanager(hook), True)
        else:
            kind = CALLABLE
        _bounded(self.kinds, self.max_entries)[key] = kind
        return kind

    def stage(self, name: str, extensions: list[SchemaExtension]) -> _StagePlan:
        """The positions of ``extensions`` that have hook ``name``, and their kinds."""
        key = (name, tuple(map(type, extensions)))
        plan = self.stages.get(key)
        if plan is None:
            found = ((i, self.kind(cls, name)) for i, cls in enumerate(key[1]))
            plan = tuple((i, kind) for i, kind in found if kind is not None)
            _bounded(self.stages, self.max_entries)[key] = plan
        return plan

    def has_results(self, cls: type[SchemaExtension]) -> bool:
        """Whether ``cls`` overrides ``get_results`` (strawberry's own answers ``{}``)."""
        found = self.results.get(cls)
        if found is None:
            found = cls.get_results is not SchemaExtension.get_results
            _bounded(self.results, self.max_entries)[cls] = found
        return found


def _bounded(table: dict[Any, Any], size: int) -> dict[Any, Any]:
    """``table``, emptied first when it holds ``size`` entries."""
    if len(table) >= size:
        table.clear()
    return table


class _Cached(ExtensionContextManagerBase):
    """The hooks of one stage, from the tables (a mix-in for the four contexts)."""

    __slots__ = ()

    def __init__(self, extensions: list[SchemaExtension], tables: HookTables) -> None:
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        hooks: list[WrappedHook] = []
        for i, kind in tables.stage(self.HOOK_NAME, extensions):
            extension = extensions[i]
            if kind is CALLABLE:
                wrapped = super().get_hook(extension)
                assert wrapped is not None
                hooks.append(wrapped)
            else:
                factory, is_async = kind
                hooks.append(
                    WrappedHook(extension, functools.partial(factory, extension), is_async)
                )
        self.hooks = hooks


class _Operation(_Cached, OperationContextManager):
    __slots__ = ()


class _Parsing(_Cached, ParsingContextManager):
    __slots__ = ()


class _Validation(_Cached, ValidationContextManager):
    __slots__ = ()


class _Executing(_Cached, ExecutingContextManager):
    __slots__ = ()


class CachedHooksRunner(SchemaExtensionsRunner):
    """strawberry's runner, opening its four per-request hook contexts from ``tables``."""

    def __init__(
        self,
        execution_context: ExecutionContext,
        extensions: list[SchemaExtension] | None = None,
        tables: HookTables | None = None,
    ) -> None:
        super().__init__(execution_context, extensions)
        self.tables = tables if tables is not None else HookTables()

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        """strawberry's merge of every extension's results, skipping the extensions whose
        class keeps strawberry's ``get_results`` (it answers ``{}``)."""
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if self.tables.has_results(type(extension)):
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions, self.tables)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions, self.tables)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions, self.tables)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions, self.tables)


class HookCachingSchema(strawberry.Schema):
    """A strawberry schema whose per-request extension runner is ``CachedHooksRunner``, over
    tables this schema owns (they die with it: a reload builds a new schema)."""

    _hook_tables: HookTables | None = None  # made on the first request

    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        if self._hook_tables is None:
            self._hook_tables = HookTables()
        return CachedHooksRunner(execution_context, extensions, self._hook_tables)

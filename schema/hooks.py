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

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext
from strawberry.utils.await_maybe import await_maybe

# What a class's hook is: no override (None), a context-manager factory and whether it is
# async, or CALLABLE (a plain function: strawberry wraps it per request, as before).
_Kind = tuple[Callable[..., Any], bool] | None
CALLABLE: _Kind = (lambda: None, False)  # a marker, compared by identity
_KINDS: dict[tuple[type[SchemaExtension], str], _Kind] = {}
# Per hook stage and tuple of extension classes (one per schema build): which positions
# have a hook, and of what kind.
_Plan = tuple[tuple[int, tuple[Callable[..., Any], bool]], ...]
_PLANS: dict[tuple[str, tuple[type[SchemaExtension], ...]], _Plan] = {}
# A reload builds a new schema (and new extension classes, e.g. the fast path's): the tables
# start over past this many entries rather than grow with every reload.
MAX_ENTRIES = 1024


def _kind(cls: type[SchemaExtension], name: str) -> _Kind:
    key = (cls, name)
    try:
        return _KINDS[key]
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
    if len(_KINDS) >= MAX_ENTRIES:
        _KINDS.clear()
    _KINDS[key] = kind
    return kind


def _plan(name: str, extensions: list[SchemaExtension]) -> _Plan:
    key = (name, tuple(map(type, extensions)))
    plan = _PLANS.get(key)
    if plan is None:
        found = ((i, _kind(cls, name)) for i, cls in enumerate(key[1]))
        plan = tuple((i, kind) for i, kind in found if kind is not None)
        if len(_PLANS) >= MAX_ENTRIES:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


class _Cached(ExtensionContextManagerBase):
    """The hooks of one stage, from the tables (a mix-in for the four contexts)."""

    __slots__ = ()

    def __init__(self, extensions: list[SchemaExtension]) -> None:
        self.default_hook = getattr(SchemaExtension, self.HOOK_NAME)
        hooks: list[WrappedHook] = []
        for i, kind in _plan(self.HOOK_NAME, extensions):
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


_RESULTS: dict[type[SchemaExtension], bool] = {}


def _has_results(cls: type[SchemaExtension]) -> bool:
    """Whether ``cls`` overrides ``get_results`` (strawberry's own answers ``{}``)."""
    found = _RESULTS.get(cls)
    if found is None:
        if len(_RESULTS) >= MAX_ENTRIES:
            _RESULTS.clear()
        found = _RESULTS[cls] = cls.get_results is not SchemaExtension.get_results
    return found


class CachedHooksRunner(SchemaExtensionsRunner):
    """strawberry's runner, opening its four per-request hook contexts from the table."""

    async def get_extensions_results(self, ctx: ExecutionContext) -> dict[str, Any]:
        """strawberry's merge of every extension's results, skipping the extensions whose
        class keeps strawberry's ``get_results`` (it answers ``{}``)."""
        data: dict[str, Any] = {}
        for extension in self.extensions:
            if _has_results(type(extension)):
                data.update(await await_maybe(extension.get_results()))
        data.update(ctx.extensions_results)
        return data

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

"""Validation results cached by query text, instead of by the parsed document.

strawberry's ``ValidationCache`` keys its LRU by ``(schema, document, rules)``, so every
request hashes the whole ``DocumentNode``: graphql-core's AST nodes hash recursively, field
by field, and are not cached — ~40 node hashes for a small query, on every request, before
the cache can answer. A document here always comes from its query text (the parser cache
turns the same text into the same document), and validation depends only on the schema,
the document and the rules, so ``(text, rules)`` is as good a key and hashes in O(1) (a
``str`` caches its hash). One cache per schema build, bounded, least recently used first
out. A request without a query text (none here today) is validated without the cache.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any

from graphql import GraphQLError
from strawberry.extensions import SchemaExtension

from schema.execution.strawberry_private import graphql_schema, validate_document

DEFAULT_SIZE = 256


class TextValidationCache:
    """Validation errors by (query text, validation rules), for one schema."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self.size = size
        # kept as tuples: each request gets its own list (extensions may add to it)
        self._errors: OrderedDict[tuple[str, Any], tuple[GraphQLError, ...]] = OrderedDict()
        self.hits = 0

    def validate(self, schema: Any, document: Any, text: str | None, rules: Any) -> list[Any]:
        """``validate_document``'s answer, from the cache when this text was validated."""
        if text is None:
            return validate_document(schema, document, rules)
        key = (text, rules)
        known = self._errors.get(key)
        if known is not None:
            self._errors.move_to_end(key)
            self.hits += 1
            return list(known)
        errors = validate_document(schema, document, rules)
        self._errors[key] = tuple(errors)
        if len(self._errors) > self.size:
            self._errors.popitem(last=False)
        return errors

    def __len__(self) -> int:
        return len(self._errors)

    def extension(self) -> Callable[[], SchemaExtension]:
        """The per-request extension factory that validates through this cache."""
        cache = self

        class ValidationByText(SchemaExtension):
            def on_validate(self) -> Iterator[None]:
                ctx = self.execution_context
                if ctx.pre_execution_errors is not None:
                    # Refused before validation (``schema/documents.py``): no rule runs.
                    yield
                    return
                ctx.pre_execution_errors = cache.validate(
                    graphql_schema(ctx.schema),
                    ctx.graphql_document,
                    ctx.query,
                    ctx.validation_rules,
                )
                yield

        return ValidationByText

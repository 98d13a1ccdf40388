"""Moved to ``schema.execution.projection``; kept so the types' ``register(...)`` calls import
from here unchanged while the field declarations are reworked (issue 19, item 2)."""

from schema.execution.projection import (
    PROJECTIONS,
    LazyList,
    Projection,
    RecordList,
    RecordView,
    register,
)

__all__ = ["PROJECTIONS", "LazyList", "Projection", "RecordList", "RecordView", "register"]

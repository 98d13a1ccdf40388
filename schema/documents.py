"""The document gate: every query text is parsed and measured in linear time, before any
validation rule sees it.

graphql-core's validation rules and strawberry's depth and alias limiters walk a document
with its fragment spreads *expanded*, without memoisation: fragments that each spread the
next one twice cost 2^n steps for a document of n lines (issue 15, item 1). This gate runs
first (it replaces strawberry's ``ParserCache``, ``MaxTokensLimiter``,
``QueryDepthLimiter`` and ``MaxAliasesLimiter``) and only lets through documents whose
expanded size is bounded, so every later pass — validation rules (including the quadratic
``OverlappingFieldsCanBeMergedRule``), the cost walker, fast-path compilation, execution —
works on a bounded tree:

1. **Nesting** of ``{``, ``[`` and ``(`` in the text (strings and comments skipped, one
   regular-expression scan) is at most ``max_nesting``: every later pass recurses along it,
   and graphql-core's parser itself only stops at Python's recursion limit.
2. **Parsing** with graphql-core, stopped after ``max_tokens`` tokens (``TOO_MANY_TOKENS``).
3. **One memoised walk** (each fragment measured once, whatever the number of spreads):
   per operation the number of field selections once fragments are expanded (over
   ``max_selections``: ``QUERY_TOO_COMPLEX``), the depth as strawberry counts it (root
   fields at 0, introspection fields not counted; over ``max_depth``: ``QUERY_TOO_DEEP``),
   aliases over the document (``TOO_MANY_ALIASES``), and how many introspection lists nest
   (``types`` → ``fields`` → ``args`` is 3, the most a real introspection query needs; more
   multiplies the answer by the schema's size at each level: ``QUERY_TOO_COMPLEX``), how
   many times ``__schema`` is selected (once: aliased copies repeat the whole schema), and
   the work ``OverlappingFieldsCanBeMergedRule`` would do on fields sharing a response
   name (quadratic in them: ``max_overlap``).

The outcome (a document or the refusal) is cached by query text, so a repeated text is
neither parsed nor measured again. A refused text reaches strawberry as a placeholder
document with the refusal as its pre-execution error: the request then ends like any
validation failure (every extension hook runs, the error is coded, nothing is executed).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSyntaxError,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    SelectionSetNode,
    Source,
    parse,
)
from strawberry.extensions import SchemaExtension

DEFAULT_SIZE = 256
INTROSPECTION_LISTS = frozenset(
    {"types", "fields", "args", "inputFields", "interfaces", "possibleTypes", "enumValues"}
)
MAX_INTROSPECTION_LISTS = 3  # __schema.types.fields.args: the standard introspection query
# The full introspection query is this schema's costliest (docs/security.md); aliases repeat it.
MAX_SCHEMAS = 1
PLACEHOLDER = parse("{ __typename }")  # what strawberry sees for a refused text

# Strings (block and plain) and comments, whose brackets do not nest, then the brackets.
# The alternatives inside a string start with distinct characters: no backtracking.
_BRACKETS = re.compile(
    r'"""(?:[^"\\]|\\(?!""")|\\"""|"(?!""))*"""'
    r'|"(?:[^"\\\n\r]|\\.)*"'
    r"|#[^\n\r]*"
    r"|[{}\[\]()]"
)
_OPENERS = frozenset("{[(")
_CLOSERS = frozenset("}])")


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What the gate lets through; ``0`` turns a limit off (not ``max_nesting``)."""

    max_tokens: int = 2_000
    max_depth: int = 15
    max_aliases: int = 30
    max_selections: int = 2_000
    max_nesting: int = 64
    # Fields sharing a response name, squared, times their size (``_Size.overlap``): what
    # OverlappingFieldsCanBeMergedRule compares; real queries score < 100.
    max_overlap: int = 5_000


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a text was refused: turned into a fresh ``GraphQLError`` for each request."""

    message: str
    code: str
    nodes: Sequence[Node] | None = None
    source: Source | None = None
    positions: Collection[int] | None = None

    def error(self) -> GraphQLError:
        return GraphQLError(
            self.message,
            nodes=self.nodes,
            source=self.source,
            positions=self.positions,
            extensions={"code": self.code},
        )


def nesting(text: str) -> tuple[int, int]:
    """The deepest bracket nesting of ``text`` outside strings and comments, and the offset
    where it is first reached. Unbalanced text only over-counts (parsing then fails)."""
    depth = deepest = at = 0
    for match in _BRACKETS.finditer(text):
        token = match.group()
        if token in _OPENERS:
            depth += 1
            if depth > deepest:
                deepest, at = depth, match.start()
        elif token in _CLOSERS:
            depth = max(0, depth - 1)
    return deepest, at


@dataclass(slots=True)
class _Size:
    """A selection set measured with its fragments expanded."""

    fields: int = 0  # field selections
    depth: int = 0  # strawberry's depth: levels of fields below this set
    aliases: int = 0
    lists: int = 0  # nested introspection lists
    schemas: int = 0  # ``__schema`` fields: each aliased copy is the whole schema again
    # Response keys at this level (through inline fragments and spreads): how many fields
    # answer each, and the largest sub-selection among them. Fields sharing a key are
    # compared pairwise, sub-selections included, by OverlappingFieldsCanBeMergedRule.
    keys: dict[str, int] = field(default_factory=dict)
    key_size: dict[str, int] = field(default_factory=dict)
    pairs: int = 0  # that rule's work in the sets below this level

    def overlap(self, cap: int) -> int:
        """The rule's work for this set: fields sharing a key, squared, times their size."""
        work = self.pairs
        for key, count in self.keys.items():
            if count > 1:
                work = min(cap, work + count * count * (1 + self.key_size[key]))
        return work


_EMPTY = _Size()


class _Measure:
    """Sizes of selection sets, each fragment measured once (linear in the document)."""

    def __init__(self, fragments: Mapping[str, FragmentDefinitionNode], cap: int) -> None:
        self.fragments = fragments
        self.cap = cap  # counts saturate here: a fan-out of 2^40 needs no exact figure
        self.done: dict[str, _Size] = {}
        self.active: set[str] = set()  # cycles are NoFragmentCyclesRule's to report

    def fragment(self, name: str) -> _Size:
        size = self.done.get(name)
        if size is not None:
            return size
        definition = self.fragments.get(name)
        if definition is None or name in self.active:
            return _EMPTY
        self.active.add(name)
        # A fragment on an introspection type (``__Type`` …) lists introspection.
        on_meta = definition.type_condition.name.value.startswith("__")
        size = self.selections(definition.selection_set, introspection=on_meta)
        self.active.discard(name)
        self.done[name] = size
        return size

    def selections(self, selection_set: SelectionSetNode, introspection: bool) -> _Size:
        total = _Size()
        cap = self.cap
        for sel in selection_set.selections:
            if isinstance(sel, FieldNode):
                part = self.field(sel, introspection)
                key = sel.alias.value if sel.alias is not None else sel.name.value
                total.keys[key] = min(cap, total.keys.get(key, 0) + 1)
                total.key_size[key] = max(total.key_size.get(key, 0), part.fields - 1)
                total.pairs = min(cap, total.pairs + part.pairs)
            else:
                if isinstance(sel, InlineFragmentNode):
                    cond = sel.type_condition
                    meta = cond is not None and cond.name.value.startswith("__")
                    part = self.selections(sel.selection_set, introspection or meta)
                elif isinstance(sel, FragmentSpreadNode):
                    part = self.fragment(sel.name.value)
                else:  # pragma: no cover - graphql-core has no other selection
                    continue
                # The fragment's fields join this level; its deeper work is its own.
                for key, count in part.keys.items():
                    total.keys[key] = min(cap, total.keys.get(key, 0) + count)
                    total.key_size[key] = max(total.key_size.get(key, 0), part.key_size[key])
                total.pairs = min(cap, total.pairs + part.pairs)
            total.fields = min(cap, total.fields + part.fields)
            total.aliases = min(cap, total.aliases + part.aliases)
            total.depth = max(total.depth, part.depth)
            total.lists = max(total.lists, part.lists)
            total.schemas = min(cap, total.schemas + part.schemas)
        return total

    def field(self, sel: FieldNode, introspection: bool) -> _Size:
        name = sel.name.value
        size = _Size(fields=1, aliases=1 if sel.alias is not None else 0)
        size.schemas = 1 if name == "__schema" else 0
        if sel.selection_set is None:
            return size
        inside = introspection or name.startswith("__")
        child = self.selections(sel.selection_set, inside)
        size.fields = min(self.cap, 1 + child.fields)
        size.aliases = min(self.cap, size.aliases + child.aliases)
        # strawberry's depth limiter skips introspection fields and what is below them.
        size.depth = 0 if name.startswith("__") else 1 + child.depth
        size.lists = child.lists + (1 if inside and name in INTROSPECTION_LISTS else 0)
        size.pairs = child.overlap(self.cap)
        size.schemas = min(self.cap, size.schemas + child.schemas)
        return size


def measure(document: DocumentNode, limits: DocumentLimits) -> Refusal | None:
    """The first limit ``document`` exceeds, if any (linear in its size)."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    cap = 1 + max(limits.max_selections, limits.max_aliases, limits.max_overlap, 1)
    walk = _Measure(fragments, cap)
    aliases = 0
    for op in document.definitions:
        if not isinstance(op, OperationDefinitionNode):
            continue
        size = walk.selections(op.selection_set, introspection=False)
        label = op.name.value if op.name else "anonymous"
        if limits.max_selections and size.fields > limits.max_selections:
            shown = f"more than {limits.max_selections}" if size.fields >= cap else size.fields
            return Refusal(
                f"'{label}' selects {shown} fields once its fragments are expanded; "
                f"at most {limits.max_selections} are allowed",
                "QUERY_TOO_COMPLEX",
                nodes=[op],
            )
        if limits.max_depth and size.depth > limits.max_depth:
            return Refusal(
                f"'{label}' exceeds maximum operation depth of {limits.max_depth}",
                "QUERY_TOO_DEEP",
                nodes=[op],
            )
        if size.lists > MAX_INTROSPECTION_LISTS:
            return Refusal(
                f"'{label}' nests {size.lists} introspection lists; at most "
                f"{MAX_INTROSPECTION_LISTS} are allowed (types → fields → args)",
                "QUERY_TOO_COMPLEX",
                nodes=[op],
            )
        if size.schemas > MAX_SCHEMAS:
            return Refusal(
                f"'{label}' selects __schema {size.schemas} times; once is enough",
                "QUERY_TOO_COMPLEX",
                nodes=[op],
            )
        overlap = size.overlap(cap)
        if limits.max_overlap and overlap > limits.max_overlap:
            return Refusal(
                f"'{label}' repeats the same response names too often for them to be "
                f"checked cheaply (work {overlap if overlap < cap else 'over ' + str(cap)}, at "
                f"most {limits.max_overlap}): select each field once",
                "QUERY_TOO_COMPLEX",
                nodes=[op],
            )
        aliases = min(cap, aliases + size.aliases)
    if limits.max_aliases and aliases > limits.max_aliases:
        shown = f"more than {limits.max_aliases}" if aliases >= cap else str(aliases)
        return Refusal(f"{shown} aliases found. Allowed: {limits.max_aliases}", "TOO_MANY_ALIASES")
    return None


def check(text: str, limits: DocumentLimits) -> DocumentNode | Refusal:
    """``text`` parsed, or why it is refused: nesting, tokens, syntax, then ``measure``."""
    deepest, at = nesting(text)
    if deepest > limits.max_nesting:
        return Refusal(
            f"the document nests brackets {deepest} deep; at most {limits.max_nesting} are allowed",
            "QUERY_TOO_DEEP",
            source=Source(text),
            positions=[at],
        )
    try:
        document = parse(text, max_tokens=limits.max_tokens or None)
    except GraphQLSyntaxError as exc:
        tokens = "tokens. Parsing aborted" in exc.message
        return Refusal(
            exc.message,
            "TOO_MANY_TOKENS" if tokens else "GRAPHQL_PARSE_FAILED",
            source=exc.source,
            positions=exc.positions,
        )
    refusal = measure(document, limits)
    return refusal if refusal is not None else document


class DocumentGate:
    """``check`` outcomes by query text (bounded, least recently used out), as a strawberry
    extension that replaces the parse step."""

    def __init__(self, limits: DocumentLimits, size: int = DEFAULT_SIZE) -> None:
        self.limits = limits
        self.size = size
        self._outcomes: OrderedDict[str, DocumentNode | Refusal] = OrderedDict()

    def outcome(self, text: str) -> DocumentNode | Refusal:
        found = self._outcomes.get(text)
        if found is not None:
            self._outcomes.move_to_end(text)
            return found
        found = check(text, self.limits)
        self._outcomes[text] = found
        if len(self._outcomes) > self.size:
            self._outcomes.popitem(last=False)
        return found

    def extension(self) -> Callable[[], SchemaExtension]:
        """The per-request extension factory (in place of strawberry's ``ParserCache``)."""
        gate = self

        class GateDocuments(SchemaExtension):
            def on_parse(self) -> Iterator[None]:
                ctx = self.execution_context
                if ctx.graphql_document is None and ctx.query:
                    found = gate.outcome(ctx.query)
                    if isinstance(found, Refusal):
                        # Refused like a validation failure: ``validation.py`` keeps this
                        # error and strawberry runs no rule and nothing else.
                        ctx.graphql_document = PLACEHOLDER
                        ctx.pre_execution_errors = [found.error()]
                    else:
                        ctx.graphql_document = found
                yield

        return GateDocuments

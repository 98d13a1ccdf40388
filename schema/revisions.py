"""Series revisions, test results and test state — the freedesktop Patchwork fork's model,
mapped so that upstream Patchwork series answer the same fields.

Choice for upstream Patchwork (whose series *are* one version each, a new version being a
new series): ``revisions`` is a one-element list, the series itself — its version, its cover
letter's text, its patches, its mbox; its ``testResults`` are the checks of its patches and
``testState`` their rollup. ``stateSummary`` counts the patches' states for both kinds (fdo:
as the server reports it for the latest revision). ``reviewer``, ``updatedAt`` and
``progress`` exist only on fdo and are ``null`` elsewhere.

Loaders are the request's, keyed per (backend, entity): a page of fdo series costs one
revisions list per series asked for, one test-results list per revision, and each person
(submitter, reviewer) at most once per request.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from operator import attrgetter
from typing import Annotated, ClassVar

import strawberry

from adapters import base, model
from adapters.errors import UpstreamError
from schema import descriptions as doc
from schema import node
from schema.context import Info
from schema.errors import UserInputError
from schema.mutations import MutationError
from schema.mutations import _error as mutation_error
from schema.types import ChangeRevision, Check, CheckState, Node, Patch, Person
from schema.unified import unified

FINAL = frozenset(
    {model.ChangeState.MERGED, model.ChangeState.CLOSED, model.ChangeState.SUPERSEDED}
)


async def revisions_of(info: Info, backend: str, series_id: str) -> list[model.Revision]:
    """Every revision of a series on a revision-tracking backend (batched per request)."""
    src = info.context.capable(backend, base.RevisionReader, "revisions")
    result: list[model.Revision] = await info.context.load(
        backend, "revisions", src.series_revisions, series_id
    )
    return result


async def series_patches(
    info: Info, backend: str, series_id: str, known: model.Series | None = None
) -> list[model.Patch]:
    """An upstream series' patches in the series' own order (shared within the request).

    Patchwork lists ``/patches/?series=N`` in patch-id order, which is not the series order
    (a v2 may reuse older ids for later patches); the series record's ``patches`` array is
    the order the submitter sent them in, so the listing is arranged by it. ``known`` is the
    series record when the caller already has it (no second read)."""
    src = info.context.capable(backend, base.PatchReader, "patches")
    if known is not None:
        info.context._loader(backend, "series", _series_reader(info, backend)).prime(
            series_id, known
        )

    async def batch(ids: Sequence[str]) -> list[list[model.Patch]]:
        return [await _in_series_order(info, src, backend, sid) for sid in ids]

    result: list[model.Patch] = await info.context.load(backend, "series-patches", batch, series_id)
    return result


def _series_reader(
    info: Info, backend: str
) -> Callable[[Sequence[str]], Awaitable[Sequence[model.Series | None]]]:
    return info.context.capable(backend, base.SeriesReader, "series").get_series


async def _in_series_order(
    info: Info, src: base.PatchReader, backend: str, series_id: str
) -> list[model.Patch]:
    full = (
        await info.context.series(backend, series_id)
        if base.provides(info.context.source(backend), base.SeriesReader)
        else None
    )
    order = [ref.id for ref in full.patches] if full is not None else []
    # every patch of the series in one listing when the record says how many there are
    count = max(len(order), 100)
    page = await src.list_patches(base.PatchFilter(series=series_id), model.PageRequest(0, count))
    if not order:
        return list(page.items)
    listed = {p.id: p for p in page.items}
    out: list[model.Patch] = []
    for pid in order:
        found = listed.pop(pid, None) or await info.context.patch(backend, pid)
        if found is not None:
            out.append(found)
    out.extend(listed.values())  # listed but not (yet) in the record: after, in id order
    return out


@strawberry.type(description="How many patches of the latest revision are in one state.")
class StateCount:
    name: str = strawberry.field(description="The raw state, as the backend names it.")
    count: int = strawberry.field(description="How many patches are in it.")
    final: bool = strawberry.field(description="Whether the state is a final decision.")


def state_summary(patches: Sequence[model.Patch]) -> list[StateCount]:
    """Counts of raw patch states, in first-seen order."""
    counts: dict[str, tuple[int, bool]] = {}
    for p in patches:
        n, _ = counts.get(p.raw_state, (0, False))
        counts[p.raw_state] = (n + 1, p.state in FINAL)
    return [StateCount(name=k, count=n, final=f) for k, (n, f) in counts.items()]


@unified(
    model.Revision,
    keep="_record",
    private={
        "cover_letter_text": attrgetter("cover_letter"),
        "_backend": attrgetter("backend"),
        "_series_id": attrgetter("series_id"),
        "_series": lambda r: None,
        "_sha": lambda r: None,
    },
)
@unified(
    model.SeriesRef,
    keep=None,
    private={
        "cover_letter_text": lambda r: None,
        "_backend": attrgetter("backend"),
        "_series_id": attrgetter("id"),
        "_record": lambda r: None,
        "_series": lambda r: r if isinstance(r, model.Series) else None,
        "_sha": lambda r: None,
    },
    name="of_ref",
)
@strawberry.type(description="One version of a series: cover letter, patches, test results.")
class Revision(Node, ChangeRevision):
    version: int = strawberry.field(description="The series version (1, 2 …).")
    cover_letter_text: strawberry.Private[str | None]
    mbox_url: str | None = strawberry.field(description=doc.MBOX_URL)
    _backend: strawberry.Private[str]
    _series_id: strawberry.Private[str]
    _record: strawberry.Private[model.Revision | None]
    _series: strawberry.Private[model.Series | None]
    _sha: strawberry.Private[str | None]  # set by Patch.currentRevision: the commit_ref

    @strawberry.field(description="Global ID of the revision.")  # type: ignore[misc]
    def id(self) -> strawberry.ID:
        return strawberry.ID(
            node.encode("Revision", self._backend, f"{self._series_id}/{self.version}")
        )

    @strawberry.field(description="The series version.")
    def number(self) -> int | None:
        return self.version

    @strawberry.field(
        description="The commit a patch was applied as, on a patch's currentRevision "
        "(Patchwork's commitRef when it is a whole sha; no request); null otherwise: a "
        "series revision is mails, not a commit."
    )
    def sha(self) -> str | None:
        return self._sha

    @strawberry.field(
        description="The cover letter's text (may read the series and letter, batched; null: "
        "no cover letter, or a read failed)."
    )
    async def cover_letter(self, info: Info) -> str | None:
        if self._record is None and self._series is None:
            # Known by reference only (a patch's inline series): read the series once.
            self._series = await info.context.series(self._backend, self._series_id)
        if self._series is None or self._series.cover is None:
            return self.cover_letter_text
        cover = await info.context.cover(self._backend, self._series.cover.id)
        return cover.content if cover else None

    @strawberry.field(
        description="The revision's patches in series order (one list or batched reads per "
        "revision)."
    )
    async def patches(self, info: Info) -> list[Patch]:
        if self._record is None:
            ordered = await series_patches(info, self._backend, self._series_id, self._series)
            return [Patch.of(p) for p in ordered]
        found = [await info.context.patch(self._backend, pid) for pid in self._record.patch_ids]
        return [Patch.of(p) for p in found if p is not None]

    async def _results(self, info: Info) -> list[model.Check]:
        if self._record is not None:
            return await info.context.test_results(self._backend, self._record.key)
        patches = await series_patches(info, self._backend, self._series_id, self._series)
        out: list[model.Check] = []
        for p in patches:
            out.extend(await info.context.checks(self._backend, p.id))
        return out

    @strawberry.field(
        description="Test results (fdo: one batched list per revision) or the checks of its "
        "patches (upstream: one list per patch)."
    )
    async def test_results(self, info: Info) -> list[Check]:
        return [Check.of(c) for c in await self._results(info)]

    @strawberry.field(
        description="The rollup of testResults: any failure, else pending, else warning, else "
        "success (null: no result yet)."
    )
    async def test_state(self, info: Info) -> CheckState | None:  # type: ignore[valid-type]
        if self._record is not None:  # a series list this request read may tell it
            told = info.context.listed_check_state(self._backend, self._record)
            if told is not None:
                return told[0]
        return model.rollup([c.state for c in await self._results(info)])

    @strawberry.field(
        description="The revision as one mbox (patchwork-fdo: one download; null elsewhere, "
        "use Series.mbox)."
    )
    async def mbox(
        self,
        info: Info,
        link: Annotated[
            str | None,
            strawberry.argument(
                description="A tag name: each patch gets a '<link>: <its URL>' trailer "
                "(e.g. Link); null: none."
            ),
        ] = None,
    ) -> str | None:
        if self._record is None:
            return None
        src = info.context.capable(self._backend, base.RevisionReader, "mbox")
        return await src.revision_mbox(self._record.key, link)

    of: ClassVar[Callable[[model.Revision], Revision]]  # built by @unified
    # An upstream series as its own single revision, from a full record or an inline
    # reference (the series is then read only if a field needs it).
    of_ref: ClassVar[Callable[[model.SeriesRef | model.Series], Revision]]


# --- the Series fields (called from schema.types_series.Series) -----------------------------


def tracked(full: model.Series | None) -> model.TrackedSeries | None:
    """The record as a revision-tracking series, or ``None`` for other kinds."""
    return full if isinstance(full, model.TrackedSeries) else None


async def revisions(info: Info, full: model.Series) -> list[Revision]:
    """``Series.revisions``."""
    if base.provides(info.context.source(full.backend), base.RevisionReader):
        return [Revision.of(r) for r in await revisions_of(info, full.backend, full.id)]
    return [Revision.of_ref(full)]


async def test_state(info: Info, full: model.Series) -> model.CheckState | None:
    """``Series.testState``: fdo's own, else the rollup of the patches' checks."""
    if (t := tracked(full)) is not None:
        return t.test_state
    patches = await series_patches(info, full.backend, full.id, full)
    return model.rollup([p.check_state for p in patches if p.check_state is not None])


async def summary(info: Info, full: model.Series) -> list[StateCount]:
    """``Series.stateSummary``."""
    if (t := tracked(full)) is not None:
        return [StateCount(name=s.name, count=s.count, final=s.final) for s in t.state_summary]
    return state_summary(await series_patches(info, full.backend, full.id, full))


async def person(info: Info, backend: str, person_id: str | None) -> Person | None:
    """A person the backend referenced by id, through the request's batched loader."""
    if person_id is None:
        return None
    return Person.of(await info.context.person(backend, person_id))


# --- the mutation ----------------------------------------------------------------------------


@strawberry.input(description="A test result for one revision of a series.")
class ReportTestResultInput:
    series_id: strawberry.ID = strawberry.field(description="The Series ID (patchwork-fdo).")
    version: int = strawberry.field(description="The revision's version, 1 or more.")
    test_name: str = strawberry.field(description="Identifies the test; a re-report updates it.")
    state: CheckState = strawberry.field(  # type: ignore[valid-type]
        description="The result."
    )
    url: str | None = strawberry.field(
        default=None, description="Where the test's details are (null: none)."
    )
    summary: str | None = strawberry.field(
        default=None, description="A short text shown with the result (null: none)."
    )


@strawberry.type(description="What reportTestResult did.")
class ReportTestResultPayload:
    test_result: Check | None = strawberry.field(
        description="The result as stored (null: it was not, see errors)."
    )
    errors: list[MutationError] = strawberry.field(description=doc.PAYLOAD_ERRORS)


@strawberry.type
class RevisionMutation:
    @strawberry.mutation(
        description="Create or update (same testName) a test result on a series revision "
        "(patchwork-fdo)."
    )
    async def report_test_result(
        self,
        info: Info,
        input: Annotated[
            ReportTestResultInput, strawberry.argument(description="The result to report.")
        ],
    ) -> ReportTestResultPayload:
        try:
            gid = node.decode(str(input.series_id), "Series")
            src = info.context.capable(gid.backend, base.ResultReporter, "test results")
            if not input.test_name.strip():
                raise UserInputError("testName must not be empty")
            if input.version < 1:
                raise UserInputError("version must be 1 or more")
            result = model.NewTestResult(
                test_name=input.test_name, state=input.state, url=input.url, summary=input.summary
            )
            check = await src.report_test_result(f"{gid.native}/{input.version}", result)
        except (UpstreamError, UserInputError) as exc:
            return ReportTestResultPayload(test_result=None, errors=[mutation_error(exc)])
        return ReportTestResultPayload(test_result=Check.of(check), errors=[])

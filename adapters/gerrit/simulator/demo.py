"""The demo's data for Gerrit: the seed and generated changes plus the demo timeline.

``demo_data()`` adds Ada Lovelace's account (username ``ada``) and the twin series
(``adapters/demo``) pushed to the project ``kernel/net``: one change per commit, each commit
message with its ``Change-Id:`` and ``Link:`` trailers and its revision sha the real git sha
(the first change merged, so Patchwork's ``commit_ref`` names it), the file's lines before and
after (so ``/patch`` gives git's diff), CI Bot's Verified votes and the reviewers' votes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from adapters.demo import ADA_EMAIL, ADA_NAME, ADA_PASSWORD, ADA_USERNAME, TwinCommit, moment, twin
from adapters.gerrit.simulator.data import (
    ChangeData,
    FileData,
    GerritData,
    Json,
    RevisionData,
    fake_sha,
    ts,
)

ADA = 1000400
ADMIN, JOHN, JANE, CI_BOT = 1000000, 1000096, 1000097, 1000200  # the seed's accounts
PROJECT = "kernel/net"
TOPIC = "skb-release-uaf"
BASE_SUBJECT = "net: skbuff: import the release path"
DEMO_CHANGES = 40  # generated changes under the timeline (what `revgate demo` always served)


def demo_data(now: datetime | None = None, generated: int = DEMO_CHANGES) -> GerritData:
    """The seed, ``generated`` generated changes and the demo timeline as of ``now``."""
    data = GerritData.generated(generated)
    add_timeline(data, (now or datetime.now(UTC)).replace(microsecond=0))
    return data


def add_timeline(data: GerritData, now: datetime) -> None:
    """Ada's account, the project and the two changes of the twin series."""
    t = twin()
    data.accounts[ADA] = {
        "_account_id": ADA,
        "name": ADA_NAME,
        "email": ADA_EMAIL,
        "username": ADA_USERNAME,
        "http_password": ADA_PASSWORD,
    }
    data.projects[PROJECT] = {"description": "Linux networking (the demo's twin series)"}
    data.branches[PROJECT] = {"master"}
    author: Json = {
        "name": ADA_NAME,
        "email": ADA_EMAIL,
        "date": ts(datetime.fromisoformat(t.author_date)),
        "tz": 0,
    }
    parent = (t.base, BASE_SUBJECT)
    for n, commit in enumerate(t.commits, 1):
        change = _change(data, commit, n, parent, author, now)
        data.changes[change.number] = change
        parent = (commit.sha, commit.subject)
    _neighbour(data, now)


def _neighbour(data: GerritData, now: datetime) -> None:
    """Jane Roe's change of a few hours ago on the project ``gerrit``, which CI Bot fails:
    recent work that is not Ada's."""
    number = data.next_number()
    pushed = moment("jane_pushed", now)
    subject = "Suggest groups as reviewers only when they are visible"
    old = ["def suggest(account, query):", "    return accounts(query) + groups(query)"]
    new = [old[0], "    return accounts(query) + visible_groups(account, query)"]
    change = ChangeData(
        number=number,
        project="gerrit",
        branch="master",
        change_id=f"I{fake_sha('demo', 'jane', number)}",
        subject=subject,
        status="NEW",
        created=pushed,
        updated=pushed,
        owner=JANE,
        revisions=[
            RevisionData(
                sha=fake_sha("demo", "jane", number, 1),
                number=1,
                created=pushed,
                uploader=JANE,
                files={"reviewers/suggest.py": FileData(old, new)},
                parent=(fake_sha("gerrit", "base"), "Base commit"),
                message=f"{subject}\n\nChange-Id: I{fake_sha('demo', 'jane', number)}\n",
            )
        ],
    )
    _message(change, JANE, pushed, "Uploaded patch set 1.")
    failed = moment("jane_pushed", now, seconds=9000)
    _vote(change, CI_BOT, "Verified", -1, failed, "Build failed: 2 tests fail")
    data.changes[number] = change


def _change(
    data: GerritData,
    commit: TwinCommit,
    n: int,
    parent: tuple[str, str],
    author: Json,
    now: datetime,
) -> ChangeData:
    pushed = moment("pushed", now, seconds=n)
    revision = RevisionData(
        sha=commit.sha,
        number=1,
        created=pushed,
        uploader=ADA,
        files={twin().path: FileData(commit.before.splitlines(), commit.after.splitlines())},
        parent=parent,
        message=commit.message,
        author=author,
    )
    change = ChangeData(
        number=data.next_number(),
        project=PROJECT,
        branch="master",
        change_id=commit.change_id,
        subject=commit.subject,
        status="NEW",
        created=pushed,
        updated=pushed,
        owner=ADA,
        revisions=[revision],
        topic=TOPIC,
        reviewers=[CI_BOT],
    )
    _message(change, ADA, pushed, "Uploaded patch set 1.")
    _vote(change, CI_BOT, "Verified", 1, moment("verified", now), "Build successful")
    if n == 1:
        approved = moment("merged", now)
        _vote(change, ADMIN, "Code-Review", 2, approved - timedelta(minutes=1), "")
        change.status = "MERGED"
        _message(change, ADMIN, approved, "Change has been successfully merged.")
    else:
        note = "Reading the list before the head is freed is the right order."
        _vote(change, JOHN, "Code-Review", 1, moment("voted", now), note)
    return change


def _vote(change: ChangeData, who: int, label: str, value: int, when: datetime, note: str) -> None:
    if who not in change.reviewers:
        change.reviewers.append(who)
    change.votes.setdefault(label, {})[who] = value
    change.vote_dates[(label, who)] = when
    text = f"Patch Set 1: {label}{value:+d}" + (f"\n\n{note}" if note else "")
    _message(change, who, when, text)


def _message(change: ChangeData, who: int, when: datetime, text: str) -> None:
    change.messages.append(
        {
            "id": fake_sha("demo", change.number, len(change.messages))[:6],
            "author": who,
            "date": ts(when),
            "message": text,
            "_revision_number": 1,
        }
    )
    change.updated = max(change.updated, when)

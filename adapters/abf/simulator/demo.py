"""The demo's data for ABF: the seed and generated data plus the demo timeline.

``demo_data()`` adds Ada Lovelace (user ``ada``; ABF's API shows no emails), her branch
``skb-release-uaf`` of the project ``rosa/kernel`` at the twin series' second commit
(``adapters/demo``), the pull request of that branch into ``master`` (at the series' base)
with both commits and the changed file, assigned for review, and the build of its head.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

from adapters.abf.simulator.data import AbfData, BuildList, Pull, User
from adapters.demo import (
    ADA_EMAIL,
    ADA_NAME,
    ADA_PASSWORD,
    ADA_USERNAME,
    TwinCommit,
    moment,
    twin,
)

ADA = 4
KERNEL = 668  # the generated project "rosa/kernel"
OLGA = 3  # its maintainer
BRANCH = "skb-release-uaf"


def demo_data(now: datetime | None = None) -> AbfData:
    """``AbfData.from_seed()`` plus the demo timeline as of ``now``."""
    data = AbfData.from_seed()
    add_timeline(data, now or datetime.now(UTC))
    return data


def _seconds(name: str, now: datetime) -> int:
    return int(moment(name, now).timestamp())


def add_timeline(data: AbfData, now: datetime) -> None:
    """Ada, her branch, the pull request of the twin series' head and its build."""
    t = twin()
    data.users[ADA] = User(ADA, ADA_USERNAME, ADA_NAME, ADA_EMAIL, ADA_PASSWORD)
    kernel = data.projects[KERNEL]
    kernel.members.add(ADA)
    kernel.refs["master"] = t.base
    kernel.refs[BRANCH] = t.commits[-1].sha
    number = 1 + max(n for (pid, n) in data.pulls if pid == KERNEL)
    opened = _seconds("pull_request", now)
    pull = Pull(
        db_id=data._db_id(),
        project=KERNEL,
        number=number,
        title=t.series,
        body=f"{t.cover_content}\nLink: https://lore.kernel.org/r/{t.cover_msgid.strip('<>')}\n",
        status="ready",
        owner=ADA,
        to_ref="master",
        from_ref=BRANCH,
        from_project=KERNEL,
        created_at=opened,
        updated_at=_seconds("assigned", now),
        assignee=OLGA,
        commits=[_commit(c, t.author_date) for c in t.commits],
        files=[_file(t.path, t.commits)],
    )
    data.pulls[(KERNEL, number)] = pull
    build = max(data.build_lists) + 1
    data.build_lists[build] = BuildList(
        id=build,
        project=KERNEL,
        user=ADA,
        arch_id=1,
        platform_id=1,
        repository_id=10,
        status=0,  # build complete
        commit_hash=t.commits[-1].sha,
        created_at=opened + 600,
        updated_at=_seconds("built", now),
        duration=_seconds("built", now) - opened - 600,
        include_repos=[10],
    )
    _neighbour(data, now)


PETR, HWINFO = 2, 667  # the seed's petr and his project hwinfo


def _neighbour(data: AbfData, now: datetime) -> None:
    """petr's pull request on hwinfo, opened hours ago and updated since: recent work that is
    not Ada's."""
    number = 1 + max(n for (pid, n) in data.pulls if pid == HWINFO)
    pull = Pull(
        db_id=data._db_id(),
        project=HWINFO,
        number=number,
        title="Update to 2.1.4",
        body="New upstream release: reads the DMI tables of newer boards.",
        status="open",
        owner=PETR,
        to_ref="master",
        from_ref="devel",
        from_project=HWINFO,
        created_at=_seconds("petr_opened", now),
        updated_at=_seconds("petr_opened", now) + 4 * 3600,
        assignee=None,
    )
    pull.commits = [data._commit(pull, 0)]
    pull.files = [data._file(pull, 0, random.Random(pull.db_id))]
    data.pulls[(HWINFO, number)] = pull


def _commit(c: TwinCommit, author_date: str) -> dict[str, Any]:
    when = str(int(datetime.fromisoformat(author_date).timestamp()))
    person = {"name": ADA_NAME, "email": ADA_EMAIL, "date": when}
    return {
        "sha": c.sha,
        "https_url": f"commit/{c.sha}",
        "author": person,
        "committer": dict(person),
        "message": c.message,
        "tree": {"sha": c.tree, "https_url": f"tree/{c.tree}"},
        "parents": [{"sha": c.parent, "https_url": f"commit/{c.parent}"}],
    }


def _file(path: str, commits: tuple[TwinCommit, ...]) -> dict[str, Any]:
    additions = sum(c.additions for c in commits)
    deletions = sum(c.deletions for c in commits)
    return {
        "sha": commits[-1].blob,
        "filename": path,
        "status": "modified",
        "additions": str(additions),
        "deletions": str(deletions),
        "changes": str(additions + deletions),
        "blob_https_url": f"blob/{BRANCH}/{path}",
        "raw_https_url": f"raw/{BRANCH}/{path}",
    }

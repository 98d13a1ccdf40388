"""Every file and module a comment, docstring or document names exists.

A renamed or removed file leaves its name behind in prose (``PERFORMANCE.md`` outlived its
file); this finds such names in the code's comments and docstrings and in the Markdown
documents, so the reader is never sent to nothing.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
CODE = ("gateway", "schema", "adapters", "bench")
# A Markdown file named anywhere (PERFORMANCE.md, docs/compat.md, bench/README.md).
MD = re.compile(r"(?<![\w/.-])((?:[\w.-]+/)*[\w.-]+\.md)\b")
# A path into the repository: a top-level folder, then a file or folder.
TOP = (*CODE, "tests", "docs", "docker", "examples", ".ci")
PATH = re.compile(r"(?<![\w/.-])((?:" + "|".join(re.escape(t) for t in TOP) + r")/[\w./*-]*[\w*])")
# A bare Python file name (``render.py``): beside the text, or anywhere in the repository.
BARE_PY = re.compile(r"(?<![\w/.<>-])(\w+\.py)\b")
# A dotted module path: gateway.x, schema.x.y, adapters.kind.module (an attribute may follow).
FILE_TYPES = frozenset({"graphql", "json", "md", "py", "toml", "yaml", "cfg", "txt"})
DOTTED = re.compile(r"(?<![\w./-])((?:gateway|schema|adapters|bench)(?:\.[A-Za-z_]\w*)+)")


def _prose(path: Path) -> Iterator[tuple[int, str]]:
    """(line, text) of each comment and docstring of a Python file; every line of a Markdown
    other file (Markdown, pyproject.toml, the Makefile)."""
    text = path.read_text(encoding="utf-8")
    if path.suffix != ".py":
        yield from enumerate(text.splitlines(), 1)
        return
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type == tokenize.COMMENT:
            yield tok.start[0], tok.string
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            doc = ast.get_docstring(node, clean=False)
            if doc and node.body:
                yield node.body[0].lineno, doc


def _exists(name: str, near: Path) -> bool:
    """A file or folder (from the root, beside the text, or in docs/), a module named without
    its ``.py`` (``tests/schema/test_fastpath`` for its family), or ``module.attribute``."""
    name = name.rstrip(".")
    if all(part in TOP for part in name.split("/")):
        return True  # a list of folders: gateway/schema/adapters
    stem, _, attribute = name.rpartition(".")
    candidates = [name, f"{name}*", f"{stem}.py" if attribute.isidentifier() else name]
    return any(any(base.glob(c)) for base in (ROOT, near, ROOT / "docs") for c in candidates)


def _module_exists(dotted: str) -> bool:
    """``a.b.c`` is a module or package, or an attribute defined in the longest module prefix."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        base = ROOT.joinpath(*parts[:cut])
        module = base.with_suffix(".py") if not base.is_dir() else base / "__init__.py"
        if not module.exists():
            continue
        rest = parts[cut:]
        if not rest:
            return True
        source = module.read_text(encoding="utf-8")
        return re.search(rf"^\s*(?:async def|def|class)?\s*{rest[0]}\b", source, re.M) is not None
    return False


_PY_FILES = frozenset(
    p.name for p in ROOT.rglob("*.py") if not {".venv", "build", ".git"} & set(p.parts)
)


def _sources() -> list[Path]:
    files = [
        p for top in CODE for p in (ROOT / top).rglob("*.py") if "simulator/seed" not in str(p)
    ]
    docs = [*ROOT.glob("*.md"), *(ROOT / "docs").glob("*.md"), *(ROOT / "bench").glob("*.md")]
    return sorted(files + docs + [ROOT / "pyproject.toml", ROOT / "Makefile"])


def dangling(path: Path) -> list[str]:
    found: list[str] = []
    for line, text in _prose(path):
        for name in MD.findall(text) + PATH.findall(text):
            if not _exists(name, path.parent):
                found.append(f"{path.relative_to(ROOT)}:{line}: {name}")
        for bare in BARE_PY.findall(text):
            if not (path.parent / bare).exists() and bare not in _PY_FILES:
                found.append(f"{path.relative_to(ROOT)}:{line}: {bare}")
        for dotted in DOTTED.findall(text):
            if dotted.rsplit(".", 1)[-1] in FILE_TYPES:
                continue  # a file name (schema.graphql), checked as a path
            if not _module_exists(dotted.rstrip(".")):
                found.append(f"{path.relative_to(ROOT)}:{line}: {dotted}")
    return found


def test_doc_references_name_existing_files_and_modules() -> None:
    missing = sorted({entry for path in _sources() for entry in dangling(path)})
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize(
    "text",
    [
        "# fast JSON (PERFORMANCE.md)\n",
        '"""See docs/nowhere.md."""\n',
        "# read gateway/absent.py\n",
        "# shapes come from ``simulator_render.py``\n",
        '"""``schema.fastpath.NoSuchThing`` compiles plans."""\n',
    ],
)
def test_doc_references_a_dead_name_is_found(tmp_path: Path, text: str) -> None:
    probe = ROOT / "gateway" / "_probe_doc_references.py"
    assert not probe.exists()
    try:
        probe.write_text(text)
        assert dangling(probe), text
    finally:
        probe.unlink()

"""The ``revgate`` command: ``serve``, ``demo``, ``check-config``, ``schema``, ``hash-key``.

``DESCRIPTION`` is what ``revgate --help`` shows (plain text: argparse prints no markup).

argparse (stdlib) is enough for four sub-commands with a handful of options; it keeps the
runtime dependencies to the fixed set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import os
import socket
import sys
from collections.abc import Collection, Coroutine, Mapping, Sequence
from typing import Any

import orjson
import uvicorn

from adapters import simulator_common
from adapters.kinds import KINDS
from adapters.patchwork import kind as patchwork_kind
from adapters.patchwork_fdo import kind as fdo_kind
from adapters.plugin import AdapterKind, Demo, Simulator
from gateway.app import create_app
from gateway.auth import hash_key
from gateway.logs import FORMATS, configure_logging
from gateway.settings import (
    ConfigError,
    Settings,
    check_config,
    config_path,
    load_settings,
    settings_from_dict,
)
from gateway.tracing import Tracing, TracingError, tracing_from_env
from gateway.wire import HEADER_TIMEOUT, http_protocol

log = logging.getLogger("revgate")

# The demo's REST compat token: public on purpose (the demo listens on loopback over
# simulators), printed with the client settings so git-pw, pwclient and b4 work at once.
DEMO_COMPAT_TOKEN = "revgate-demo-compat-token"
# The simulators' demo credentials (each kind's Demo), named here for the tests that use them.
DEMO_ADMIN_TOKEN = patchwork_kind.DEMO_ADMIN_TOKEN
DEMO_FDO_CI_TOKEN = fdo_kind.DEMO_CI_TOKEN
DESCRIPTION = (
    "revgate: one GraphQL API over Patchwork, Gerrit and ABF, with each system's REST API "
    "re-served for existing clients. Start with `revgate demo`."
)


class PortInUse(Exception):
    """The address to listen on is taken (said before any URL is printed)."""


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` for uvicorn; ``PortInUse`` with a hint if it is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortInUse(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); "
            f"choose another port: --port {port + 1} (make demo PORT={port + 1})"
        ) from None
    sock.set_inheritable(True)
    return sock


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="revgate", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="serve the gateway over the configured backends")
    serve.add_argument("--config", help="TOML config file (default: $REVGATE_CONFIG)")
    serve.add_argument("--host", help="override [server] host")
    serve.add_argument("--port", type=int, help="override [server] port")
    for sub_parser in (
        serve,
        demo := sub.add_parser("demo", help="serve the gateway over embedded demo backends"),
    ):
        sub_parser.add_argument(
            "--log-format",
            choices=FORMATS,
            default=os.environ.get("REVGATE_LOG_FORMAT", "text"),
            help="text (default) or json, one object per line ($REVGATE_LOG_FORMAT)",
        )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    simulator_common.latency_argument(demo, "the demo's simulators answer")
    check = sub.add_parser("check-config", help="report every mistake in a config file")
    check.add_argument("--config", help="TOML config file (default: $REVGATE_CONFIG)")
    sub.add_parser("schema", help="print the GraphQL schema (SDL)")
    persist = sub.add_parser(
        "persist",
        help="write the trusted-documents manifest of .graphql files (or --list one)",
        description="Each named operation of the files (with the fragments it uses) becomes "
        "one trusted document; the manifest goes to stdout or --output. [server] "
        "trusted_documents names it; persisted_only = true then runs nothing else.",
    )
    persist.add_argument("files", nargs="*", help=".graphql files of named operations")
    persist.add_argument("--output", "-o", help="write the manifest here (default: stdout)")
    persist.add_argument("--list", metavar="MANIFEST", help="check a manifest and list it")
    sub.add_parser(
        "hash-key", help="print the sha256 for [[api_keys]] of an API key read from stdin"
    )
    return parser


def uvicorn_server(app: Any, host: str, port: int, **options: Any) -> uvicorn.Server:
    """The uvicorn server ``serve`` and ``demo`` run (tests run the same one)."""
    # log_config=None: our logging set-up (text or JSON) applies to uvicorn's loggers too.
    # On SIGTERM/SIGINT uvicorn stops accepting, drains in-flight requests (up to 30 s), exits.
    # http: uvicorn's httptools protocol, but writing response header names as the app
    # spelled them (REST compat clients match Patchwork's "Link" case-sensitively; plain
    # httptools lower-cases them, and h11, which keeps them, is slower): gateway/wire.py.
    options = {
        "log_config": None,
        "timeout_graceful_shutdown": 30,
        # [server] header_timeout, which create_app leaves on the app's state
        "http": http_protocol(
            getattr(getattr(app, "state", None), "header_timeout", HEADER_TIMEOUT)
        ),
        **options,
    }
    config = uvicorn.Config(app, host=host, port=port, **options)
    return uvicorn.Server(config)


def _run_loop(main: Coroutine[Any, Any, None]) -> None:
    """Run ``main`` on the event loop ``serve`` runs on (uvicorn's choice: uvloop when it is
    installed), so the demo answers as fast as a served gateway."""
    factory = uvicorn.Config(app="unused:app", loop="auto").get_loop_factory()
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(main)


def _serve(
    path: str | None, settings: Settings, host: str, port: int, tracing: Tracing | None = None
) -> None:
    def reload() -> Settings:
        return load_settings(path, os.environ)

    app = create_app(settings, reload_settings=reload if path else None, tracing=tracing)
    sock = listen(host, port)  # before the URL is printed: a taken port is said first
    print(f"revgate: GraphiQL at http://{host}:{port}/graphql", flush=True)
    try:
        uvicorn_server(app, host, port).run(sockets=[sock])
    finally:
        if tracing is not None:
            tracing.shutdown()  # flush the spans still buffered


DEMO_QUERY = (
    "{ series(first: 10) { nodes { name backend { name kind } version testState "
    "revisions { version testResults { context state } } } } }"
)
# What `revgate demo` suggests trying (each must answer without errors: tests/gateway/test_cli.py).
# Only Patchwork-like backends have patches: the first asks their projects alone (an ABF or
# Gerrit project's `patches` is empty, with a NO_PATCHES notice).
DEMO_HINTS = (
    '{ projects(backends: ["patchwork", "fdo"]) { nodes { name patches(first: 5) '
    "{ nodes { title author { name } checkState checks { context state } } } } } }",
    DEMO_QUERY,
    "{ changes(first: 10) { nodes { __typename title state updatedAt "
    "backend { name } ... on PullRequest { fromRef { ref } toRef { ref } } } } }",
)


# The demo's person across its four backends, in the ``[[people]]`` format (backend name →
# each kind's own account key, ``AuthorKeys``): Ada Lovelace of the demo's timeline
# (adapters/demo). Patchwork matches submitters by email, Gerrit's ``owner:`` by username or
# email, ABF by login; the fdo fork names submitters by person id only (its demo Ada is person
# 100: adapters/patchwork_fdo/simulator/demo.py, tests/gateway/test_demo_readme.py checks it).
# ABF shows no emails, so only this map joins her ABF account to the others.
DEMO_PEOPLE: tuple[dict[str, object], ...] = (
    {
        "name": "Ada Lovelace",
        "emails": ["ada@example.org"],
        "accounts": {
            "patchwork": "ada@example.org",
            "fdo": "100",
            "gerrit": ["ada", "ada@example.org"],
            "abf": "ada",
        },
    },
)


def _demo_people(backends: Collection[str]) -> dict[str, object]:
    """The ``people`` entry of the demo's settings, with the accounts of ``backends`` only."""
    people = []
    for person in DEMO_PEOPLE:
        accounts = person["accounts"]
        assert isinstance(accounts, dict)
        kept = {b: a for b, a in accounts.items() if b in backends}
        people.append({**person, "accounts": kept})
    return {"people": people}


def demo_settings_for(
    urls: Mapping[str, str], host: str, port: int, kinds: Sequence[AdapterKind] = KINDS
) -> Settings:
    """The demo's backends: one per kind in ``urls`` (kind name → its simulator's URL), each
    as its kind's descriptor says (``Demo.backend``, with the simulator's demo credentials).
    Anonymous writes are on: the credentials are the simulators' own demo accounts, and the
    demo is for trying mutations in GraphiQL (a real config keeps the default, off)."""
    demos = [(k, k.demo) for k in kinds if k.demo is not None and k.name in urls]
    env: dict[str, str] = {}
    for _, demo in demos:
        env.update(demo.env())
    settings = settings_from_dict(
        {
            "server": {"host": host, "port": port},
            "compat": {
                "tokens": [{"name": "demo", "sha256": hash_key(DEMO_COMPAT_TOKEN), "write": True}]
            },
            "backends": [{**demo.backend, "url": urls[k.name]} for k, demo in demos],
            **_demo_people([str(demo.backend["name"]) for _, demo in demos]),
        },
        env=env,
        source="<demo>",
        kinds=kinds,
    )
    backends = tuple(dataclasses.replace(b, anonymous_writes=True) for b in settings.backends)
    return dataclasses.replace(settings, backends=backends)


def demo_settings(
    patchwork_url: str,
    fdo_url: str,
    host: str,
    port: int,
    abf_url: str | None = None,
    gerrit_url: str | None = None,
) -> Settings:
    """``demo_settings_for`` the two Patchwork simulators, and ABF's and Gerrit's when their
    URLs are given."""
    urls = {"patchwork": patchwork_url, "patchwork-fdo": fdo_url}
    urls.update({k: u for k, u in (("abf", abf_url), ("gerrit", gerrit_url)) if u})
    return demo_settings_for(urls, host, port)


async def _demo(
    host: str, port: int, kinds: Sequence[AdapterKind] = KINDS, latency_ms: float = 0.0
) -> None:
    running: list[tuple[AdapterKind, Demo, Simulator]] = []
    sock = listen(host, port)  # before anything starts: a taken port is said first
    try:
        demos = [(kind, kind.demo) for kind in kinds if kind.demo is not None]
        # each simulator in a process of its own, started together (``Demo.module``)
        started = await asyncio.gather(
            *(_start_simulator(demo, latency_ms) for _, demo in demos), return_exceptions=True
        )
        running = [
            (kind, demo, sim)
            for (kind, demo), sim in zip(demos, started, strict=True)
            if not isinstance(sim, BaseException)
        ]
        for sim in started:
            if isinstance(sim, BaseException):
                raise sim
        urls = {kind.name: sim.url for kind, _, sim in running}
        settings = demo_settings_for(urls, host, port, kinds)
        server = uvicorn_server(create_app(settings), host, port)
        for _, demo, sim in running:
            note = f" {demo.note}" if demo.note else ""
            print(f"revgate demo: {demo.label} at {sim.url}{note}", flush=True)
        print(f"revgate demo: GraphiQL at http://{host}:{port}/graphql", flush=True)
        for lead, hint in zip(("try ", "and ", "or  "), DEMO_HINTS, strict=True):
            print(f"revgate demo: {lead} {hint}", flush=True)
        for line in demo_compat_lines(f"http://{host}:{port}", kinds):
            print(f"revgate demo: {line}", flush=True)
        await server.serve(sockets=[sock])
    finally:
        sock.close()
        for _, _, sim in reversed(running):
            await sim.close()


async def _start_simulator(demo: Demo, latency_ms: float) -> Simulator:
    if demo.module:
        return await simulator_common.start_child(demo.module, latency_ms)
    return await demo.start(latency_ms)


def _persist(files: Sequence[str], output: str | None, listed: str | None) -> int:
    """``revgate persist``: write a manifest from .graphql files, or check and list one."""
    from graphql import GraphQLError

    from gateway.persisted import Manifest, manifest_of, split_operations

    if listed is not None:
        try:
            manifest = Manifest.load(listed)
        except ValueError as exc:
            print(f"revgate persist: {exc}", file=sys.stderr)
            return 1
        for digest, body in manifest.documents.items():
            print(f"{digest}  {body.split('{', 1)[0].strip()}")
        return 0
    if not files:
        print("revgate persist: name .graphql files (or --list MANIFEST)", file=sys.stderr)
        return 2
    documents: dict[str, str] = {}
    for name in files:
        try:
            with open(name, encoding="utf-8") as handle:
                text = handle.read()
            for op, body in split_operations(text):
                if op in documents and documents[op] != body:
                    raise ValueError(f"operation {op!r} is defined twice, differently")
                documents[op] = body
        except (OSError, ValueError, GraphQLError) as exc:
            print(f"revgate persist: {name}: {exc}", file=sys.stderr)
            return 1
    text = orjson.dumps(manifest_of(documents), option=orjson.OPT_INDENT_2).decode() + "\n"
    if output is None:
        sys.stdout.write(text)
    else:
        with open(output, "w", encoding="utf-8") as handle:
            handle.write(text)
        print(f"revgate persist: {len(documents)} operation(s) written to {output}")
    return 0


def demo_compat_lines(gateway: str, kinds: Sequence[AdapterKind] = KINDS) -> list[str]:
    """What the demo prints for REST clients: each backend's compat URL, the demo token and
    the client settings (git-pw, pwclient, b4) that use them (``Demo.compat``/``clients``)."""
    rest = f"{gateway}/rest"
    demos = [k.demo for k in kinds if k.demo is not None and k.demo.compat]
    mounts = [f"  {d.backend['name']!s:<10} {d.compat.format(rest=rest)}" for d in demos]
    clients = [
        "  " + line.format(rest=rest, token=DEMO_COMPAT_TOKEN) for d in demos for line in d.clients
    ]
    return [f"REST compat (existing clients), token {DEMO_COMPAT_TOKEN}:", *mounts, *clients]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``revgate`` console script."""
    args = _parser().parse_args(argv)
    configure_logging(getattr(args, "log_format", "text"))
    if args.command == "schema":
        from schema.build import sdl

        sys.stdout.write(sdl())
        return 0
    if args.command == "persist":
        return _persist(args.files, args.output, args.list)
    if args.command == "hash-key":
        key = sys.stdin.readline().strip()
        if not key:
            print("revgate: no key on stdin (e.g. revgate hash-key < keyfile)", file=sys.stderr)
            return 2
        print(hash_key(key))
        return 0
    if args.command == "demo":
        try:
            with contextlib.suppress(KeyboardInterrupt):
                _run_loop(_demo(args.host, args.port, latency_ms=args.latency_ms))
        except PortInUse as exc:
            print(f"revgate demo: {exc}", file=sys.stderr)
            return 2
        return 0
    path = config_path(args.config, os.environ)
    if args.command == "check-config":
        if path is None:
            print("revgate: no config file given (--config or REVGATE_CONFIG)", file=sys.stderr)
            return 2
        problems = check_config(path, os.environ)
        for problem in problems:
            print(problem.format(path), file=sys.stderr)
        if problems:
            print(f"{len(problems)} problem(s) in {path}", file=sys.stderr)
            return 1
        print(f"{path}: OK")
        return 0
    try:
        settings = load_settings(path, os.environ)
        tracing = tracing_from_env(os.environ)  # None unless REVGATE_TRACING is set
    except (ConfigError, TracingError) as exc:
        print(str(exc), file=sys.stderr)
        return 1
    host, port = args.host or settings.server.host, args.port or settings.server.port
    try:
        _serve(path, settings, host, port, tracing)
    except PortInUse as exc:
        print(f"revgate: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

"""Settings for browsers: the CORS keys of ``[server]`` (see gateway/cors.py). Part of
``gateway.settings``, which mixes ``BrowserChecks`` into its checker.

```toml
[server]
cors_origins = ["https://dash.example.org", "https://*.example.org"]   # default: same-origin only
cors_allow_credentials = false   # true: pages may send cookies / HTTP auth (never with "*")
cors_max_age = 600               # seconds a browser may cache a preflight answer
persisted_queries = true         # Apollo's automatic persisted queries (gateway/persisted.py)
trusted_documents = "ops.json"   # a manifest written by `revgate persist` (default: none)
persisted_only = false           # true: run the manifest's documents and nothing else
cache_max_age = { backends = 300, projects = 60 }   # GET answers: seconds per root field
batch_max_operations = 0         # > 0: a POST may carry a JSON list of up to this many operations
dashboard = true                 # false: no dashboard at / and /dashboard (docs/dashboard.md)
```
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gateway import settings as base  # circular on purpose: helpers are used at call time
from gateway.cors import origin_problem
from gateway.settings_access import _int_in

SERVER_KEYS: tuple[str, ...] = (
    "cors_origins",
    "cors_allow_credentials",
    "cors_max_age",
    "persisted_queries",
    "trusted_documents",
    "persisted_only",
    "cache_max_age",
    "batch_max_operations",
    "dashboard",
)
_MAX_AGE = 86_400  # browsers cap it at a day (Firefox) or two hours (Chromium) anyway
_MAX_CACHE_AGE = 31_536_000  # a year
_MAX_BATCH = 100

_At = Callable[[str, str], None]


class BrowserChecks:
    """The ``[server]`` CORS keys, checked like every other key (all problems at once)."""

    def _browser_key(self, key: str, value: object, values: dict[str, Any], at: _At) -> None:
        if key == "cors_origins":
            if not isinstance(value, list) or not all(isinstance(o, str) for o in value):
                at(key, f"cors_origins must be a list of origins{base._got(value)}")
                return
            for origin in value:
                if problem := origin_problem(origin):
                    at(key, f"cors_origins entry {origin!r:.80} {problem}")
                    return
            values[key] = tuple(value)
        elif key in ("cors_allow_credentials", "persisted_queries", "persisted_only", "dashboard"):
            if isinstance(value, bool):
                values[key] = value
            else:
                at(key, f"{key} must be true or false{base._got(value)}")
        elif key == "batch_max_operations":
            if (count := _int_in(value, 0, _MAX_BATCH)) is not None:
                values[key] = count
            else:
                at(key, f"batch_max_operations must be 0..{_MAX_BATCH}{base._got(value)}")
        elif key == "cache_max_age":
            if not isinstance(value, dict):
                at(key, f"cache_max_age must be a table of root field = seconds{base._got(value)}")
                return
            ages = []
            for name, seconds in value.items():
                if (age := _int_in(seconds, 0, _MAX_CACHE_AGE)) is None:
                    at(
                        key,
                        f"cache_max_age.{name} must be seconds 0..{_MAX_CACHE_AGE}"
                        + base._got(seconds),
                    )
                    return
                ages.append((name, age))
            values[key] = tuple(ages)
        elif key == "trusted_documents":
            if not isinstance(value, str) or not value:
                at(key, f"trusted_documents must be a file name{base._got(value)}")
                return
            # Imported here: the settings (and the compat layer) import no GraphQL code.
            from gateway.persisted import Manifest

            try:
                Manifest.load(value)
            except ValueError as exc:
                at(key, f"trusted_documents: {exc}")
                return
            values[key] = value
        elif key == "cors_max_age":
            if (seconds := _int_in(value, 0, _MAX_AGE)) is not None:
                values[key] = seconds
            else:
                at(key, f"cors_max_age must be seconds 0..{_MAX_AGE}{base._got(value)}")

    def _browser_consistency(self, values: dict[str, Any], at: _At) -> None:
        if values.get("persisted_only") and not values.get("trusted_documents"):
            at("persisted_only", "persisted_only = true needs trusted_documents (the manifest)")
        if values.get("cors_allow_credentials") and "*" in values.get("cors_origins", ()):
            at(
                "cors_allow_credentials",
                'cors_allow_credentials = true needs explicit cors_origins, not "*" '
                "(any site could then act with a visitor's credentials)",
            )

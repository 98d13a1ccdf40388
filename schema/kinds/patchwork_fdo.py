"""The ``patchwork-fdo`` kind's schema part: series revisions and their writes
(``schema/revisions.py``); its patches (with their own ``last_updated``) join ``changes``."""

from __future__ import annotations

from adapters import model
from schema.plugin import SchemaPart
from schema.revisions import RevisionMutation
from schema.types import Patch

PART = SchemaPart(mutation=(RevisionMutation,), changes={model.TrackedPatch: Patch.of})

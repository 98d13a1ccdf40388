"""The ``patchwork`` kind's schema part: upstream Patchwork is the unified model itself
(patches, series, covers, bundles in ``schema/kinds/core.py``); its patches join ``changes``."""

from __future__ import annotations

from adapters import model
from schema.plugin import SchemaPart
from schema.types import Patch

# Its changes are ``TrackedPatch``es: ``updated`` is the last activity
# (adapters/patchwork/activity.py).
PART = SchemaPart(changes={model.Patch: Patch.of, model.TrackedPatch: Patch.of})

"""The org's integrations: the records the emulator stores and how the list shows them.

A record is `{"id", "name", "type"}`: `id` is required text; `name` defaults to the
id (for an org seeded without names); `type` is the integration type's id and
defaults to `custom-rest-actions`, the type of Web Services Data Actions.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

logger = logging.getLogger(__name__)

INTEGRATIONS_PATH = "/api/v2/integrations"
DEFAULT_TYPE = "custom-rest-actions"
RECORD_KEYS = ("id", "name", "type")
INTENDED_STATE = "ENABLED"


def integration_record(raw: object) -> dict[str, str]:
    """Return the stored record of an integration, or raise ValueError saying why."""
    if not isinstance(raw, Mapping):
        raise ValueError("an integration must be a JSON object with an id")
    unknown = sorted(str(key) for key in raw if key not in RECORD_KEYS)
    if unknown:
        message = (
            f"unknown integration keys: {', '.join(unknown)} (an integration has "
            f"{', '.join(RECORD_KEYS)})"
        )
        raise ValueError(message)
    integration_id = raw.get("id")
    if not isinstance(integration_id, str) or not integration_id:
        raise ValueError("an integration id must be text that is not empty")
    name = _text(raw, "name", integration_id)
    return {
        "id": integration_id,
        "name": name,
        "type": _text(raw, "type", DEFAULT_TYPE),
    }


def _text(raw: Mapping[str, Any], key: str, default: str) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value:
        raise ValueError(f"an integration {key} must be text that is not empty")
    return value


def render_integration(record: Mapping[str, str]) -> dict[str, Any]:
    """Return an integration as the integrations list shows it."""
    return {
        "id": record["id"],
        "name": record["name"],
        "integrationType": {"id": record["type"]},
        "intendedState": INTENDED_STATE,
        "selfUri": f"{INTEGRATIONS_PATH}/{record['id']}",
    }

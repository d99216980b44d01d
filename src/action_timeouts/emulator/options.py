"""The emulator's modelling switches: one field per behaviour the sources leave open.

Each field is documented, with its default and alternatives, in docs/EMULATOR.md.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from action_timeouts.emulator.errors import json_form

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmulatorOptions:
    """Switches for every behaviour the public sources leave unconfirmed."""

    patch_mode: Literal["replace", "merge"] = "replace"
    conflict_status: int = 409
    conflict_code: Literal["invalid.update.wrong.version", "general.conflict"] = (
        "invalid.update.wrong.version"
    )
    token_error_status: int = 401
    static_patch_status: int = 400
    max_page_size: int = 100
    token_lifetime: int = 86400
    rate_limit_per_minute: int = 300
    include_total: bool = True
    execution_timeout_status: int = 504
    contract_without_expand: bool = False
    model_fields_only: bool = False
    unknown_config_keys: Literal["reject", "keep", "drop"] = "reject"
    publish_contract_change: Literal["allow", "reject"] = "allow"
    unknown_patch_fields: Literal["reject", "ignore"] = "reject"
    url_removal: Literal["allow", "reject"] = "allow"
    version_step: int = 1
    draft_start_version: int = 1

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            value = getattr(self, name)
            if not any(_same(value, choice) for choice in allowed):
                shown = ", ".join(json_form(choice) for choice in allowed)
                message = f"{name} must be one of {shown}"
                raise ValueError(f"{message}; got {json_form(value)}")
        for name, minimum in MINIMUMS.items():
            value = getattr(self, name)
            if type(value) is not int or value < minimum:
                message = f"{name} must be an integer of at least {minimum}"
                raise ValueError(f"{message}; got {json_form(value)}")
        status = self.execution_timeout_status
        if type(status) is not int or not 400 <= status <= 599:
            message = (
                "execution_timeout_status must be an HTTP error status (an integer "
                f"from 400 to 599); got {json_form(status)}"
            )
            raise ValueError(message)


# option -> the values it takes; the first is the default
CHOICES: dict[str, tuple[object, ...]] = {
    "patch_mode": ("replace", "merge"),
    "conflict_status": (409, 408, 400),
    "conflict_code": ("invalid.update.wrong.version", "general.conflict"),
    "token_error_status": (401, 400),
    "static_patch_status": (400, 403),
    "include_total": (True, False),
    "contract_without_expand": (False, True),
    "model_fields_only": (False, True),
    "unknown_config_keys": ("reject", "keep", "drop"),
    "publish_contract_change": ("allow", "reject"),
    "unknown_patch_fields": ("reject", "ignore"),
    "url_removal": ("allow", "reject"),
}


# option -> the smallest whole number it takes
MINIMUMS: dict[str, int] = {
    "max_page_size": 1,
    "token_lifetime": 1,
    "rate_limit_per_minute": 1,
    "version_step": 1,
    "draft_start_version": 0,
}


def _same(value: object, choice: object) -> bool:
    """Tell whether a value is that choice, of its type (1.0 is not 1, 0 not False)."""
    return type(value) is type(choice) and value == choice

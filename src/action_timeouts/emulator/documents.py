"""Rules on action documents: kinds, validation, config updates and rendering.

Stored documents keep templates inline (`config.request.requestTemplate`,
`config.response.successTemplate`); rendering for GET swaps them for the
`*TemplateUri` links the platform shows.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Mapping
from typing import Any, Literal

from action_timeouts.emulator.errors import EmulatedApiError, bad_request, json_form

logger = logging.getLogger(__name__)

ACTIONS_PATH = "/api/v2/integrations/actions"
REQUEST_TEMPLATE_FILE = "requesttemplate.vm"
SUCCESS_TEMPLATE_FILE = "successtemplate.vm"
INPUT_SCHEMA_FILE = "inputschema.json"
SUCCESS_SCHEMA_FILE = "successschema.json"
DEFAULT_REQUEST_TEMPLATE = "${input.rawRequest}"
DEFAULT_SUCCESS_TEMPLATE = "${rawResult}"
DEFAULT_TIMEOUT_SECONDS = 60
MAX_TIMEOUT_SECONDS = 60
MAX_FUNCTION_TIMEOUT_SECONDS = 15
CUSTOM_AUTH_PREFIX = "customAuth_-_"
STATIC_PREFIX = "static"
MODEL_FIELDS = ("id", "name", "category", "integrationId", "version", "secure")
# The fields of UpdateActionInput (PATCH of an action) and UpdateDraftInput.
UPDATE_ACTION_FIELDS = ("name", "category", "config", "version")
UPDATE_DRAFT_FIELDS = ("name", "category", "config", "contract", "secure", "version")
# The fields of ActionConfig and of its request and response sections:
# (path in the config, model name, fields)
CONFIG_MODELS: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...] = (
    ((), "ActionConfig", ("timeoutSeconds", "request", "response")),
    (
        ("request",),
        "RequestConfig",
        (
            "requestUrlTemplate",
            "requestTemplate",
            "requestTemplateUri",
            "requestType",
            "headers",
        ),
    ),
    (
        ("response",),
        "ResponseConfig",
        (
            "translationMap",
            "translationMapDefaults",
            "successTemplate",
            "successTemplateUri",
        ),
    ),
)
# The methods RequestConfig.requestType takes.
REQUEST_TYPES = ("GET", "PUT", "POST", "PATCH", "DELETE")
# (config section, field): the text fields of RequestConfig and ResponseConfig
TEXT_FIELDS = (
    ("request", "requestUrlTemplate"),
    ("request", "requestTemplate"),
    ("request", "requestType"),
    ("response", "successTemplate"),
)
# (config section, field): the maps of strings to strings
STRING_MAPS = (
    ("request", "headers"),
    ("response", "translationMap"),
    ("response", "translationMapDefaults"),
)
# Kept beside the document by the emulator, never part of what the API shows.
HIDDEN_FIELDS = frozenset({"selfUri"})

# file name -> (contract section, schema key)
SCHEMA_FILES: dict[str, tuple[str, str]] = {
    INPUT_SCHEMA_FILE: ("input", "inputSchema"),
    SUCCESS_SCHEMA_FILE: ("output", "successSchema"),
}
# file name -> (config section, template key, link key)
TEMPLATE_FILES: dict[str, tuple[str, str, str]] = {
    REQUEST_TEMPLATE_FILE: ("request", "requestTemplate", "requestTemplateUri"),
    SUCCESS_TEMPLATE_FILE: ("response", "successTemplate", "successTemplateUri"),
}
_SAMPLE_DEPTH = 8

ActionKind = Literal["http", "function"]


def is_custom_auth(action_id: str) -> bool:
    """Tell whether the id names a custom-authentication action."""
    return action_id.startswith(CUSTOM_AUTH_PREFIX)


def is_static(action_id: str) -> bool:
    """Tell whether the id names a built-in action that the API cannot change."""
    return action_id.startswith(STATIC_PREFIX)


def classify(doc: Mapping[str, Any]) -> ActionKind:
    """Return the kind a document is stored as when it is created or seeded.

    A function action runs code rather than an HTTP request: an `integrationType` of
    `function-data-actions` says so, and so does a config whose request has no
    `requestUrlTemplate`. The kind is decided once, never from a later write.
    """
    if doc.get("integrationType") == "function-data-actions":
        return "function"
    request = _section(doc.get("config"), "request")
    return "http" if "requestUrlTemplate" in request else "function"


def action_path(action_id: str, *, draft: bool = False) -> str:
    """Return the API path of an action or of its draft."""
    path = f"{ACTIONS_PATH}/{action_id}"
    return f"{path}/draft" if draft else path


def validate_timeout(value: object, action_id: str) -> None:
    """Reject a `timeoutSeconds` that is not an integer from 1 to 60 (None is unset).

    A custom-authentication action takes no `timeoutSeconds` at all: the key is
    refused whatever its value, null included.
    """
    if is_custom_auth(action_id):
        message = (
            "timeoutSeconds is not valid for custom authentication actions; leave "
            "the key out of their config"
        )
        raise bad_request(message)
    if value is None:
        return
    if type(value) is not int or not 1 <= value <= MAX_TIMEOUT_SECONDS:
        message = (
            f"config.timeoutSeconds must be a whole number of seconds from 1 to "
            f"{MAX_TIMEOUT_SECONDS}; got {json_form(value)}"
        )
        raise bad_request(message)


def validate_function_timeout(value: object) -> int:
    """Return a function timeout, rejecting anything but an integer from 1 to 15."""
    if type(value) is not int or not 1 <= value <= MAX_FUNCTION_TIMEOUT_SECONDS:
        message = (
            "timeoutSeconds of a function must be a whole number of seconds from 1 to "
            f"{MAX_FUNCTION_TIMEOUT_SECONDS}; got {json_form(value)}"
        )
        raise bad_request(message)
    return value


def validate_config(
    config: object, action_id: str, *, unknown_keys: str
) -> dict[str, Any]:
    """Return a checked copy of an incoming config, with `*TemplateUri` keys dropped.

    `unknown_keys` says what becomes of a key that ActionConfig, RequestConfig or
    ResponseConfig does not define: "reject" (400), "keep" or "drop". Each field of
    the models must have its type (null counts as not sent): text, a `requestType`
    of GET, PUT, POST, PATCH or DELETE, maps of strings to strings.
    """
    if not isinstance(config, dict):
        raise bad_request(f"config must be a JSON object; got {json_form(config)}")
    checked = copy.deepcopy(config)
    _apply_unknown_keys(checked, unknown_keys)
    for section_name in ("request", "response"):
        section = checked.get(section_name)
        if section is not None and not isinstance(section, dict):
            message = f"config.{section_name} must be a JSON object or null"
            raise bad_request(f"{message}; got {json_form(section)}")
    for section_name, _, link_key in TEMPLATE_FILES.values():
        _section(checked, section_name).pop(link_key, None)
    for section_name, key in TEXT_FIELDS:
        _check_text(checked, section_name, key)
    for section_name, key in STRING_MAPS:
        _check_string_map(checked, section_name, key)
    if "timeoutSeconds" in checked:
        validate_timeout(checked["timeoutSeconds"], action_id)
    return checked


def _check_text(config: dict[str, Any], section_name: str, key: str) -> None:
    where = f"config.{section_name}"
    value = _section(config, section_name).get(key)
    if value is None:
        return
    if not isinstance(value, str):
        message = f"{where}.{key} must be a string or null; got {json_form(value)}"
        raise bad_request(message)
    if key == "requestType" and value not in REQUEST_TYPES:
        message = (
            f"{where}.{key} must be one of {', '.join(REQUEST_TYPES)}; "
            f"got {json_form(value)}"
        )
        raise bad_request(message)


def _check_string_map(config: dict[str, Any], section_name: str, key: str) -> None:
    where = f"config.{section_name}"
    value = _section(config, section_name).get(key)
    if value is None:
        return
    if not isinstance(value, dict):
        message = (
            f"{where}.{key} must be an object of strings or null; "
            f"got {json_form(value)}"
        )
        raise bad_request(message)
    for name, item in value.items():
        if not isinstance(item, str):
            message = f"{where}.{key}.{name} must be a string; got {json_form(item)}"
            raise bad_request(message)


def check_request_url(config: object) -> None:
    """Reject a config that leaves an HTTP action without a request URL template."""
    url = _section(config, "request").get("requestUrlTemplate")
    if isinstance(url, str) and url:
        return
    message = (
        "config.request.requestUrlTemplate is required: an HTTP action cannot lose "
        "its request URL; send the whole config as read, changing only what must "
        "change"
    )
    raise bad_request(message)


def _apply_unknown_keys(config: dict[str, Any], policy: str) -> None:
    for path, model, fields in CONFIG_MODELS:
        section = _section(config, path[0]) if path else config
        unknown = [key for key in section if key not in fields]
        if not unknown or policy == "keep":
            continue
        if policy == "drop":
            for key in unknown:
                del section[key]
            continue
        where = ".".join(("config", *path))
        message = (
            f"{where}.{unknown[0]} is not a field of {model}; {where} takes only "
            f"{', '.join(fields)}"
        )
        raise bad_request(message)


def replace_config(
    incoming: dict[str, Any], previous: object, *, function: bool
) -> dict[str, Any]:
    """Return the config a replacing PATCH stores.

    A template the action had and the body leaves out, or sends as null, falls back
    to the platform's default text (the silent loss a careless client causes); an
    action that never had a template keeps none. Only text is a template: a stored
    null (or other non-text value) is no template, and is kept as it was when the
    body's section sends no text, so sending back what a read showed changes nothing.
    Likewise any key stored as null other than `timeoutSeconds` (a `request` or
    `response` of null, or a key of a section the body sends) stays null when the
    body sends it as null or leaves it out; other top-level keys sent as null are
    dropped.
    """
    config = {key: value for key, value in incoming.items() if value is not None}
    _keep_nulls(config, previous, skip=("timeoutSeconds",))
    for section_name in ("request", "response"):
        if isinstance(config.get(section_name), dict):
            _keep_nulls(config[section_name], _section(previous, section_name))
    defaults = (DEFAULT_REQUEST_TEMPLATE, DEFAULT_SUCCESS_TEMPLATE)
    for (section_name, template_key, _), default in zip(
        TEMPLATE_FILES.values(), defaults, strict=True
    ):
        section = config.get(section_name)
        if isinstance(section, dict) and section.get(template_key, "") is None:
            del section[template_key]
        before = _section(previous, section_name)
        if template_key not in before:
            continue
        if isinstance(before[template_key], str):
            if not function:
                section = config.setdefault(section_name, {})
                section.setdefault(template_key, default)
        elif isinstance(section, dict):
            section.setdefault(template_key, copy.deepcopy(before[template_key]))
    return config


def _keep_nulls(
    target: dict[str, Any], before: object, *, skip: tuple[str, ...] = ()
) -> None:
    if not isinstance(before, dict):
        return
    for key, value in before.items():
        if value is None and key not in skip and target.get(key) is None:
            target[key] = None


def merge_patch(target: object, patch: object) -> Any:
    """Apply a JSON merge patch: objects merge key by key, null deletes a key."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    merged = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


def render_action(
    doc: Mapping[str, Any],
    *,
    include_config: bool,
    include_contract: bool,
    draft: bool = False,
    model_fields_only: bool = False,
) -> dict[str, Any]:
    """Return an action as the API shows it, templates as links.

    By default every stored top-level field is shown as it was loaded, so a document
    reads back exactly; `model_fields_only` shows just the Action model's fields, with
    `secure` always present, as the platform's model describes them.
    """
    action_id = str(doc["id"])
    if model_fields_only:
        shown = {key: doc[key] for key in MODEL_FIELDS if key in doc}
        shown["secure"] = bool(doc.get("secure", False))
    else:
        shown = {
            key: copy.deepcopy(value)
            for key, value in doc.items()
            if key not in HIDDEN_FIELDS
        }
    shown.pop("contract", None)
    shown.pop("config", None)
    if include_contract and "contract" in doc:
        shown["contract"] = copy.deepcopy(doc["contract"])
    if include_config and isinstance(doc.get("config"), dict):
        shown["config"] = render_config(doc["config"], action_id, draft=draft)
    shown["selfUri"] = action_path(action_id, draft=draft)
    return shown


def render_config(config: Mapping[str, Any], action_id: str, *, draft: bool) -> Any:
    """Return a config with inline templates replaced by their download links."""
    shown = copy.deepcopy(dict(config))
    for file_name, (section_name, template_key, link_key) in TEMPLATE_FILES.items():
        section = shown.get(section_name)
        if not isinstance(section, dict):
            continue
        section.pop(link_key, None)
        template = section.pop(template_key, None)
        if isinstance(template, str):
            base = action_path(action_id, draft=draft)
            section[link_key] = f"{base}/templates/{file_name}"
    return shown


def template_text(doc: Mapping[str, Any], file_name: str) -> str | None:
    """Return the stored text of a template file, or None when there is none."""
    if file_name not in TEMPLATE_FILES:
        return None
    section_name, template_key, _ = TEMPLATE_FILES[file_name]
    text = _section(doc.get("config"), section_name).get(template_key)
    return text if isinstance(text, str) else None


def schema_document(doc: Mapping[str, Any], file_name: str) -> Any:
    """Return a schema of the contract by its file name, or None when there is none."""
    if file_name not in SCHEMA_FILES:
        return None
    section_name, schema_key = SCHEMA_FILES[file_name]
    return _section(doc.get("contract"), section_name).get(schema_key)


def success_schema(doc: Mapping[str, Any]) -> Any:
    """Return the success schema of an action's contract, or None."""
    return schema_document(doc, SUCCESS_SCHEMA_FILE)


def sample_from_schema(schema: object, depth: int = 0) -> Any:
    """Return a small value of the shape a JSON schema describes."""
    if not isinstance(schema, dict) or depth > _SAMPLE_DEPTH:
        return {}
    kind = schema.get("type", "object")
    if isinstance(kind, list):
        kind = next((item for item in kind if item != "null"), "null")
    samples: dict[str, Any] = {"string": "sample", "integer": 1, "number": 1.5}
    samples.update({"boolean": True, "null": None})
    if kind in samples:
        return samples[kind]
    if kind == "array":
        return [sample_from_schema(schema.get("items"), depth + 1)]
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return {}
    return {
        name: sample_from_schema(sub, depth + 1) for name, sub in properties.items()
    }


def missing_request_fields(doc: Mapping[str, Any]) -> list[str]:
    """Return the paths of what an HTTP action needs to run but lacks, in order.

    An HTTP action sends a request: it needs a `requestUrlTemplate` and a
    `requestType`, each a non-empty string.
    """
    request = _section(doc.get("config"), "request")
    return [
        f"config.request.{key}"
        for key in ("requestUrlTemplate", "requestType")
        if not isinstance(request.get(key), str) or not request[key]
    ]


def configured_timeout(doc: Mapping[str, Any]) -> int:
    """Return the timeout an execution gets: `timeoutSeconds`, or 60 when unset."""
    value = _section(doc, "config").get("timeoutSeconds")
    return value if type(value) is int else DEFAULT_TIMEOUT_SECONDS


def check_create_input(body: Mapping[str, Any]) -> None:
    """Reject a create body that lacks what PostActionInput requires."""
    for key in ("name", "category", "integrationId"):
        if not isinstance(body.get(key), str) or not body[key]:
            raise bad_request(f"{key} is required and must be a non-empty string")
    contract = body.get("contract")
    input_schema = _section(_section(contract, "input"), "inputSchema")
    output_schema = _section(_section(contract, "output"), "successSchema")
    if not input_schema or not output_schema:
        message = (
            "contract.input.inputSchema and contract.output.successSchema are required"
        )
        raise bad_request(message)
    if "config" not in body:
        raise bad_request("config is required")


def check_names(body: Mapping[str, Any]) -> None:
    """Reject a `name` or `category` that is not a non-blank string of 1-256 characters.

    Blank means empty or only whitespace, for a create and a PATCH alike.
    """
    for key in ("name", "category"):
        if key not in body:
            continue
        value = body[key]
        if not isinstance(value, str) or not value.strip() or len(value) > 256:
            message = f"{key} must be a non-blank string of at most 256 characters"
            raise bad_request(message)


def update_input(
    body: Mapping[str, Any], fields: tuple[str, ...], *, unknown_fields: str
) -> dict[str, Any]:
    """Return the fields of an update body that take effect.

    A field the model lacks is refused with 400 naming it (`unknown_fields`
    "reject") or left out ("ignore"). A known field sent as null counts as not sent,
    as SDKs may send unset fields that way; a null `version` stays, to be refused.
    """
    unknown = [key for key in body if key not in fields]
    if unknown and unknown_fields == "reject":
        what = "a draft PATCH" if "contract" in fields else "a PATCH"
        message = (
            f"{unknown[0]} is not a field {what} takes; {what} takes only "
            f"{', '.join(fields)}"
        )
        raise bad_request(message)
    return {
        key: value
        for key, value in body.items()
        if key in fields and (value is not None or key == "version")
    }


def check_custom_auth_update(
    stored: Mapping[str, Any], body: Mapping[str, Any]
) -> None:
    """Reject a change of `name` or `category` of a custom-authentication action.

    Only the config of such an action is editable; sending the name and category it
    already has, as a careful client does, is fine.
    """
    for key in ("name", "category"):
        if body.get(key) is not None and body[key] != stored.get(key):
            message = (
                f"{key} of a custom authentication action cannot change; only its "
                "config can be edited"
            )
            raise bad_request(message)


def check_publish(
    published: Mapping[str, Any], draft: Mapping[str, Any], *, contract_change: str
) -> None:
    """Reject publishing a draft that changes a published action's `secure` flag.

    With `contract_change` "reject", a draft that changes the contract is refused too.
    """
    if contract_change == "reject" and draft.get("contract") != published.get(
        "contract"
    ):
        message = (
            "contract cannot change once an action is published; create a new "
            "action for a new contract"
        )
        raise bad_request(message)
    before = bool(published.get("secure", False))
    after = bool(draft.get("secure", False))
    if before != after:
        message = (
            "secure cannot change once an action is published: the action has "
            f"secure={str(before).lower()}, the draft secure={str(after).lower()}"
        )
        raise bad_request(message)


def require_version(body: Mapping[str, Any]) -> int:
    """Return the `version` of an update body, which must be an integer."""
    version = body.get("version")
    if type(version) is not int:
        raise bad_request("version is required and must be an integer")
    return version


def conflict(status: int, code: str, sent: int, current: int) -> EmulatedApiError:
    """Return the version-conflict answer of the status chosen: 409, 408 or 400.

    A 409 or 408 carries `code`; the 400 variant is a `bad.request` whose message
    says the version does not match.
    """
    if status in (409, 408):
        message = (
            "The version number of the modified resource must match the version "
            "number in the database."
        )
        return EmulatedApiError(status, code, message)
    message = f"Supplied version {sent} does not match the current version {current}"
    return bad_request(message)


def _section(container: object, key: str) -> dict[str, Any]:
    value = container.get(key) if isinstance(container, dict) else None
    return value if isinstance(value, dict) else {}

"""What the emulated org knows, and the rules it enforces; thread-safe.

`EmulatorState` is also the in-process control plane: tests load actions, add
clients, switch options and queue faults through it while the HTTP server runs
(the fault methods come from `injection.FaultInjection`).
"""

from __future__ import annotations

import copy
import dataclasses
import hmac
import logging
import math
import random
import secrets
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from action_timeouts.emulator import documents, execution, integrations
from action_timeouts.emulator.errors import (
    EmulatedApiError,
    EmulatedTokenError,
    bad_request,
    missing_permissions,
    not_found,
    rate_limited,
    status_problem,
)
from action_timeouts.emulator.faults import (
    ConcurrentEdit,
    FaultPlan,
    retry_after_seconds,
)
from action_timeouts.emulator.injection import FaultInjection
from action_timeouts.emulator.options import EmulatorOptions

logger = logging.getLogger(__name__)

VIEW = ("integrations:action:view", "bridge:actions:view")
ADD = ("integrations:action:add",)
EDIT = ("integrations:action:edit",)
DELETE = ("integrations:action:delete",)
EXECUTE = ("integrations:action:execute", "bridge:actions:execute")
EXECUTE_ONLY = ("integrations:action:execute",)
INTEGRATION_VIEW = ("integrations:integration:view",)
ALL_PERMISSIONS = (
    VIEW[0],
    EDIT[0],
    EXECUTE[0],
    ADD[0],
    DELETE[0],
    INTEGRATION_VIEW[0],
)
RATE_WINDOW_SECONDS = 60

T = TypeVar("T")


@dataclass(frozen=True)
class RateStatus:
    """A client's rate-limit window as the `inin-ratelimit-*` headers report it."""

    allowed: int
    count: int
    reset: int
    exceeded: bool


@dataclass
class _Client:
    secret: str
    permissions: frozenset[str]


@dataclass
class _Token:
    client_id: str
    expires_at: float


@dataclass
class _Window:
    start: float
    count: int


class EmulatorState(FaultInjection):
    """The emulated org: actions, drafts, integrations, clients, tokens, faults, log."""

    def __init__(
        self,
        options: EmulatorOptions | None = None,
        *,
        now: Callable[[], float] = time.time,
        seed: int = 0,
        latency_ms: int = 0,
    ) -> None:
        self.now = now
        self._base_latency_ms = max(0, latency_ms)
        self._lock = threading.RLock()
        self._initial_options = options or EmulatorOptions()
        self._options = self._initial_options
        self._seed = seed
        self._clients: dict[str, _Client] = {}
        self._tokens: dict[str, _Token] = {}
        self._clear_org()

    # -- options and reset ------------------------------------------------------

    @property
    def options(self) -> EmulatorOptions:
        """Return the options in force (an immutable snapshot)."""
        with self._lock:
            return self._options

    def set_options(self, **changes: Any) -> EmulatorOptions:
        """Switch option fields at run time and return the options now in force."""
        known = {item.name for item in dataclasses.fields(EmulatorOptions)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown emulator options: {', '.join(unknown)}")
        with self._lock:
            self._options = dataclasses.replace(self._options, **changes)
            logger.info("emulator options changed: %s", changes)
            return self._options

    def reset(self) -> None:
        """Forget the org's actions, drafts and integrations, faults, windows and log.

        The options go back to those given at construction; clients, their tokens
        and the `latency_ms` given at construction stay.
        """
        with self._lock:
            self._options = self._initial_options
            self._clear_org()

    def _clear_org(self) -> None:
        self._actions: dict[str, dict[str, Any]] = {}
        self._drafts: dict[str, dict[str, Any]] = {}
        self._integrations: dict[str, dict[str, str]] = {}
        self._behaviours: dict[str, execution.ActionBehaviour] = {}
        self._kinds: dict[str, documents.ActionKind] = {}
        self._function_timeouts: dict[str, int] = {}
        self._draft_function_timeouts: dict[str, int] = {}
        self._windows: dict[str, _Window] = {}
        self._not_before: dict[str, float] = {}
        self._faults = FaultPlan()
        self._log: list[dict[str, Any]] = []
        self._ids = random.Random(self._seed)
        self._execution_random = random.Random(self._seed)

    # -- stored truth -----------------------------------------------------------

    def load_actions(self, docs: Iterable[Mapping[str, Any]]) -> list[str]:
        """Store action documents as they are and return their ids, in order."""
        ids: list[str] = []
        with self._lock:
            for doc in docs:
                stored = self._loaded(doc)
                self._actions[stored["id"]] = stored
                self._kinds[stored["id"]] = documents.classify(stored)
                ids.append(stored["id"])
        logger.info("loaded %d actions", len(ids))
        return ids

    def _loaded(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(doc, Mapping):
            raise ValueError("an action document must be a JSON object")
        stored = copy.deepcopy(dict(doc))
        stored.pop("selfUri", None)
        if not stored.get("id"):
            stored["id"] = self._new_id()
        if not isinstance(stored["id"], str):
            raise ValueError("an action id must be a string")
        stored.setdefault("version", 1)
        return stored

    def stored_action(self, action_id: str) -> dict[str, Any]:
        """Return a deep copy of a stored action, templates inline; KeyError if none."""
        with self._lock:
            return copy.deepcopy(self._actions[action_id])

    def stored_actions(self) -> list[dict[str, Any]]:
        """Return deep copies of every stored action, in the order they were stored."""
        with self._lock:
            return copy.deepcopy(list(self._actions.values()))

    def stored_draft(self, action_id: str) -> dict[str, Any]:
        """Return a deep copy of an action's draft; KeyError if it has none."""
        with self._lock:
            return copy.deepcopy(self._drafts[action_id])

    def action_kind(self, action_id: str) -> documents.ActionKind:
        """Return the kind an action was created or seeded as; KeyError if none."""
        with self._lock:
            return self._kinds[action_id]

    def read_documents(
        self,
        read: Callable[[Sequence[Mapping[str, Any]]], T],
        *,
        drafts: bool = False,
    ) -> T:
        """Return what `read` makes of the published actions (or drafts), in order.

        `read` sees the stored documents themselves, under the lock, so a listing
        costs what it shows rather than a copy of the whole org: it must not change
        them, and what it returns must share nothing with them (render or copy).
        """
        with self._lock:
            source = self._drafts if drafts else self._actions
            return read(list(source.values()))

    def load_integrations(self, records: Iterable[object]) -> list[str]:
        """Store integrations (`{"id", "name", "type"}`) and return their ids.

        A record whose id is stored already replaces it; the list shows them in the
        order they were first stored. A bad record raises ValueError and stores
        none of them.
        """
        checked = [integrations.integration_record(record) for record in records]
        with self._lock:
            for record in checked:
                self._integrations[record["id"]] = record
        logger.info("loaded %d integrations", len(checked))
        return [record["id"] for record in checked]

    def stored_integrations(self) -> list[dict[str, str]]:
        """Return copies of the stored integration records, in the order stored."""
        with self._lock:
            return copy.deepcopy(list(self._integrations.values()))

    def _new_id(self) -> str:
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    # -- clients, tokens, rate limits ----------------------------------------------

    def add_client(
        self, client_id: str, client_secret: str, permissions: Iterable[str]
    ) -> None:
        """Register (or replace) an OAuth client holding the given permissions."""
        if isinstance(permissions, str):
            raise ValueError("permissions must be a list of permission names")
        with self._lock:
            self._clients[client_id] = _Client(client_secret, frozenset(permissions))

    def verify_client(self, client_id: str, client_secret: str) -> None:
        """Raise `invalid_client` unless the credentials belong to a known client."""
        with self._lock:
            client = self._clients.get(client_id)
            known = client is not None and hmac.compare_digest(
                client.secret.encode("utf-8"), client_secret.encode("utf-8")
            )
            status = self._options.token_error_status
        if not known:
            raise EmulatedTokenError(status, "invalid_client", "authentication failed")

    def issue_token(self, client_id: str, client_secret: str) -> tuple[str, int]:
        """Return a new access token and its lifetime for valid client credentials."""
        with self._lock:
            self.verify_client(client_id, client_secret)
            token = secrets.token_urlsafe(32)
            lifetime = self._options.token_lifetime
            self._tokens[token] = _Token(client_id, self.now() + lifetime)
            return token, lifetime

    def authenticate(self, authorization: str | None) -> str:
        """Return the client a bearer `Authorization` header belongs to, else 401."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            message = (
                "No authentication bearer token specified in authorization header."
            )
            raise EmulatedApiError(401, "authentication.required", message)
        with self._lock:
            entry = self._tokens.get(token.strip())
            if entry is None or entry.expires_at <= self.now():
                raise EmulatedApiError(
                    401, "bad.credentials", "Invalid login credentials."
                )
            return entry.client_id

    def token_client(self, authorization: str | None) -> str | None:
        """Return the client a bearer header's token was issued to, expired or not."""
        scheme, _, token = (authorization or "").strip().partition(" ")
        if scheme.lower() != "bearer":
            return None
        with self._lock:
            entry = self._tokens.get(token.strip())
            return entry.client_id if entry is not None else None

    def rate_status(self, client_id: str | None) -> RateStatus:
        """Return a client's window as it stands, counting nothing.

        Without a client, or with no window open, this is a fresh window: nothing
        counted, the whole 60 s to go.
        """
        with self._lock:
            now = self.now()
            limit = self._options.rate_limit_per_minute
            window = self._windows.get(client_id or "")
            if client_id is None or window is None:
                return RateStatus(limit, 0, RATE_WINDOW_SECONDS, False)
            if now >= window.start + RATE_WINDOW_SECONDS:
                return RateStatus(limit, 0, RATE_WINDOW_SECONDS, False)
            left = math.ceil(window.start + RATE_WINDOW_SECONDS - now)
            return RateStatus(limit, window.count, max(1, left), window.count >= limit)

    def count_request(self, client_id: str) -> tuple[RateStatus, bool]:
        """Count a request in the client's window; also tell if it came too early."""
        with self._lock:
            now = self.now()
            early = now < self._not_before.get(client_id, -math.inf)
            window = self._windows.get(client_id)
            if window is None or now >= window.start + RATE_WINDOW_SECONDS:
                window = self._windows[client_id] = _Window(now, 0)
            limit = self._options.rate_limit_per_minute
            exceeded = window.count >= limit
            if not exceeded:
                window.count += 1
            left = math.ceil(window.start + RATE_WINDOW_SECONDS - now)
            return RateStatus(limit, window.count, max(1, left), exceeded), early

    def throttle(
        self, client_id: str | None, path: str, rate: RateStatus | None
    ) -> None:
        """Raise the 429 or server error this request gets, if any."""
        with self._lock:
            if rate is not None and rate.exceeded:
                seconds = str(rate.reset)
                self._remember_retry_after(client_id, seconds)
                raise rate_limited(seconds, seconds)
            throttled = self._faults.take_throttle(path)
            if throttled is not None:
                self._remember_retry_after(client_id, throttled.retry_after)
                text = throttled.retry_after if throttled.retry_after else "unknown"
                raise rate_limited(throttled.retry_after, text)
            status = self._faults.roll_error(path)
        if status is not None:
            raise status_problem(status, "Simulated server error (fault injection)")

    def _remember_retry_after(self, client_id: str | None, text: str | None) -> None:
        seconds = retry_after_seconds(text, time.time())
        if client_id is None or seconds is None:
            return
        until = self.now() + seconds
        self._not_before[client_id] = max(self._not_before.get(client_id, 0.0), until)

    def require_permission(self, client_id: str, permissions: tuple[str, ...]) -> None:
        """Raise 403 unless the client holds at least one of `permissions`."""
        with self._lock:
            client = self._clients.get(client_id)
            granted = client.permissions if client else frozenset()
        if granted.isdisjoint(permissions):
            raise missing_permissions(permissions)

    # -- reads ---------------------------------------------------------------------

    def get_action(self, action_id: str, *, draft: bool = False) -> dict[str, Any]:
        """Return a copy of a published action or of its draft, else 404."""
        with self._lock:
            doc = self._require_draft(action_id) if draft else self._require(action_id)
            return copy.deepcopy(doc)

    def _require(self, action_id: str) -> dict[str, Any]:
        doc = self._actions.get(action_id)
        if doc is None:
            raise not_found(f"Action {action_id} was not found.")
        return doc

    def _require_draft(self, action_id: str) -> dict[str, Any]:
        doc = self._drafts.get(action_id)
        if doc is None:
            raise not_found(f"Action {action_id} has no draft.")
        return doc

    # -- writes on published actions -------------------------------------------------

    def create_action(
        self, body: Mapping[str, Any], *, draft: bool = False
    ) -> dict[str, Any]:
        """Create a published action at version 1, or a new draft-only action."""
        documents.check_create_input(body)
        documents.check_names(body)
        with self._lock:
            action_id = self._new_id()
            doc = {key: copy.deepcopy(body[key]) for key in ("name", "category")}
            doc["integrationId"] = body["integrationId"]
            doc["secure"] = bool(body.get("secure", False))
            doc["contract"] = copy.deepcopy(body["contract"])
            doc["config"] = documents.validate_config(
                body["config"],
                action_id,
                unknown_keys=self._options.unknown_config_keys,
            )
            start = self._options.draft_start_version if draft else 1
            doc.update({"id": action_id, "version": start})
            (self._drafts if draft else self._actions)[action_id] = doc
            self._kinds[action_id] = documents.classify(doc)
            logger.info("created action %s (draft=%s)", action_id, draft)
            return copy.deepcopy(doc)

    def patch_action(self, action_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply an UpdateActionInput to a published action and bump its version."""
        with self._lock:
            stored = self._require(action_id)
            if documents.is_static(action_id):
                raise self._static_problem("modified")
            body = documents.update_input(
                body,
                documents.UPDATE_ACTION_FIELDS,
                unknown_fields=self._options.unknown_patch_fields,
            )
            stored = self._apply_concurrent_edit(action_id, stored)
            sent = documents.require_version(body)
            if documents.is_custom_auth(action_id):
                documents.check_custom_auth_update(stored, body)
            updated = self._updated(stored, body, fields=("name", "category"))
            if sent != stored["version"]:
                raise documents.conflict(
                    self._options.conflict_status,
                    self._options.conflict_code,
                    sent,
                    stored["version"],
                )
            updated["version"] = stored["version"] + self._options.version_step
            self._actions[action_id] = updated
            logger.info(
                "patched action %s to version %d", action_id, updated["version"]
            )
            return copy.deepcopy(updated)

    def delete_action(self, action_id: str) -> None:
        """Delete a published action and its draft."""
        with self._lock:
            self._require(action_id)
            if documents.is_static(action_id):
                raise self._static_problem("deleted")
            if documents.is_custom_auth(action_id):
                raise bad_request("Custom authentication actions cannot be deleted.")
            del self._actions[action_id]
            self._drafts.pop(action_id, None)
            self._kinds.pop(action_id, None)
            self._behaviours.pop(action_id, None)
            self._function_timeouts.pop(action_id, None)
            self._draft_function_timeouts.pop(action_id, None)

    def _apply_concurrent_edit(
        self, action_id: str, stored: dict[str, Any]
    ) -> dict[str, Any]:
        edit: ConcurrentEdit | None = self._faults.take_concurrent_edit(action_id)
        if edit is None:
            return stored
        changed: dict[str, Any] = documents.merge_patch(stored, edit.change or {})
        changed["version"] = stored["version"] + self._options.version_step
        self._actions[action_id] = changed
        logger.info(
            "concurrent edit moved %s to version %d", action_id, changed["version"]
        )
        return changed

    def _updated(
        self,
        stored: Mapping[str, Any],
        body: Mapping[str, Any],
        *,
        fields: tuple[str, ...],
    ) -> dict[str, Any]:
        documents.check_names(body)
        updated = copy.deepcopy(dict(stored))
        for key in fields:
            if key in body:
                updated[key] = copy.deepcopy(body[key])
        if "config" in body:
            updated["config"] = self._next_config(stored, body["config"])
        return updated

    def _next_config(self, stored: Mapping[str, Any], incoming: object) -> Any:
        checked = documents.validate_config(
            incoming,
            str(stored["id"]),
            unknown_keys=self._options.unknown_config_keys,
        )
        function = self._kinds[str(stored["id"])] == "function"
        if self._options.patch_mode == "merge":
            config = documents.merge_patch(stored.get("config"), checked)
        else:
            config = documents.replace_config(
                checked, stored.get("config"), function=function
            )
        if not function and self._options.url_removal == "reject":
            documents.check_request_url(config)
        return config

    def _static_problem(self, verb: str) -> EmulatedApiError:
        status = self._options.static_patch_status
        message = f"Built-in (static) actions cannot be {verb} through the API."
        if status == 403:
            return EmulatedApiError(403, "not.authorized", message)
        return bad_request(message)

    # -- drafts --------------------------------------------------------------------

    def create_draft(self, action_id: str) -> dict[str, Any]:
        """Create a draft of a published action: a copy at `draft_start_version`."""
        with self._lock:
            stored = self._require(action_id)
            if documents.is_static(action_id):
                raise self._static_problem("modified")
            if documents.is_custom_auth(action_id):
                message = (
                    "Custom authentication actions have a fixed contract and cannot "
                    "be drafted; only their config can be edited, with PATCH."
                )
                raise bad_request(message)
            if action_id in self._drafts:
                raise bad_request(f"Action {action_id} already has a draft.")
            draft = copy.deepcopy(stored)
            draft["version"] = self._options.draft_start_version
            self._drafts[action_id] = draft
            return copy.deepcopy(draft)

    def patch_draft(self, action_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Apply an UpdateDraftInput to a draft and bump the draft version."""
        with self._lock:
            draft = self._require_draft(action_id)
            body = documents.update_input(
                body,
                documents.UPDATE_DRAFT_FIELDS,
                unknown_fields=self._options.unknown_patch_fields,
            )
            sent = documents.require_version(body)
            fields = ("name", "category", "contract", "secure")
            self._check_draft_fields(body)
            updated = self._updated(draft, body, fields=fields)
            if sent != draft["version"]:
                raise documents.conflict(
                    self._options.conflict_status,
                    self._options.conflict_code,
                    sent,
                    draft["version"],
                )
            updated["version"] = draft["version"] + self._options.version_step
            self._drafts[action_id] = updated
            return copy.deepcopy(updated)

    @staticmethod
    def _check_draft_fields(body: Mapping[str, Any]) -> None:
        if "contract" in body and not isinstance(body["contract"], dict):
            raise bad_request("contract must be a JSON object")
        if "secure" in body and not isinstance(body["secure"], bool):
            raise bad_request("secure must be true or false")

    def delete_draft(self, action_id: str) -> None:
        """Delete an action's draft."""
        with self._lock:
            self._require_draft(action_id)
            del self._drafts[action_id]
            self._draft_function_timeouts.pop(action_id, None)
            if action_id not in self._actions:
                self._kinds.pop(action_id, None)

    def publish_draft(self, action_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Publish a draft sent with its exact version; the action's version grows."""
        with self._lock:
            draft = self._require_draft(action_id)
            sent = documents.require_version(body)
            if sent != draft["version"]:
                message = (
                    f"Supplied version {sent} does not match latest draft version "
                    f"{draft['version']}"
                )
                raise bad_request(message)
            published = self._actions.get(action_id)
            if published is not None:
                documents.check_publish(
                    published,
                    draft,
                    contract_change=self._options.publish_contract_change,
                )
            action = copy.deepcopy(draft)
            step = self._options.version_step
            action["version"] = published["version"] + step if published else 1
            self._actions[action_id] = action
            del self._drafts[action_id]
            if action_id in self._draft_function_timeouts:
                timeout = self._draft_function_timeouts.pop(action_id)
                self._function_timeouts[action_id] = timeout
            logger.info(
                "published draft of %s as version %d", action_id, action["version"]
            )
            return copy.deepcopy(action)

    def validate_draft(self, action_id: str) -> dict[str, Any]:
        """Return the DraftValidationResult of a draft."""
        with self._lock:
            draft = copy.deepcopy(self._require_draft(action_id))
            unknown_keys = self._options.unknown_config_keys
        errors: list[dict[str, Any]] = []
        try:
            config = draft.get("config", {})
            documents.validate_config(config, action_id, unknown_keys=unknown_keys)
            documents.check_create_input(draft)
        except EmulatedApiError as problem:
            errors.append({"message": problem.message, "code": problem.code})
        return {"valid": not errors, "errors": errors}

    # -- functions -----------------------------------------------------------------

    def function_timeout(self, action_id: str, *, draft: bool = False) -> int:
        """Return the function timeout of an action or draft (15 s when never set)."""
        with self._lock:
            default = self._function_timeouts.get(
                action_id, execution.DEFAULT_FUNCTION_TIMEOUT_SECONDS
            )
            if draft:
                return self._draft_function_timeouts.get(action_id, default)
            return default

    def set_function_timeout(
        self, action_id: str, seconds: object, *, draft: bool = False
    ) -> int:
        """Set the function timeout (1-15 s) of a function action or of its draft."""
        with self._lock:
            if draft:
                self._require_draft(action_id)
            else:
                self._require(action_id)
            if self._kinds[action_id] != "function":
                raise bad_request(f"Action {action_id} is not a function action.")
            value = documents.validate_function_timeout(seconds)
            target = self._draft_function_timeouts if draft else self._function_timeouts
            target[action_id] = value
            return value

    # -- execution -------------------------------------------------------------------

    def set_action_behaviour(
        self,
        action_id: str,
        *,
        latency_ms: int | None = None,
        failure_rate: float | None = None,
    ) -> None:
        """Set the simulated latency and failure rate of an action's endpoint."""
        if latency_ms is not None and latency_ms < 0:
            raise ValueError("latency_ms must not be negative")
        if failure_rate is not None and not 0 <= failure_rate <= 1:
            raise ValueError("failure_rate must be between 0 and 1")
        with self._lock:
            current = self._behaviours.get(action_id) or execution.default_behaviour(
                action_id
            )
            self._behaviours[action_id] = execution.ActionBehaviour(
                latency_ms=current.latency_ms if latency_ms is None else latency_ms,
                failure_rate=current.failure_rate
                if failure_rate is None
                else failure_rate,
            )

    def execute(self, action_id: str, *, draft: bool = False) -> execution.Execution:
        """Simulate running an action (or its draft) and return the outcome."""
        with self._lock:
            doc = self._require_draft(action_id) if draft else self._require(action_id)
            behaviour = self._behaviours.get(action_id) or execution.default_behaviour(
                action_id
            )
            function_timeout = self.function_timeout(action_id, draft=draft)
            return execution.simulate(
                doc,
                behaviour,
                function_timeout if self._kinds[action_id] == "function" else None,
                self._execution_random,
            )

    # -- faults that need the org ---------------------------------------------------

    def expire_tokens(self) -> None:
        """Make every token issued so far expired."""
        with self._lock:
            now = self.now()
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    def extra_latency_seconds(self) -> float:
        """Return the real delay added to every emulated request."""
        with self._lock:
            return (self._base_latency_ms + self._faults.extra_latency_ms) / 1000

    # -- request log ---------------------------------------------------------------

    def record_request(self, entry: Mapping[str, Any]) -> None:
        """Append one request to the log."""
        with self._lock:
            self._log.append(dict(entry))

    def request_log(self) -> list[dict[str, Any]]:
        """Return the emulated requests seen so far, oldest first."""
        with self._lock:
            return copy.deepcopy(self._log)

    def request_count(
        self, method: str | None = None, path_prefix: str | None = None
    ) -> int:
        """Count logged requests with that method and path prefix."""
        with self._lock:
            return sum(
                1
                for entry in self._log
                if (method is None or entry["method"] == method.upper())
                and (path_prefix is None or entry["path"].startswith(path_prefix))
            )

    def early_retries(self) -> list[dict[str, Any]]:
        """Return logged requests sent before a `Retry-After` given to the client."""
        with self._lock:
            return [dict(entry) for entry in self._log if entry.get("early_retry")]

"""Data actions: reading and listing them, and the safe update procedure.

The timeout values and kinds of action (`timeouts`) are exported here too, so that
one module gives a caller the whole procedure and the words it speaks in.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote

from action_timeouts.errors import (
    ActionRefusedError,
    ActionTimeoutsError,
    AmbiguousWriteError,
    ApiError,
    BadResponseError,
    ChangedSinceError,
    ConflictError,
    NotFoundError,
    ServerError,
    TimeoutNotClearedError,
    VerificationError,
)
from action_timeouts.paging import (
    LIST_PAGE_SIZE,
    LISTING_ATTEMPTS,
    is_integer,
    read_every_page,
    require_page,
)
from action_timeouts.timeouts import (
    CUSTOM_AUTH_PREFIX,
    FUNCTION_INTEGRATION_TYPE,
    PLATFORM_DEFAULT_TIMEOUT,
    SKIP_REASONS,
    STATIC_PREFIX,
    TIMEOUT_MAX,
    TIMEOUT_MIN,
    ActionKind,
    action_kind,
    current_timeout,
    describe_timeout,
    effective_timeout,
    invalid_timeout,
    is_function_action,
    is_whole_seconds,
    quoted,
    refusal_reason,
    stored_timeout,
    validate_timeout,
)

__all__ = [
    "ACTIONS_PATH",
    "AMBIGUOUS_RESENDS",
    "CONFLICT_ATTEMPTS",
    "CUSTOM_AUTH_PREFIX",
    "FUNCTION_INTEGRATION_TYPE",
    "IGNORED_IN_VERIFY",
    "LISTING_ATTEMPTS",
    "LIST_PAGE_SIZE",
    "PLATFORM_DEFAULT_TIMEOUT",
    "READ_DEPENDENT",
    "SKIP_REASONS",
    "STATIC_PREFIX",
    "TEMPLATE_SLOTS",
    "TIMEOUT_MAX",
    "TIMEOUT_MIN",
    "ActionKind",
    "ActionsApi",
    "ChangeResult",
    "Listing",
    "StillWanted",
    "Transport",
    "WriteHook",
    "action_kind",
    "action_path",
    "all_wanted",
    "check_request",
    "current_timeout",
    "describe_timeout",
    "differences",
    "effective_timeout",
    "invalid_timeout",
    "is_function_action",
    "is_whole_seconds",
    "patch_body",
    "quoted",
    "refusal_reason",
    "require_action",
    "set_timeout",
    "stored_timeout",
    "timeout_unchanged",
    "validate_timeout",
    "verify",
    "verify_listed",
    "version_unchanged",
    "with_timeout",
]

logger = logging.getLogger(__name__)

ACTIONS_PATH = "/api/v2/integrations/actions"
# (section, inline key, link key, template file name)
TEMPLATE_SLOTS = (
    ("request", "requestTemplate", "requestTemplateUri", "requesttemplate.vm"),
    ("response", "successTemplate", "successTemplateUri", "successtemplate.vm"),
)


class Transport(Protocol):
    """The part of `ApiClient` the action procedures use."""

    def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document."""

    def get_text(self, path: str) -> str:
        """GET a text document."""

    def patch_json(self, path: str, body: Mapping[str, Any]) -> Any:
        """PATCH a JSON body and return the JSON answer."""


@dataclass
class Listing:
    """Every action the list endpoint returned, with the total it announced."""

    actions: list[dict[str, Any]]
    total: int | None
    pages: int

    @property
    def complete(self) -> bool:
        """Tell whether as many actions arrived as the API said exist."""
        return self.total is None or self.total == len(self.actions)


class ActionsApi:
    """Reads and writes data actions through an `ApiClient`."""

    def __init__(self, client: Transport) -> None:
        self.client = client

    def get(self, action_id: str) -> dict[str, Any]:
        """Read one action with its contract and config."""
        params = {"expand": "contract", "includeConfig": "true"}
        try:
            document = self.client.get_json(action_path(action_id), params)
        except NotFoundError as error:
            message = (
                f"action {action_id} not found: check the id and that the region "
                "and OAuth client belong to the org that holds it"
            )
            raise error.reworded(message) from None
        return require_action(document, action_id)

    def list_page(
        self, page_number: int, filters: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Read one page of the action listing, config included."""
        params: dict[str, Any] = {
            "pageSize": LIST_PAGE_SIZE,
            "pageNumber": page_number,
            "includeConfig": "true",
            "includeAuthActions": "true",
            **(filters or {}),
        }
        return require_page(self.client.get_json(ACTIONS_PATH, params), "actions")

    def list_all(self, filters: Mapping[str, Any] | None = None) -> Listing:
        """Read every page of the listing until an empty or last page.

        A listing the org changed under is read again from page 1, a bounded
        number of times, as `paging.read_every_page` says; an org still changing
        after that raises ConflictError, and a total that never adds up is returned
        as it is (`Listing.complete` says so).
        """
        pages = read_every_page(
            lambda number: self.list_page(number, filters),
            _listed_action,
            what="actions",
        )
        return Listing(pages.entities, pages.total, pages.pages)

    def inline_templates(self, action: Mapping[str, Any]) -> dict[str, Any]:
        """Return the action's config with linked templates fetched and inlined.

        An action answered without a config (an object) is refused: a PATCH built
        from it would carry a config of the timeout alone and, on a platform that
        replaces the config, wipe the action's request and response.
        """
        if not isinstance(action.get("config"), Mapping):
            message = (
                f"the server's answer for action {action.get('id')} has no config; "
                "not changing this action"
            )
            raise BadResponseError(message, status=200, body=None)
        config = copy.deepcopy(dict(action["config"]))
        for section, inline_key, link_key, file_name in TEMPLATE_SLOTS:
            part = config.get(section)
            if not isinstance(part, dict) or link_key not in part:
                continue
            part[inline_key] = self._template_text(str(action["id"]), file_name)
            del part[link_key]
        return config

    def patch(self, action_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Send a PATCH of the action and return the action it answers.

        A success answer that is not the action (an empty body, a gateway's JSON)
        does not say whether the write was applied, so it raises AmbiguousWriteError
        like a lost answer: the caller re-reads before deciding.
        """
        try:
            answer = self.client.patch_json(action_path(action_id), body)
            return require_action(answer, action_id)
        except BadResponseError as error:
            if not 200 <= error.status < 300:
                raise
            message = (
                f"{error}; the change may or may not have been applied: re-read "
                "before trying again"
            )
            raise AmbiguousWriteError(
                message, status=error.status, correlation_id=error.correlation_id
            ) from None

    def _template_text(self, action_id: str, file_name: str) -> str:
        path = f"{action_path(action_id)}/templates/{file_name}"
        try:
            return self.client.get_text(path)
        except NotFoundError as error:
            message = (
                f"action {action_id} links {file_name} but it cannot be read; "
                "not changing this action"
            )
            raise BadResponseError(
                message, status=error.status, correlation_id=error.correlation_id
            ) from None


def action_path(action_id: str) -> str:
    """Return the API path of one action."""
    return f"{ACTIONS_PATH}/{quote(action_id, safe='')}"


def require_action(document: object, action_id: str | None) -> dict[str, Any]:
    """Check that a server answer looks like an action, or raise BadResponseError."""
    valid = (
        isinstance(document, dict)
        and isinstance(document.get("id"), str)
        and is_integer(document.get("version"))
        and (action_id is None or document["id"] == action_id)
    )
    if not valid:
        subject = f"action {action_id}" if action_id else "an action"
        message = f"the server's answer for {subject} is not an action with a version"
        raise BadResponseError(message, status=200, body=document)
    assert isinstance(document, dict)
    return document


def _listed_action(document: object) -> dict[str, Any]:
    return require_action(document, None)


CONFLICT_ATTEMPTS = 5
AMBIGUOUS_RESENDS = 3
IGNORED_IN_VERIFY = frozenset({"config", "version", "selfUri"})
# Present or not depending on how the action was read (single GET or listing).
READ_DEPENDENT = frozenset({"contract"})
WriteHook = Callable[[dict[str, Any], dict[str, Any]], None]
StillWanted = Callable[[Mapping[str, Any]], str | None]
"""Says why a planned change is no longer wanted for an action as just read, or None."""


@dataclass
class ChangeResult:
    """What happened to one action's timeout."""

    action_id: str
    name: str
    old: int | None
    new: int | None
    outcome: str  # "changed", "unchanged" or "planned" (dry run)
    version_before: int
    version_after: int
    conflicts: int = 0
    before: dict[str, Any] = field(default_factory=dict, repr=False)
    intended: dict[str, Any] | None = field(default=None, repr=False)


def with_timeout(config: Mapping[str, Any], seconds: int | None) -> dict[str, Any]:
    """Return a copy of `config` whose only change is the timeout (None removes it)."""
    changed = copy.deepcopy(dict(config))
    if seconds is None:
        changed.pop("timeoutSeconds", None)
    else:
        changed["timeoutSeconds"] = seconds
    return changed


def patch_body(action: Mapping[str, Any], config: Mapping[str, Any]) -> dict[str, Any]:
    """Build the PATCH body: name and category as read, version, the whole config."""
    return {
        "name": action.get("name"),
        "category": action.get("category"),
        "version": action["version"],
        "config": dict(config),
    }


def differences(before: object, after: object, path: str = "") -> list[str]:
    """List the dotted paths where two JSON values differ."""
    if isinstance(before, dict) and isinstance(after, dict):
        found: list[str] = []
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before or key not in after:
                found.append(where)
            else:
                found.extend(differences(before[key], after[key], where))
        return found
    if type(before) is not type(after) or before != after:
        return [path or "(whole value)"]
    return []


def timeout_unchanged(expected: object) -> StillWanted:
    """Want a change only while the action keeps the timeout it was planned on.

    `expected` is the explicit timeout the plan saw (None: unset). A selection that
    depends on the timeout (`--below`, `--unset`, a policy) was decided on it,
    and another editor who moved it since has made their own choice. An action
    now holding an invalid timeout raises BadResponseError, as `current_timeout`.
    """

    def check(action: Mapping[str, Any]) -> str | None:
        now = current_timeout(action)
        if now == expected:
            return None
        shown = describe_timeout(now)
        return f"changed by someone else since the plan (timeout now {shown})"

    return check


def version_unchanged(expected: int) -> StillWanted:
    """Want a change only while the action is at the version it was recorded at."""

    def check(action: Mapping[str, Any]) -> str | None:
        version = action.get("version")
        if version == expected:
            return None
        return f"changed by someone else since (version {version}, expected {expected})"

    return check


def all_wanted(*checks: StillWanted | None) -> StillWanted | None:
    """Combine checks: the first reason any of them gives, or None when none object."""
    chosen = [check for check in checks if check is not None]
    if len(chosen) <= 1:
        return chosen[0] if chosen else None

    def check(action: Mapping[str, Any]) -> str | None:
        for one in chosen:
            reason = one(action)
            if reason is not None:
                return reason
        return None

    return check


def set_timeout(
    api: ActionsApi,
    action_id: str,
    seconds: int | None,
    *,
    dry_run: bool = False,
    before_write: WriteHook | None = None,
    known: Mapping[str, Any] | None = None,
    read_back: bool = True,
    still_wanted: StillWanted | None = None,
) -> ChangeResult:
    """Change one action's timeout and prove nothing else changed.

    `seconds=None` removes the explicit timeout (the platform then uses 60 s). The
    action is read, its templates inlined, and the whole config sent back with only
    the timeout changed, at the version read. A version conflict re-reads and
    re-applies only the timeout. `before_write(action, body)` runs before each PATCH
    with the action as read (templates inline) and the body: the journal's hook.
    `known` is an action already read with its config (bulk runs), used for the
    first attempt instead of a fresh read. With `read_back=False` the caller
    verifies later, in bulk, against `ChangeResult.intended`.

    `still_wanted(action)` guards a change decided on an earlier read (a plan, a
    journal): it is asked before every write, with the action as just read (the
    first read, or `known`, and every re-read after a version conflict), and returns
    None to go ahead or the reason the change is no longer wanted. A reason stops
    the change with ChangedSinceError and nothing more is written. An action already
    at `seconds` is never refused. `timeout_unchanged`, `version_unchanged` and
    `all_wanted` build the usual guards.
    """
    seconds = check_request(action_id, seconds)
    action = dict(known) if known is not None else api.get(action_id)
    first_read, conflicts, landed = action, 0, False
    while current_timeout(action) != seconds:
        _require_still_wanted(action, still_wanted)
        inlined = api.inline_templates(action)
        intended = with_timeout(inlined, seconds)
        body = patch_body(action, intended)
        if dry_run:
            return _result(action, seconds, "planned", action["version"], conflicts)
        if before_write is not None:
            before_write({**action, "config": inlined}, body)
        written = _write(api, action, body, intended, read_back=read_back)
        if not isinstance(written, _Stale):
            _log_change(action, written, seconds)
            if read_back:
                verify(api, action, written, intended)
            result = _result(action, seconds, "changed", written["version"], conflicts)
            result.intended = intended
            return result
        landed = landed or written.may_have_landed
        conflicts += 1
        _check_conflicts(action_id, conflicts, written)
        action = api.get(action_id)

    # Nothing to do: it was so from the start, another editor made it so while our
    # write was refused as stale, or a write whose answer was lost landed after all.
    outcome = "changed" if landed else "unchanged"
    return _result(first_read, seconds, outcome, action["version"], conflicts)


def _require_still_wanted(
    action: Mapping[str, Any], still_wanted: StillWanted | None
) -> None:
    """Raise ChangedSinceError when the guard says the change is no longer wanted."""
    reason = None if still_wanted is None else still_wanted(action)
    if reason is None:
        return
    action_id = str(action["id"])
    logger.info("not changing %s: %s", action_id, reason)
    message = f"action {action_id} was {reason}; it was left as it is"
    raise ChangedSinceError(message, action_id=action_id, reason=reason)


def _log_change(
    before: Mapping[str, Any], after: Mapping[str, Any], seconds: int | None
) -> None:
    """Log that the write of one action's timeout was accepted."""
    logger.info(
        "changed %s: timeout %s -> %s, version %s -> %s",
        before["id"],
        describe_timeout(current_timeout(before)),
        describe_timeout(seconds),
        before["version"],
        after["version"],
    )


def _check_conflicts(action_id: str, conflicts: int, stale: _Stale) -> None:
    """Give up after too many version conflicts in a row; log each one."""
    if conflicts >= CONFLICT_ATTEMPTS:
        message = (
            f"action {action_id} kept changing while being updated "
            f"({conflicts} version conflicts); try again later"
        )
        status = 409 if stale.status is None else stale.status
        raise ConflictError(message, status=status, correlation_id=stale.correlation_id)
    logger.info(
        "version conflict on %s (attempt %d of %d, %s); re-reading to re-apply "
        "only the timeout",
        action_id,
        conflicts,
        CONFLICT_ATTEMPTS,
        stale.describe(),
    )


def check_request(action_id: str, seconds: object) -> int | None:
    """Refuse locally what the platform cannot take; return the timeout to send.

    The timeout comes back as `validate_timeout` reads it, so digits given as text
    are sent as a number, never as the text.
    """
    checked = None if seconds is None else validate_timeout(seconds)
    reason = refusal_reason(action_id)
    if reason is not None and not reason.startswith("function"):
        message = f"action {action_id} cannot take a timeout: {reason}"
        raise ActionRefusedError(message, action_id=action_id, reason=reason)
    return checked


@dataclass(frozen=True)
class _Stale:
    """A PATCH that did not stick, so the action must be read again.

    `may_have_landed` is false when the server refused it as stale (a version
    conflict: nothing was written), and true when its answer was lost and the action
    has since moved on, so it may have been applied before another edit.
    """

    may_have_landed: bool
    status: int | None = None
    correlation_id: str | None = None

    def describe(self) -> str:
        """Say what showed the write to be stale, for a log line."""
        if self.status is None:
            return "changed since a write whose answer was lost"
        return f"status {self.status}, correlation id {self.correlation_id}"

    @classmethod
    def refused(cls, error: ApiError, *, may_have_landed: bool) -> _Stale:
        """A write the server refused as stale with `error`."""
        return cls(may_have_landed, error.status, error.correlation_id)


def _write(
    api: ActionsApi,
    action: Mapping[str, Any],
    body: dict[str, Any],
    intended: Mapping[str, Any],
    resends: int = 0,
    *,
    read_back: bool = True,
) -> dict[str, Any] | _Stale:
    """PATCH once; return the action as written, or `_Stale` when it did not stick."""
    action_id = str(action["id"])
    try:
        answer = api.patch(action_id, body)
    except ConflictError as error:
        if resends == 0:
            return _Stale.refused(error, may_have_landed=False)
        # An earlier send of this write may have landed, which alone makes a resend
        # stale: only reading the action tells.
        return _landed_or_stale(api, action, intended, error)
    except (AmbiguousWriteError, ServerError) as error:
        return _reconcile(api, action, intended, error, resends, read_back=read_back)
    return api.get(action_id) if read_back else answer


def _reconcile(
    api: ActionsApi,
    action: Mapping[str, Any],
    intended: Mapping[str, Any],
    error: ActionTimeoutsError,
    resends: int,
    *,
    read_back: bool,
) -> dict[str, Any] | _Stale:
    """Learn by re-reading whether a write that got no answer took effect.

    A write that did not happen is sent again, and read back or not as the first
    one would have been. The last write is re-read too before giving up, since it
    may have landed although its answer was lost.
    """
    action_id = str(action["id"])
    logger.info("write to %s got no clear answer (%s); re-reading", action_id, error)
    fresh = api.get(action_id)
    if fresh["version"] == action["version"]:
        _check_resends(action_id, error, resends)
        logger.info(
            "write to %s did not happen (version still %s); sending it again "
            "(resend %d of %d)",
            action_id,
            fresh["version"],
            resends + 1,
            AMBIGUOUS_RESENDS,
        )
        body = patch_body(action, intended)
        return _write(api, action, body, intended, resends + 1, read_back=read_back)
    return _landed(fresh, api, intended)


def _landed_or_stale(
    api: ActionsApi,
    action: Mapping[str, Any],
    intended: Mapping[str, Any],
    error: ConflictError,
) -> dict[str, Any] | _Stale:
    """Read an action an earlier send of this write may have changed, and tell."""
    logger.info(
        "a resend to %s was refused as stale (status %s, correlation id %s); "
        "re-reading",
        action["id"],
        error.status,
        error.correlation_id,
    )
    found = _landed(api.get(str(action["id"])), api, intended)
    if isinstance(found, _Stale):
        return _Stale.refused(error, may_have_landed=True)
    return found


def _landed(
    fresh: dict[str, Any], api: ActionsApi, intended: Mapping[str, Any]
) -> dict[str, Any] | _Stale:
    """Return the action when it holds the intended config, else `_Stale`."""
    if not differences(intended, api.inline_templates(fresh)):
        logger.info(
            "write to %s had taken effect: timeout %s, version %s",
            fresh["id"],
            describe_timeout(current_timeout(fresh)),
            fresh["version"],
        )
        return fresh
    return _Stale(may_have_landed=True)


def _check_resends(action_id: str, error: ActionTimeoutsError, resends: int) -> None:
    """Give up when a write found not to have landed was already sent too often."""
    if resends < AMBIGUOUS_RESENDS:
        return
    message = (
        f"writes to action {action_id} keep failing without an answer "
        f"({error}); it was re-read each time and is unchanged"
    )
    raise AmbiguousWriteError(message) from error


def verify(
    api: ActionsApi,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    intended: Mapping[str, Any],
) -> None:
    """Compare the action read back with what was intended; raise on a difference."""
    _compare(before, after, intended, api.inline_templates(after))


def verify_listed(
    before: Mapping[str, Any], after: Mapping[str, Any], intended: Mapping[str, Any]
) -> None:
    """Compare a listed action with what was intended, downloading no template.

    Templates are compared by presence only: each template sent inline must be
    linked in the listing, and no other may be. Their bytes are the ones the PATCH
    carried; `verify` downloads them again when a byte-level check is wanted.
    """
    config = after.get("config")
    listed = config if isinstance(config, Mapping) else {}
    _compare(
        before, after, _templates_as_presence(intended), _templates_as_presence(listed)
    )


def _templates_as_presence(config: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of a config with each template, inline or linked, as a marker."""
    marked = copy.deepcopy(dict(config))
    for section, inline_key, link_key, _file_name in TEMPLATE_SLOTS:
        part = marked.get(section)
        if not isinstance(part, dict):
            continue
        stored = inline_key in part or link_key in part
        part.pop(inline_key, None)
        part.pop(link_key, None)
        if stored:
            part[link_key] = "(stored)"
    return marked


def _compare(
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    intended: Mapping[str, Any],
    config_after: Mapping[str, Any],
) -> None:
    """Raise VerificationError unless only the intended config changed."""
    action_id = str(before["id"])
    fields = [f"config.{path}" for path in differences(intended, config_after)]
    for key in sorted(set(before) | set(after)):
        if key in IGNORED_IN_VERIFY or (
            key in READ_DEPENDENT and (key not in before or key not in after)
        ):
            continue
        if before.get(key) != after.get(key):
            fields.append(key)
    if fields == ["config.timeoutSeconds"] and "timeoutSeconds" not in intended:
        message = (
            f"action {action_id} kept its timeout after a PATCH without one: the "
            "platform seems to merge config on PATCH, so the timeout cannot be "
            "cleared this way; nothing else changed"
        )
        raise TimeoutNotClearedError(message, action_id=action_id, fields=fields)
    if fields:
        message = (
            f"action {action_id} differs after the change in: {', '.join(fields)}; "
            "compare it with the journal's copy before using it"
        )
        raise VerificationError(message, action_id=action_id, fields=fields)
    logger.info(
        "verified %s: timeout %s -> %s, version %s -> %s",
        action_id,
        describe_timeout(current_timeout(before)),
        describe_timeout(current_timeout({"config": config_after})),
        before.get("version"),
        after["version"],
    )


def _result(
    action: Mapping[str, Any],
    seconds: int | None,
    outcome: str,
    version_after: int,
    conflicts: int,
) -> ChangeResult:
    return ChangeResult(
        action_id=str(action["id"]),
        name=str(action.get("name", "")),
        old=current_timeout(action),
        new=seconds,
        outcome=outcome,
        version_before=int(action["version"]),
        version_after=version_after,
        conflicts=conflicts,
        before=dict(action),
    )

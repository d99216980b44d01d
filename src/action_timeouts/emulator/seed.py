"""Actions to seed the emulator with: a directory of JSON files, or a generated org.

Both return plain action documents for `EmulatorState.load_actions`: no `version`,
and an `id` only where the action needs a fixed one (custom-auth and built-in
actions, or a file that carries its own). `directory_integrations` and
`demo_integrations` give the integrations of each for `load_integrations`.
"""

from __future__ import annotations

import json
import logging
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from action_timeouts.actions import CUSTOM_AUTH_PREFIX, is_function_action
from action_timeouts.emulator.errors import json_kind
from action_timeouts.emulator.integrations import integration_record
from action_timeouts.errors import UsageError

if TYPE_CHECKING:
    from action_timeouts.emulator.state import EmulatorState

logger = logging.getLogger(__name__)

INTEGRATIONS_FILE = "integrations.json"
CUSTOM_AUTH_NAME_MARK = "custom auth"
CUSTOM_AUTH_ACTION_TYPE = "customAuth"
WRITE_METHODS = ("POST", "PUT", "PATCH")


# --------------------------------------------------------------------------- loading


def load_directory(path: Path) -> list[dict[str, Any]]:
    """Read every `*.json` file of a directory, sorted by name, as action documents.

    `integrations.json` is not an action: it names the integrations (see
    `directory_integrations`). Every field is kept exactly, key order included. A
    file without an `id` that is recognisably a custom-auth action gets the fixed
    id `customAuth_-_<integrationId>` (see `assign_custom_auth_ids`). Raises
    UsageError naming the file at fault.
    """
    if not path.is_dir():
        message = f"seed directory {path} does not exist or is not a directory"
        raise UsageError(message)
    files = sorted(
        (file for file in path.glob("*.json") if file.name != INTEGRATIONS_FILE),
        key=lambda file: file.name,
    )
    if not files:
        message = f"seed directory {path} holds no *.json files"
        raise UsageError(message)

    documents = [read_action_file(file) for file in files]
    assign_custom_auth_ids(documents, [file.name for file in files])
    logger.info("seed directory %s: %d actions", path, len(documents))
    return documents


def directory_integrations(
    path: Path, documents: list[dict[str, Any]]
) -> list[dict[str, str]]:
    """Return one integration record per distinct `integrationId` of the documents.

    The directory's optional `integrations.json` describes integrations as
    `load_integrations` takes them: a list of `{"id", "name", "type"}` objects,
    name and type optional. An integration it does not list is named by its id,
    since action files carry no integration names, and its type is the
    `integrationType` of the first action naming it (an admin-UI export key), else
    the emulator's default. Integrations the file lists that no action uses are
    kept too, after the others. Raises UsageError naming the file when it is not
    such a list.
    """
    named = {record["id"]: record for record in _integrations_file(path)}
    records: dict[str, dict[str, str]] = {}
    for document in documents:
        integration_id = document.get("integrationId")
        if not isinstance(integration_id, str) or not integration_id:
            continue
        if integration_id not in records:
            records[integration_id] = named.get(integration_id) or _unnamed(document)
    for integration_id, record in named.items():
        records.setdefault(integration_id, record)
    return list(records.values())


def _unnamed(document: dict[str, Any]) -> dict[str, str]:
    """Describe the integration of an action no file names: its id is its name."""
    integration_id = str(document["integrationId"])
    record = {"id": integration_id, "name": integration_id}
    found_type = document.get("integrationType")
    if isinstance(found_type, str) and found_type:
        record["type"] = found_type
    return record


def _integrations_file(path: Path) -> list[dict[str, str]]:
    """Read `integrations.json` of a seed directory; no file is no integrations."""
    file = path / INTEGRATIONS_FILE
    if not file.exists():
        return []
    entries = parse_json_file(file)
    if not isinstance(entries, list):
        message = (
            f"seed file {file.name}: expected a JSON list of integrations "
            f"(id, name, type), found {json_kind(entries)}"
        )
        raise UsageError(message)
    try:
        return [integration_record(entry) for entry in entries]
    except ValueError as error:
        message = f"seed file {file.name}: {error}"
        raise UsageError(message) from error


def read_action_file(file: Path) -> dict[str, Any]:
    """Parse one seed file, which must hold a single JSON object."""
    document = parse_json_file(file)
    if not isinstance(document, dict):
        message = (
            f"seed file {file.name}: expected a JSON object (one action), "
            f"found {json_kind(document)}"
        )
        raise UsageError(message)
    return document


def parse_json_file(file: Path) -> Any:
    """Return the JSON value of a UTF-8 file, or raise UsageError naming the file."""
    try:
        return json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as error:
        message = f"seed file {file.name}: cannot read it ({error})"
        raise UsageError(message) from error
    except json.JSONDecodeError as error:
        message = (
            f"seed file {file.name}: not valid JSON "
            f"(line {error.lineno}, column {error.colno}: {error.msg})"
        )
        raise UsageError(message) from error


def custom_auth_signal(document: dict[str, Any]) -> int | None:
    """Rank how surely an id-less document is a custom-auth action (0 best), or None.

    A name containing "custom auth" (any case) ranks first; an admin-UI export
    marked `"actionType": "customAuth"` second. A document with an `id`, or without
    a string `integrationId`, is never given a custom-auth id.
    """
    if "id" in document or not isinstance(document.get("integrationId"), str):
        return None
    if CUSTOM_AUTH_NAME_MARK in str(document.get("name", "")).lower():
        return 0
    if document.get("actionType") == CUSTOM_AUTH_ACTION_TYPE:
        return 1
    return None


def assign_custom_auth_ids(documents: list[dict[str, Any]], labels: list[str]) -> None:
    """Give custom-auth documents the fixed id of their integration, in place.

    An integration has one custom-auth action, so when its id is already taken (by
    a file that carries it, or by a surer or earlier candidate) the document keeps
    no id and is loaded as an ordinary action with a generated id.
    """
    taken = {str(document["id"]) for document in documents if "id" in document}
    ranked = sorted(
        (rank, position)
        for position, document in enumerate(documents)
        if (rank := custom_auth_signal(document)) is not None
    )
    for _, position in ranked:
        document = documents[position]
        action_id = CUSTOM_AUTH_PREFIX + document["integrationId"]
        if action_id in taken:
            logger.warning(
                "seed file %s: %s is taken; loading it as an ordinary action",
                labels[position],
                action_id,
            )
            continue
        taken.add(action_id)
        documents[position] = {"id": action_id, **document}


# --------------------------------------------------------------------- demo org


@dataclass(frozen=True)
class Integration:
    """An integration of the demo org; its name is also its actions' category."""

    name: str
    kind: str
    base_url: str
    user_defined_oauth: bool
    integration_id: str

    def record(self) -> dict[str, str]:
        """Return the integration as `EmulatorState.load_integrations` takes it."""
        return {
            "id": self.integration_id,
            "name": self.name,
            "type": INTEGRATION_TYPES[self.kind],
        }


# (name, kind, base URL, has userDefinedOAuth credentials)
INTEGRATION_PROFILES: tuple[tuple[str, str, str, bool], ...] = (
    ("Acme Web Services", "web", "https://api.acme.example.invalid/v2", True),
    ("Kundenportal Müller", "web", "https://kunden.mueller.example.invalid/rest", True),
    ("Web Services Data Actions", "web", "https://hooks.example.invalid", False),
    ("Salesforce Data Actions", "salesforce", "/services/data/v59.0", False),
    ("Zendesk Data Actions", "zendesk", "https://acme.zendesk.example.invalid", False),
    ("Genesys Cloud Data Actions", "genesys", "/api/v2", False),
    ("Microsoft Dynamics 365 Data Actions", "dynamics", "/api/data/v9.2", False),
    ("Function Data Actions", "function", "", False),
)

# kind -> the id of its integration type, as the platform names them
INTEGRATION_TYPES = {
    "web": "custom-rest-actions",
    "salesforce": "salesforce-datadip",
    "zendesk": "zendesk-data-actions",
    "genesys": "purecloud-data-actions",
    "dynamics": "microsoft-dynamics-data-actions",
    "function": "function-data-actions",
}
VERBS: dict[str, tuple[str, ...]] = {
    "GET": ("Get", "Lookup", "Search", "Check", "Fetch"),
    "POST": ("Create", "Send", "Submit", "Register"),
    "PUT": ("Replace", "Set", "Store"),
    "PATCH": ("Update", "Adjust", "Amend"),
    "DELETE": ("Delete", "Cancel", "Remove"),
}
OBJECTS = (
    "Order Status", "Customer Profile", "Account Balance", "Ticket", "Case",
    "Callback", "Contact by Phone", "Invoice", "Shipment", "Appointment",
    "Loyalty Points", "Estimated Wait", "User Presence", "Subscription", "Refund",
    "Lead", "Opportunity", "Warranty Claim", "Delivery Slot", "Survey Response",
)  # fmt: skip
NON_ASCII_TITLES = (
    "Vérifier le solde du compte",
    "Kundendaten prüfen",
    "顧客情報を取得",
    "📞 Rückruf planen",
    "Créer un rappel — priorité élevée",
    "注文ステータスを確認",
    "Obtener estado del pedido (año fiscal)",
    "Envoyer un SMS ✉️",
    "Überweisung prüfen",
)
BUILT_IN_TITLES = (
    "Get User Presence", "Get Queue Estimated Wait Time", "Get Account by Phone",
    "Get Ticket", "Get Contact by Email", "Get External Contact",
)  # fmt: skip
FIELDS = (
    "customerId", "orderId", "phoneNumber", "email", "accountId", "ticketId",
    "status", "priority", "firstName", "lastName", "balance", "language",
    "queueId", "note", "dueDate", "country",
)  # fmt: skip
FUNCTION_TIMEOUTS = (1, 3, 5, 10, 15)


@dataclass
class ActionTraits:
    """What one generated standard action is made of."""

    template_less: bool = False
    large_map: bool = False
    credential_headers: bool = False
    non_ascii_name: str | None = None
    timeout: dict[str, Any] = field(default_factory=dict)


def generate_demo_org(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """Generate `n` varied, realistic actions; the same seed gives the same org.

    The org has eight integrations (two with user-defined OAuth, each with its
    `customAuth_-_<integrationId>` action), a few built-in `static_<uuid>` actions,
    function actions and standard HTTP actions. Each action's category is its
    integration's name, and no integration id is also an action id. Timeouts are
    mostly absent, about 18 % are 3 s, some mid (5-15 s) or long (30-60 s), and
    about 4 % an explicit `null` (the API leaves unset timeouts out; `null` models
    the unconfirmed alternative). About 35 % of the actions store no template at all.
    """
    if n < 0:
        message = f"cannot generate a negative number of actions ({n})"
        raise UsageError(message)
    rng = random.Random(seed)
    generator = DemoOrgGenerator(rng, demo_org_integrations(seed))
    documents = generator.build(n)
    logger.info("generated a demo org of %d actions (seed %d)", len(documents), seed)
    return documents


def demo_org_integrations(seed: int = 0) -> list[Integration]:
    """Return the eight integrations of the demo org generated from `seed`."""
    return make_integrations(random.Random(f"integrations of org {seed}"))


def demo_integrations(seed: int = 0) -> list[dict[str, str]]:
    """Return the demo org's integrations as `load_integrations` takes them."""
    return [integration.record() for integration in demo_org_integrations(seed)]


def assign_function_timeouts(state: EmulatorState, seed: int = 0) -> dict[str, int]:
    """Give every stored function action a function timeout (1-15 s) drawn from `seed`.

    The emulator keeps function timeouts outside the action documents, so a demo
    org gets them after loading; each action's value depends only on the seed and
    its id. Returns the timeouts set, by action id.
    """
    chosen: dict[str, int] = {}
    for action in state.stored_actions():
        if is_function_action(action):
            action_id = str(action["id"])
            seconds = random.Random(f"{seed}/{action_id}").choice(FUNCTION_TIMEOUTS)
            chosen[action_id] = state.set_function_timeout(action_id, seconds)
    logger.info("set the function timeouts of %d function actions", len(chosen))
    return chosen


def make_integrations(rng: random.Random) -> list[Integration]:
    """Create the demo org's integrations with ids drawn from `rng`.

    `rng` must not be `random.Random(seed)`: `EmulatorState` draws the ids of the
    loaded actions from that sequence, so the first actions would get the
    integrations' ids.
    """
    return [
        Integration(name, kind, base_url, oauth, random_uuid(rng))
        for name, kind, base_url, oauth in INTEGRATION_PROFILES
    ]


def random_uuid(rng: random.Random) -> str:
    """Return a version-4 style UUID string drawn from `rng`."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def kind_counts(n: int, oauth_integrations: int) -> dict[str, int]:
    """Split `n` actions into custom-auth, built-in, function and standard ones."""
    custom_auth = min(oauth_integrations, n // 5)
    static = min(5, n // 8)
    function = n // 12
    standard = n - custom_auth - static - function
    return {
        "custom-auth": custom_auth,
        "static": static,
        "function": function,
        "standard": standard,
    }


def spread(rng: random.Random, count: int, total: int) -> set[int]:
    """Pick `count` distinct positions out of `total` (all of them if fewer)."""
    return set(rng.sample(range(total), min(count, total)))


def timeout_entries(rng: random.Random, total: int) -> list[dict[str, Any]]:
    """Return `total` shuffled config openings: no timeout, `null`, or seconds."""
    nulls = max(1, round(total * 0.04)) if total >= 10 else 0
    short = round(total * 0.18)
    middle = round(total * 0.20)
    long = round(total * 0.12)
    seconds: list[int | None] = [None] * nulls + [3] * short
    seconds += [rng.choice((5, 8, 10, 12, 15)) for _ in range(middle)]
    seconds += [rng.choice((30, 45, 60)) for _ in range(long)]
    entries = [{"timeoutSeconds": value} for value in seconds[:total]]
    entries += [{} for _ in range(total - len(entries))]
    rng.shuffle(entries)
    return entries


class NameBook:
    """Hands out action names that are unique within the org."""

    def __init__(self) -> None:
        self.used: set[str] = set()

    def unique(self, base: str) -> str:
        """Return `base`, or `base vN` with the first free N."""
        name, number = base, 2
        while name in self.used:
            name, number = f"{base} v{number}", number + 1
        self.used.add(name)
        return name


class DemoOrgGenerator:
    """Builds the actions of a demo org from one random source."""

    def __init__(self, rng: random.Random, integrations: list[Integration]) -> None:
        self.rng = rng
        self.integrations = integrations
        self.names = NameBook()
        self.http_integrations = [i for i in integrations if i.kind != "function"]
        self.function_integration = next(
            i for i in integrations if i.kind == "function"
        )

    def build(self, n: int) -> list[dict[str, Any]]:
        """Return exactly `n` actions of every kind, in a shuffled order."""
        oauth = [i for i in self.integrations if i.user_defined_oauth]
        counts = kind_counts(n, len(oauth))
        timeouts = timeout_entries(self.rng, counts["standard"] + counts["function"])
        traits = self.standard_traits(counts["standard"], n)
        for trait, timeout in zip(traits, timeouts, strict=False):
            trait.timeout = timeout

        documents = [self.custom_auth_action(i) for i in oauth[: counts["custom-auth"]]]
        documents += [self.static_action() for _ in range(counts["static"])]
        documents += [
            self.function_action(timeout) for timeout in timeouts[counts["standard"] :]
        ]
        documents += [self.standard_action(trait) for trait in traits]
        self.rng.shuffle(documents)
        return documents

    def standard_traits(self, count: int, n: int) -> list[ActionTraits]:
        """Decide which standard actions get which notable features."""
        traits = [ActionTraits() for _ in range(count)]
        for position in spread(self.rng, round(n * 0.35), count):
            traits[position].template_less = True
        for position in spread(self.rng, n // 25, count):
            traits[position].large_map = True
        for position in spread(self.rng, max(1, count * 15 // 100), count):
            traits[position].credential_headers = True

        titles = min(len(NON_ASCII_TITLES), max(1, count // 12))
        positions = sorted(spread(self.rng, titles, count))
        for title, position in zip(NON_ASCII_TITLES, positions, strict=False):
            traits[position].non_ascii_name = title
        return traits

    # ------------------------------------------------------------------ special kinds

    def custom_auth_action(self, integration: Integration) -> dict[str, Any]:
        """Return the custom-auth action of an integration with user-defined OAuth."""
        name = self.names.unique(f"{integration.name} Custom Auth")
        return {
            "id": CUSTOM_AUTH_PREFIX + integration.integration_id,
            **self.header(name, integration, secure=False),
            "contract": custom_auth_contract(),
            "config": custom_auth_config(),
        }

    def static_action(self) -> dict[str, Any]:
        """Return a built-in (`static_<uuid>`) lookup shipped with an integration."""
        integration = self.rng.choice(
            [i for i in self.http_integrations if i.kind != "web"]
        )
        fields = self.rng.sample(FIELDS, 2)
        name = self.names.unique(self.rng.choice(BUILT_IN_TITLES))
        request = {
            "requestUrlTemplate": self.url(integration, "lookup", fields[0]),
            "requestType": "GET",
            "headers": {"Accept": "application/json"},
        }
        translation_map = {key: f"$.{key}" for key in fields}
        config = {"request": request, "response": raw_response(translation_map)}
        return {
            "id": f"static_{random_uuid(self.rng)}",
            **self.header(name, integration, secure=False),
            "contract": contract(fields[:1], fields),
            "config": config,
        }

    def function_action(self, timeout: dict[str, Any]) -> dict[str, Any]:
        """Return a function action: code runs instead of an HTTP request."""
        integration = self.function_integration
        fields = self.rng.sample(FIELDS, self.rng.randint(1, 3))
        verb = self.rng.choice(("Transform", "Encrypt", "Score", "Normalise"))
        name = self.names.unique(f"{verb} {self.rng.choice(OBJECTS)} (function)")
        config: dict[str, Any] = dict(timeout)
        config["request"] = {
            "requestType": "POST",
            "headers": {"UserAgent": "PureCloudIntegrations/1.0"},
            "requestTemplate": self.request_template(fields),
        }
        config["response"] = raw_response({})
        return {
            **self.header(name, integration, secure=self.rng.random() < 0.3),
            "contract": contract(fields, ["result"]),
            "config": config,
        }

    # ---------------------------------------------------------------- standard kind

    def standard_action(self, traits: ActionTraits) -> dict[str, Any]:
        """Return an ordinary HTTP data action shaped by `traits`."""
        integration = self.rng.choice(self.http_integrations)
        method = "GET" if traits.template_less else self.method()
        fields = self.rng.sample(FIELDS, self.rng.randint(1, 3))
        subject = self.rng.choice(OBJECTS)
        base = traits.non_ascii_name or f"{self.rng.choice(VERBS[method])} {subject}"
        name = self.names.unique(base)

        config: dict[str, Any] = dict(traits.timeout)
        config["request"] = self.request_config(integration, method, fields, traits)
        config["response"] = self.response_config(method, fields, traits)
        outputs = list(config["response"]["translationMap"])[:20] or ["result"]
        return {
            **self.header(name, integration, secure=self.rng.random() < 0.2),
            "contract": contract(fields, outputs),
            "config": config,
        }

    def header(
        self, name: str, integration: Integration, *, secure: bool
    ) -> dict[str, Any]:
        """Return the leading fields every action has, in the API's order."""
        return {
            "name": name,
            "category": integration.name,
            "integrationId": integration.integration_id,
            "secure": secure,
        }

    def method(self) -> str:
        """Draw an HTTP method with realistic weights."""
        methods = ("GET", "POST", "PUT", "PATCH", "DELETE")
        return self.rng.choices(methods, weights=(30, 40, 12, 13, 5))[0]

    def request_config(
        self,
        integration: Integration,
        method: str,
        fields: list[str],
        traits: ActionTraits,
    ) -> dict[str, Any]:
        """Return `config.request`; only POST, PUT and PATCH carry a template."""
        resource = self.rng.choice(OBJECTS).lower().replace(" ", "-")
        request: dict[str, Any] = {
            "requestUrlTemplate": self.url(integration, resource, fields[0]),
            "requestType": method,
            "headers": self.headers(integration, method, traits.credential_headers),
        }
        if method in WRITE_METHODS:
            request["requestTemplate"] = self.request_template(fields)
        return request

    def url(self, integration: Integration, resource: str, key: str) -> str:
        """Return a request URL template in the style of the integration."""
        variable = f"${{input.{key}}}"
        if integration.kind == "salesforce":
            return (
                f"{integration.base_url}/query?q=SELECT+Id,Name+FROM+Account"
                f"+WHERE+{key}='{variable}'"
            )
        if integration.kind == "zendesk":
            return f"{integration.base_url}/api/v2/{resource}.json?query={variable}"
        if integration.kind == "dynamics":
            return f"{integration.base_url}/{resource}({variable})"
        return f"{integration.base_url}/{resource}/{variable}"

    def headers(
        self, integration: Integration, method: str, credentials: bool
    ) -> dict[str, str]:
        """Return request headers, some of which look like credentials."""
        headers = {"Accept": "application/json"}
        if integration.kind == "genesys":
            headers = {"UserAgent": "PureCloudIntegrations/1.0"}
        if method in WRITE_METHODS:
            headers["Content-Type"] = "application/json"
        if credentials and self.rng.random() < 0.5:
            headers["Authorization"] = f"Bearer demo-{self.rng.getrandbits(96):024x}"
        elif credentials:
            headers["x-api-key"] = f"{self.rng.getrandbits(128):032x}"
        return headers

    def request_template(self, fields: list[str]) -> str:
        """Return a request body template: raw, JSON-like, CRLF, Velocity or form."""
        pairs = [f'"{key}": "${{input.{key}}}"' for key in fields]
        first = fields[0]
        variants = (
            "${input.rawRequest}",
            "{\n  " + ",\n  ".join(pairs) + "\n}",
            "{\r\n  " + ",\r\n  ".join(pairs) + "\r\n}",
            (
                f'#if("$!{{input.{first}}}" != "")\n{{"{first}": "${{input.{first}}}"}}'
                '\n#else\n{"note": "aucune donnée — keine Daten"}\n#end'
            ),
            f"{first}=$esc.url(${{input.{first}}})&source=genesys",
        )
        return self.rng.choice(variants)

    def response_config(
        self, method: str, fields: list[str], traits: ActionTraits
    ) -> dict[str, Any]:
        """Return `config.response`; template-less actions rely on the map alone."""
        translation_map = self.translation_map(method, fields, traits.large_map)
        defaults = {
            key: self.rng.choice(('"UNKNOWN"', "0", "[]", "null"))
            for key in list(translation_map)[:3]
            if self.rng.random() < 0.5
        }
        response: dict[str, Any] = {
            "translationMap": translation_map,
            "translationMapDefaults": defaults,
        }
        with_template = method not in WRITE_METHODS or self.rng.random() < 0.85
        if not traits.template_less and with_template:
            response["successTemplate"] = self.success_template(list(translation_map))
        return response

    def translation_map(
        self, method: str, fields: list[str], large: bool
    ) -> dict[str, str]:
        """Return JSONPath mappings: a few, none (some writes) or 50-200 of them."""
        if large:
            size = self.rng.randint(50, 200)
            return {
                f"{fields[index % len(fields)]}{index}": f"$.records[{index}].value"
                for index in range(size)
            }
        if method in WRITE_METHODS and self.rng.random() < 0.5:
            return {}
        shapes = ("$.{key}", "$.entities[0].{key}", "$.data.items[*].{key}")
        return {key: self.rng.choice(shapes).format(key=key) for key in fields}

    def success_template(self, keys: list[str]) -> str:
        """Return a success template: raw, JSON-like, CRLF, Velocity or non-ASCII."""
        if not keys:
            return "${rawResult}"
        pairs = [f'"{key}": ${{{key}}}' for key in keys[:20]]
        first = keys[0]
        variants = (
            "${rawResult}",
            "{" + ", ".join(pairs) + "}",
            "{\r\n" + ",\r\n".join(pairs) + "\r\n}",
            (
                f'#if(${{{first}}} == "")\n{{"found": false}}\n#else\n'
                f'{{"found": true, "{first}": ${{{first}}}}}\n#end'
            ),
            f'{{"message": "Réponse reçue ✓ 受信", "{first}": ${{{first}}}}}',
        )
        return self.rng.choice(variants)


def contract(inputs: list[str], outputs: list[str]) -> dict[str, Any]:
    """Return an action contract with string properties for inputs and outputs."""
    input_schema = object_schema("Request", inputs, additional=False)
    input_schema["required"] = inputs[:1]
    success_schema = object_schema("Response", outputs, additional=True)
    return {
        "input": {"inputSchema": input_schema},
        "output": {"successSchema": success_schema},
    }


def object_schema(title: str, keys: list[str], *, additional: bool) -> dict[str, Any]:
    """Return a draft-04 object schema with a string property per key."""
    return {
        "$schema": "http://json-schema.org/draft-04/schema#",
        "title": title,
        "type": "object",
        "properties": {key: {"type": "string"} for key in keys},
        "additionalProperties": additional,
    }


def raw_response(translation_map: dict[str, str]) -> dict[str, Any]:
    """Return a response config that passes the raw result through."""
    return {
        "translationMap": translation_map,
        "translationMapDefaults": {},
        "successTemplate": "${rawResult}",
    }


def custom_auth_config() -> dict[str, Any]:
    """Return the config of a custom-auth action: a client-credentials login."""
    basic = (
        'Basic $encoding.base64("${credentials.clientId}:${credentials.clientSecret}")'
    )
    request = {
        "requestUrlTemplate": "${credentials.loginUrl}",
        "requestType": "POST",
        "headers": {
            "Authorization": basic,
            "Content-Type": "application/x-www-form-urlencoded",
        },
        "requestTemplate": "grant_type=client_credentials",
    }
    response = {
        "translationMap": {"tokenValue": "$.access_token"},
        "translationMapDefaults": {},
        "successTemplate": '{ "token": ${tokenValue} }',
    }
    return {"request": request, "response": response}


def custom_auth_contract() -> dict[str, Any]:
    """Return the fixed contract of a custom-auth action: no input, any output."""
    return {
        "input": {
            "inputSchema": {"title": "Auth Input", "type": "object", "properties": {}}
        },
        "output": {
            "successSchema": {
                "type": "object",
                "properties": {},
                "additionalProperties": True,
            }
        },
    }

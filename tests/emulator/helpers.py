"""Helpers shared by the emulator tests: sample org, clock, login."""

from __future__ import annotations

import base64
from typing import Any

import httpx

ACTIONS = "/api/v2/integrations/actions"
CONTROL = "/__emulator__"
NON_ASCII_TEMPLATE = '{"note": "aucune donnée — keine Daten ✓ 日本"}'
CRLF_TEMPLATE = '{\r\n  "order": "${input.orderId}"\r\n}\r\n'
TEMPLATE_LINKS = (
    ("request", "requestTemplateUri", "requestTemplate"),
    ("response", "successTemplateUri", "successTemplate"),
)


class ManualClock:
    """A clock that only moves when a test advances it."""

    def __init__(self, start: float = 1_000_000.0) -> None:
        self.value = start

    def __call__(self) -> float:
        return self.value

    def advance(self, seconds: float) -> None:
        self.value += seconds


def http_action(action_id: str, name: str, **config: Any) -> dict[str, Any]:
    """Return a web-services action document with both templates inline."""
    return {
        "id": action_id,
        "name": name,
        "category": "Acme Web Services",
        "integrationId": "integration-1",
        "secure": False,
        "contract": {
            "input": {"inputSchema": {"type": "object"}},
            "output": {
                "successSchema": {
                    "type": "object",
                    "properties": {"status": {"type": "string"}},
                }
            },
        },
        "config": {
            **config,
            "request": {
                "requestUrlTemplate": "https://orders.example.invalid/${input.orderId}",
                "requestType": "GET",
                "headers": {"Accept": "application/json"},
                "requestTemplate": CRLF_TEMPLATE,
            },
            "response": {
                "translationMap": {"status": "$.state"},
                "translationMapDefaults": {"status": '"UNKNOWN"'},
                "successTemplate": NON_ASCII_TEMPLATE,
            },
        },
    }


def sample_actions() -> list[dict[str, Any]]:
    """Return the small org every test starts from."""
    no_templates = http_action("no-templates", "Ping Service")
    del no_templates["config"]["request"]["requestTemplate"]
    del no_templates["config"]["response"]["successTemplate"]
    custom_auth = http_action("customAuth_-_integration-1", "Custom Auth")
    static = http_action("static_builtin-1", "Built-in Lookup")
    static["category"] = "Genesys Cloud Data Actions"
    function = {
        "id": "function-1",
        "name": "Compute Score",
        "category": "Function Data Actions",
        "integrationId": "integration-2",
        "integrationType": "function-data-actions",
        "secure": True,
        "contract": http_action("x", "x")["contract"],
        "config": {"timeoutSeconds": 20},
    }
    return [
        http_action("lookup-order", "Lookup Order Status", timeoutSeconds=15),
        http_action("no-timeout", "Create Ticket"),
        http_action("null-timeout", "Update Ticket", timeoutSeconds=None),
        no_templates,
        custom_auth,
        static,
        function,
    ]


def basic(client_id: str, client_secret: str) -> str:
    """Return an HTTP Basic `Authorization` value."""
    pair = f"{client_id}:{client_secret}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


def get_token(http: httpx.Client, client_id: str, client_secret: str) -> str:
    """Log in with client credentials and return the access token."""
    response = http.post(
        "/oauth/token",
        headers={"Authorization": basic(client_id, client_secret)},
        data={"grant_type": "client_credentials"},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    """Return the headers of an authenticated call."""
    return {"Authorization": f"Bearer {token}"}


def switch(http: httpx.Client, **options: Any) -> None:
    """Switch emulator options through the control plane."""
    response = http.post(f"{CONTROL}/options", json=options)
    assert response.status_code == 200, response.text


def read_as_client(
    http: httpx.Client, action_id: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """Read an action as a careful client does: config, contract, template texts.

    Each template link is replaced by the text its file serves, inline.
    """
    response = http.get(
        f"{ACTIONS}/{action_id}",
        params={"expand": "contract", "includeConfig": "true"},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    action: dict[str, Any] = response.json()
    for section_name, link_key, template_key in TEMPLATE_LINKS:
        section = action.get("config", {}).get(section_name)
        if isinstance(section, dict) and link_key in section:
            accept = {**(headers or {}), "Accept": "*/*"}
            text = http.get(section.pop(link_key), headers=accept)
            assert text.status_code == 200, text.text
            section[template_key] = text.content.decode("utf-8")
    return action


def send_back(
    http: httpx.Client,
    action_id: str,
    headers: dict[str, str] | None = None,
    *,
    timeout: int | None = None,
) -> httpx.Response:
    """PATCH an action with exactly what a careful client reads of it, with
    `timeout` as its timeoutSeconds when one is given."""
    action = read_as_client(http, action_id, headers)
    body = {key: action[key] for key in ("name", "category", "version", "config")}
    if timeout is not None:
        body["config"]["timeoutSeconds"] = timeout
    return http.patch(f"{ACTIONS}/{action_id}", json=body, headers=headers)

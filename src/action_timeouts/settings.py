"""Where the credentials, the region and the default action come from.

Each field is resolved on its own, first match wins:

1. command-line options (the arguments of `load_settings`);
2. the real environment;
3. a `.env` file in the working directory, read without touching `os.environ`;
4. a profile of the config file (`config.toml` in the user config directory, or in
   `$ACTION_TIMEOUTS_CONFIG_DIR`).

A profile chosen with the `profile` argument (`--profile`) moves up to second
place: what it sets wins over the environment and `.env`, which still supply what
it leaves unset, and a warning names the values it beat.

At one level the newer variable names win over the older ones:
`GENESYSCLOUD_OAUTHCLIENT_ID` over `GENESYS_CLIENT_ID`,
`GENESYSCLOUD_OAUTHCLIENT_SECRET` over `GENESYS_CLIENT_SECRET`, and for the region
`GENESYSCLOUD_API_REGION` (a full API URL, the most precise) over `GENESYSCLOUD_REGION`
over `GENESYS_ENV_NAME`. When two region variables at one level disagree, a warning is
logged. An empty variable counts as unset. The profile is chosen by the `profile`
argument, else `ACTION_TIMEOUTS_PROFILE` (environment, then `.env`), else the file's
`default_profile`.

A profile is a `[profiles.NAME]` table with `client_id`, `client_secret` or
`client_secret_file` (relative to the config file's directory), `region` and
`action_id`; the top-level `default_profile` names the profile used when none is chosen.
The client secret is never a command-line argument: the CLI reads it from a file or
standard input and passes the value in.
"""

from __future__ import annotations

import io
import logging
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from action_timeouts.errors import ConfigurationError
from action_timeouts.regions import REGIONS, Endpoint, resolve_region

__all__ = [
    "CONFIG_DIR_VARIABLE",
    "ENVIRONMENT_NAMES",
    "MAX_SECRET_LENGTH",
    "PROFILE_VARIABLE",
    "Settings",
    "default_config_file",
    "describe_settings",
    "load_settings",
    "mask_secret",
    "read_secret_file",
    "read_secret_stream",
]

logger = logging.getLogger(__name__)

CONFIG_DIR_VARIABLE = "ACTION_TIMEOUTS_CONFIG_DIR"
PROFILE_VARIABLE = "ACTION_TIMEOUTS_PROFILE"

ENVIRONMENT_NAMES: dict[str, tuple[str, ...]] = {
    "client_id": ("GENESYSCLOUD_OAUTHCLIENT_ID", "GENESYS_CLIENT_ID"),
    "client_secret": ("GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYS_CLIENT_SECRET"),
    "region": ("GENESYSCLOUD_API_REGION", "GENESYSCLOUD_REGION", "GENESYS_ENV_NAME"),
    "action_id": ("GENESYS_ACTION_ID",),
}
"""Field -> environment variables that set it, the preferred name first."""

_OPTION_NAMES = {
    "client_id": "option --client-id",
    "client_secret": "option --client-secret-file or --client-secret-stdin",
    "region": "option --region",
}
# Longest secret source read; client secrets are a few dozen characters.
MAX_SECRET_LENGTH = 4096
_TOP_LEVEL_KEYS = {"default_profile", "profiles"}
_PROFILE_KEYS = {
    "client_id": "the OAuth client ID",
    "client_secret": "the client secret",
    "client_secret_file": "the path of the file that holds the client secret",
    "region": "a region name or the API URL",
    "action_id": "an action id",
}
"""Key of a profile -> what its text gives."""
_FIELDS = ("client_id", "client_secret", "region", "action_id")
_CHOSEN_PROFILE = "option --profile (its values win over the environment and .env)"
_NOT_SET = "not set"
_SHORTEST_HINTED_SECRET = 16
# A shorter secret found inside a region value may be there by chance.
_SHORTEST_HIDDEN_SECRET = 8
# A plain value (no dot, colon or slash) longer than this is no region name, even
# misspelt: twice the longest name.
_LONGEST_PLAIN_REGION = 2 * max(len(name) for name in REGIONS)


@dataclass(repr=False)
class Settings:
    """The resolved settings, with where each one came from."""

    client_id: str | None = None
    client_secret: str | None = None
    endpoint: Endpoint | None = None
    action_id: str | None = None
    profile: str | None = None
    sources: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        secret = None if self.client_secret is None else mask_secret(self.client_secret)
        return (
            f"Settings(client_id={self.client_id!r}, client_secret={secret!r}, "
            f"endpoint={self.endpoint!r}, action_id={self.action_id!r}, "
            f"profile={self.profile!r})"
        )

    def require_credentials(self) -> tuple[str, str, Endpoint]:
        """Return the client ID, secret and endpoint, or say which ones are missing."""
        if self.client_id and self.client_secret and self.endpoint:
            return self.client_id, self.client_secret, self.endpoint

        missing = [
            hint
            for value, hint in (
                (self.client_id, "GENESYSCLOUD_OAUTHCLIENT_ID (or --client-id)"),
                (
                    self.client_secret,
                    "GENESYSCLOUD_OAUTHCLIENT_SECRET (or --client-secret-file)",
                ),
                (self.endpoint, "GENESYSCLOUD_REGION (or --region)"),
            )
            if not value
        ]
        message = (
            f"missing settings: set {', '.join(missing)} in the environment, "
            "a .env file or a profile of the config file"
        )
        raise ConfigurationError(message)


def load_settings(
    *,
    client_id: str | None = None,
    client_secret: str | None = None,
    region: str | None = None,
    profile: str | None = None,
    environ: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    config_file: Path | None = None,
) -> Settings:
    """Resolve every setting from options, environment, `.env` and the config file."""
    environ = os.environ if environ is None else environ
    dotenv_path = (Path.cwd() if cwd is None else cwd) / ".env"
    config_path = default_config_file(environ) if config_file is None else config_file
    layers = [
        _options_layer(client_id, client_secret, region),
        _environment_layer(environ, "environment"),
        _environment_layer(_read_dotenv(dotenv_path), f".env ({dotenv_path})"),
    ]

    config = _read_config(config_path)
    _check_config(config, config_path)
    settings = Settings()
    _choose_profile(settings, profile, layers[1:], config, config_path)
    if settings.profile is not None:
        profile_layer = _profile_layer(settings.profile, config, config_path)
        if profile:
            # Chosen on the command line: the profile is what was asked for, so it
            # wins over the environment and .env (options still win over it).
            _warn_of_ignored(profile, profile_layer, layers[1:])
            layers.insert(1, profile_layer)
        else:
            layers.append(profile_layer)
    for name in _FIELDS:
        value, source = _first(name, layers)
        _apply(settings, name, value, source)
    return settings


def default_config_file(environ: Mapping[str, str] | None = None) -> Path:
    """Return `config.toml` in `$ACTION_TIMEOUTS_CONFIG_DIR` or the user config dir."""
    environ = os.environ if environ is None else environ
    directory = environ.get(CONFIG_DIR_VARIABLE)
    if not directory:
        import platformdirs

        directory = platformdirs.user_config_dir("action-timeouts")
    return Path(directory).expanduser() / "config.toml"


def describe_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """List (name, value with secrets masked, source) for display."""
    endpoint = settings.endpoint
    region = None if endpoint is None else f"{endpoint.name} ({endpoint.api_base})"
    secret = settings.client_secret
    rows = [
        ("profile", settings.profile, "profile"),
        ("client_id", settings.client_id, "client_id"),
        (
            "client_secret",
            None if secret is None else mask_secret(secret),
            "client_secret",
        ),
        ("region", region, "endpoint"),
        ("action_id", settings.action_id, "action_id"),
    ]
    return [
        (
            name,
            "(not set)" if value is None else value,
            settings.sources.get(key, _NOT_SET),
        )
        for name, value, key in rows
    ]


def mask_secret(secret: str) -> str:
    """Hide a secret: its first two characters and its length, or nothing if short."""
    if len(secret) < _SHORTEST_HINTED_SECRET:
        return "****** (short)"
    return f"{secret[:2]}… ({len(secret)} characters)"


def read_secret_file(path: str | os.PathLike[str]) -> str:
    """Read a client secret from a file, without the whitespace around it."""
    where = f"the secret file {os.fspath(path)}"
    try:
        with Path(path).expanduser().open("rb") as file:
            data = file.read(MAX_SECRET_LENGTH + 1)
        _refuse_oversized(data, where)
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        message = f"cannot read {where}: it is not UTF-8 text"
        raise ConfigurationError(message) from None
    except IsADirectoryError:
        message = f"cannot read {where}: it is a directory; give the file that holds it"
        raise ConfigurationError(message) from None
    except OSError as exc:
        message = f"cannot read {where}: {exc.strerror or exc}"
        raise ConfigurationError(message) from None
    return _clean_secret(text, where)


def read_secret_stream(stream: IO[str]) -> str:
    """Read a client secret from a text stream such as stdin, as a file is read."""
    text = stream.read(MAX_SECRET_LENGTH + 1)
    _refuse_oversized(text, "standard input")
    return _clean_secret(text, "standard input")


def _refuse_oversized(data: str | bytes, where: str) -> None:
    """Refuse a secret source longer than any client secret, without reading on.

    A client secret is a few dozen characters; a source past the limit (a log
    file given by mistake, `/dev/zero`) is refused rather than read to its end.
    """
    if len(data) > MAX_SECRET_LENGTH:
        message = (
            f"{where} holds more than {MAX_SECRET_LENGTH} characters; it must hold "
            "only the client secret"
        )
        raise ConfigurationError(message)


def _clean_secret(text: str, where: str) -> str:
    """Strip the whitespace around a secret, and a byte order mark before it.

    Client secrets hold no whitespace, while files and pipes often end in a newline
    or a blank line (an editor's, `echo`'s, a Windows `\r\n`) and a Windows editor
    may start a file with a byte order mark; sending either along would fail the
    login as a wrong secret. An empty secret, or text of more than one line, is
    refused without showing it.
    """
    secret = text.strip().removeprefix("\ufeff").strip()
    if not secret:
        message = f"{where} holds no client secret (it is empty)"
        raise ConfigurationError(message)
    if len(secret.splitlines()) > 1:
        message = f"{where} holds more than one line; it must hold only the secret"
        raise ConfigurationError(message)
    return secret


# A layer maps field -> (value, source); the first layer holding a field wins. A
# Path value is a secret file, read only if that layer wins.
_Layer = dict[str, tuple[str | Path, str]]


def _options_layer(
    client_id: str | None, client_secret: str | None, region: str | None
) -> _Layer:
    """Collect the values given as command-line options."""
    given = {"client_id": client_id, "client_secret": client_secret, "region": region}
    return {
        name: (value, _OPTION_NAMES[name]) for name, value in given.items() if value
    }


def _environment_layer(variables: Mapping[str, str | None], label: str) -> _Layer:
    """Collect the fields set by environment variables, preferred names first."""
    layer: _Layer = {}
    for name, variable_names in ENVIRONMENT_NAMES.items():
        present = [variable for variable in variable_names if variables.get(variable)]
        if present:
            value = variables[present[0]] or ""
            layer[name] = (value, f"{label} {present[0]}")
        if name == "region" and len(present) > 1:
            _warn_if_regions_disagree(variables, present, label)
    if variables.get(PROFILE_VARIABLE):
        layer["profile"] = (
            variables[PROFILE_VARIABLE] or "",
            f"{label} {PROFILE_VARIABLE}",
        )
    return layer


def _warn_if_regions_disagree(
    variables: Mapping[str, str | None], present: list[str], label: str
) -> None:
    """Warn when two region variables at one level point at different places."""
    chosen, other = present[0], present[1]
    try:
        same = resolve_region(variables[chosen] or "") == resolve_region(
            variables[other] or ""
        )
    except ConfigurationError:
        same = False
    if not same:
        logger.warning("%s: %s and %s disagree; using %s", label, chosen, other, chosen)


def _read_dotenv(path: Path) -> dict[str, str | None]:
    """Read `.env` without loading it into the process environment."""
    if not path.is_file():
        return {}
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read {path}: {exc}"
        raise ConfigurationError(message) from None

    from dotenv import dotenv_values
    from dotenv.parser import parse_stream

    for binding in parse_stream(io.StringIO(text)):
        if binding.error:
            statement = binding.original.string
            blank = statement[: len(statement) - len(statement.lstrip())]
            line = binding.original.line + blank.count("\n")
            message = (
                f"{path}, line {line}: cannot parse this line; each line must be "
                "KEY=VALUE, a # comment, or blank"
            )
            raise ConfigurationError(message)
    return dict(dotenv_values(stream=io.StringIO(text), interpolate=False))


def _warn_of_ignored(profile: str, chosen: _Layer, lower: list[_Layer]) -> None:
    """Warn, in one line, of environment and .env values the chosen profile beats."""
    ignored = [
        layer[name][1]
        for layer in lower
        for name in _FIELDS
        if name in chosen and name in layer
    ]
    if ignored:
        logger.warning(
            "--profile %s wins over %s: those values are ignored",
            profile,
            ", ".join(ignored),
        )


def _choose_profile(
    settings: Settings,
    profile: str | None,
    layers: list[_Layer],
    config: dict[str, Any],
    config_path: Path,
) -> None:
    """Pick the profile: option, then environment, then `.env`, then the default."""
    if profile:
        settings.profile, settings.sources["profile"] = profile, _CHOSEN_PROFILE
        return
    value, source = _first("profile", layers)
    default = config.get("default_profile")
    if value is None and isinstance(default, str) and default:
        value, source = default, f"default_profile ({config_path})"
    settings.profile = None if value is None else str(value)
    settings.sources["profile"] = source


def _profile_layer(name: str, config: dict[str, Any], config_path: Path) -> _Layer:
    """Collect the values of one profile of the config file."""
    profiles = _config_profiles(config, config_path)
    profile = profiles.get(name)
    if not isinstance(profile, dict):
        known = ", ".join(sorted(profiles)) or "none"
        message = (
            f"profile {name!r} is not in {config_path} "
            f"(add a [profiles.{name}] table; profiles there: {known})"
        )
        raise ConfigurationError(message)

    _check_profile(name, profile, config_path)
    label = f"profile {name} ({config_path})"
    layer: _Layer = {
        key: (value, label)
        for key, value in profile.items()
        if value and key != "client_secret_file"
    }
    secret_file = profile.get("client_secret_file")
    if secret_file:
        path = config_path.parent / Path(secret_file).expanduser()
        layer["client_secret"] = (path, f"{label} client_secret_file")
    return layer


def _check_profile(name: str, profile: dict[str, Any], config_path: Path) -> None:
    """Refuse unknown keys, values that are not text or empty, two secret sources."""
    where = f"{config_path}, [profiles.{name}]"
    for key, value in profile.items():
        if key not in _PROFILE_KEYS:
            allowed = ", ".join(sorted(_PROFILE_KEYS))
            message = f"{where}: unknown key {key!r} (allowed: {allowed})"
            raise ConfigurationError(message)
        if not isinstance(value, str):
            message = (
                f"{where}: {key} must be a string, {_PROFILE_KEYS[key]}, not "
                f"{_toml_kind(value)}"
            )
            raise ConfigurationError(message)
        if not value.strip():
            message = (
                f"{where}: {key} is empty: give {_PROFILE_KEYS[key]}, or leave the "
                "key out"
            )
            raise ConfigurationError(message)
    if "client_secret" in profile and "client_secret_file" in profile:
        message = f"{where}: set client_secret or client_secret_file, not both"
        raise ConfigurationError(message)


def _check_config(config: dict[str, Any], config_path: Path) -> None:
    """Refuse unknown top-level keys, a bad `default_profile`, and any profile that
    is not a table or has a key or value its check refuses, chosen or not."""
    unknown = sorted(set(config) - _TOP_LEVEL_KEYS)
    if unknown:
        allowed = ", ".join(sorted(_TOP_LEVEL_KEYS))
        message = f"{config_path}: unknown key {unknown[0]!r} (allowed: {allowed})"
        raise ConfigurationError(message)
    if "default_profile" in config:
        default = config["default_profile"]
        if not isinstance(default, str) or not default.strip():
            found = "empty" if isinstance(default, str) else _toml_kind(default)
            message = (
                f"{config_path}: default_profile must be the name of a profile, as "
                f'a string (default_profile = "prod"), not {found}'
            )
            raise ConfigurationError(message)
    for name, profile in _config_profiles(config, config_path).items():
        if not isinstance(profile, dict):
            message = (
                f"{config_path}: profiles.{name} must be a table ([profiles.{name}] "
                f"with client_id, region and so on), not {_toml_kind(profile)}"
            )
            raise ConfigurationError(message)
        _check_profile(name, profile, config_path)


def _toml_kind(value: object) -> str:
    """Name the kind of a TOML value, for a message that must not quote it."""
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "a table"
    return "a date or time"


def _config_profiles(config: dict[str, Any], config_path: Path) -> dict[str, Any]:
    """Return the `[profiles]` table of the config file (empty if there is none)."""
    profiles = config.get("profiles", {})
    if not isinstance(profiles, dict):
        message = f"{config_path}: 'profiles' must be a table ([profiles.NAME])"
        raise ConfigurationError(message)
    return profiles


def _read_config(config_path: Path) -> dict[str, Any]:
    """Parse the config file; a missing file is an empty configuration."""
    try:
        text = config_path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        message = f"cannot read the config file {config_path}: {exc}"
        raise ConfigurationError(message) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = f"{config_path}: malformed TOML: {exc}"
        raise ConfigurationError(message) from None


def _first(name: str, layers: list[_Layer]) -> tuple[str | Path | None, str]:
    """Return the value and source of a field from the first layer that sets it."""
    for layer in layers:
        if name in layer:
            return layer[name]
    return None, _NOT_SET


def _apply(
    settings: Settings, name: str, value: str | Path | None, source: str
) -> None:
    """Store one resolved field (reading a secret file, resolving the region)."""
    if isinstance(value, Path):
        value = read_secret_file(value)
    elif name == "client_secret" and value is not None:
        value = _clean_secret(value, source)
    if name == "region":
        settings.endpoint = _resolve(value, source, settings.client_secret)
        settings.sources["endpoint"] = source
        return
    setattr(settings, name, value)
    settings.sources[name] = source


def _resolve(value: str | None, source: str, secret: str | None) -> Endpoint | None:
    """Resolve a region value, naming where it came from when it is wrong.

    A wrong region is quoted in the error, unless it may be a secret pasted into
    the wrong variable: a value that holds the client secret, or one too long and
    plain for any region name or domain (the secret and the region swapped).
    """
    if value is None:
        return None
    try:
        return resolve_region(value)
    except ConfigurationError as exc:
        message = f"{exc} (region from {source})"
        if _holds_secret(value, secret):
            message = (
                f"the region from {source} looks like the client secret, not a "
                "region: check which variable holds what"
            )
        elif _looks_like_a_secret(value):
            message = (
                f"the region from {source} is no region name or domain "
                f"({len(value)} characters, not shown in case it is a secret): check "
                "which variable holds what"
            )
        raise ConfigurationError(message) from None


def _holds_secret(value: str, secret: str | None) -> bool:
    """Tell whether a value is, or contains, the client secret."""
    if not secret or not secret.strip():
        return False
    if value.strip() == secret.strip():
        return True
    return len(secret.strip()) >= _SHORTEST_HIDDEN_SECRET and secret.strip() in value


def _looks_like_a_secret(value: str) -> bool:
    """Tell whether a value is longer than any region name and has no dot, colon or
    slash, as a domain or URL would."""
    text = value.strip()
    return len(text) > _LONGEST_PLAIN_REGION and not any(c in text for c in ".:/")

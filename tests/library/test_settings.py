"""Settings come from options, environment, .env and profiles, in that order."""

from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from action_timeouts.errors import ConfigurationError
from action_timeouts.regions import resolve_region
from action_timeouts.settings import (
    Settings,
    default_config_file,
    describe_settings,
    load_settings,
    mask_secret,
    read_secret_file,
    read_secret_stream,
)

SECRET = "s3cr3t-value-that-is-long-enough-0123456789"


@pytest.fixture
def cwd(tmp_path: Path) -> Path:
    """An empty working directory (where `.env` is looked for)."""
    directory = tmp_path / "work"
    directory.mkdir()
    return directory


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    """The path of a config file in a temporary config directory (not created)."""
    directory = tmp_path / "config"
    directory.mkdir()
    return directory / "config.toml"


def load(
    cwd: Path, config_file: Path, environ: dict[str, str] | None = None, **options: Any
) -> Settings:
    """Load settings with an explicit environment, directory and config file."""
    return load_settings(
        environ={} if environ is None else environ,
        cwd=cwd,
        config_file=config_file,
        **options,
    )


# Each level sets every field to its own value, so the winner is visible.
LEVEL_VALUES = {
    "option": {"client_id": "id-option", "client_secret": "secret-option"},
    "environment": {"client_id": "id-env", "client_secret": "secret-env"},
    "dotenv": {"client_id": "id-dotenv", "client_secret": "secret-dotenv"},
    "profile": {"client_id": "id-profile", "client_secret": "secret-profile"},
}
LEVEL_REGIONS = {
    "option": "eu-west-1",
    "environment": "us-east-1",
    "dotenv": "ap-southeast-2",
    "profile": "eu-central-1",
}
LEVEL_ACTIONS = {"environment": "action-env", "dotenv": "action-dotenv"}
LEVEL_ACTIONS["profile"] = "action-profile"


def set_up_levels(levels: tuple[str, ...], cwd: Path, config_file: Path) -> Any:
    """Write the given levels and return (environment, options)."""
    environ: dict[str, str] = {}
    options: dict[str, str] = {}
    if "option" in levels:
        options = {**LEVEL_VALUES["option"], "region": LEVEL_REGIONS["option"]}
    if "environment" in levels:
        environ = {
            "GENESYSCLOUD_OAUTHCLIENT_ID": "id-env",
            "GENESYSCLOUD_OAUTHCLIENT_SECRET": "secret-env",
            "GENESYSCLOUD_REGION": LEVEL_REGIONS["environment"],
            "GENESYS_ACTION_ID": "action-env",
        }
    if "dotenv" in levels:
        (cwd / ".env").write_text(
            "GENESYSCLOUD_OAUTHCLIENT_ID=id-dotenv\n"
            "GENESYSCLOUD_OAUTHCLIENT_SECRET=secret-dotenv\n"
            f"GENESYSCLOUD_REGION={LEVEL_REGIONS['dotenv']}\n"
            "GENESYS_ACTION_ID=action-dotenv\n"
        )
    if "profile" in levels:
        config_file.write_text(
            'default_profile = "main"\n[profiles.main]\nclient_id = "id-profile"\n'
            'client_secret = "secret-profile"\n'
            f'region = "{LEVEL_REGIONS["profile"]}"\naction_id = "action-profile"\n'
        )
    return environ, options


PRECEDENCE = [
    (("option", "environment", "dotenv", "profile"), "option"),
    (("environment", "dotenv", "profile"), "environment"),
    (("dotenv", "profile"), "dotenv"),
    (("profile",), "profile"),
    (("option", "profile"), "option"),
    (("option", "dotenv"), "option"),
    (("environment", "profile"), "environment"),
    (("environment", "dotenv"), "environment"),
    ((), None),
]
SOURCE_PREFIXES = {
    "option": "option ",
    "environment": "environment ",
    "dotenv": ".env (",
    "profile": "profile main (",
    None: "not set",
}


@pytest.mark.parametrize(
    ("levels", "winner"),
    PRECEDENCE,
    ids=["+".join(levels) or "nothing" for levels, _ in PRECEDENCE],
)
def test_precedence_of_credentials_and_region(
    levels: tuple[str, ...], winner: str | None, cwd: Path, config_file: Path
) -> None:
    """Options beat the environment, which beats .env, which beats the profile."""
    environ, options = set_up_levels(levels, cwd, config_file)

    settings = load(cwd, config_file, environ, **options)

    values = LEVEL_VALUES.get(winner or "", {})
    assert settings.client_id == values.get("client_id")
    assert settings.client_secret == values.get("client_secret")
    region = LEVEL_REGIONS.get(winner or "")
    assert settings.endpoint == (resolve_region(region) if region else None)
    for name in ("client_id", "client_secret", "endpoint"):
        assert settings.sources[name].startswith(SOURCE_PREFIXES[winner])


@pytest.mark.parametrize(
    ("levels", "winner"),
    [
        (("environment", "dotenv", "profile"), "environment"),
        (("dotenv", "profile"), "dotenv"),
        (("profile",), "profile"),
        ((), None),
    ],
    ids=["environment", "dotenv", "profile", "nothing"],
)
def test_precedence_of_the_default_action(
    levels: tuple[str, ...], winner: str | None, cwd: Path, config_file: Path
) -> None:
    """The default action id follows the same order (it has no option here)."""
    environ, _ = set_up_levels(levels, cwd, config_file)

    settings = load(cwd, config_file, environ)

    assert settings.action_id == LEVEL_ACTIONS.get(winner or "")
    assert settings.sources["action_id"].startswith(SOURCE_PREFIXES[winner])


def test_sources_name_the_variable_and_file(cwd: Path, config_file: Path) -> None:
    """Each source says the level, the variable and the file it came from."""
    (cwd / ".env").write_text("GENESYS_ENV_NAME=eu-west-1\n")
    config_file.write_text('[profiles.prod]\nclient_id = "id"\n')

    settings = load(
        cwd, config_file, {"GENESYSCLOUD_OAUTHCLIENT_SECRET": "x"}, profile="prod"
    )

    assert settings.sources == {
        "profile": "option --profile (its values win over the environment and .env)",
        "client_id": f"profile prod ({config_file})",
        "client_secret": "environment GENESYSCLOUD_OAUTHCLIENT_SECRET",
        "endpoint": f".env ({cwd / '.env'}) GENESYS_ENV_NAME",
        "action_id": "not set",
    }


def test_option_sources_name_the_options(cwd: Path, config_file: Path) -> None:
    """Values given as options are labelled with the option that gives them."""
    settings = load(
        cwd, config_file, client_id="a", client_secret="b", region="eu-west-1"
    )

    assert settings.sources["client_id"] == "option --client-id"
    assert settings.sources["endpoint"] == "option --region"
    assert "--client-secret-file" in settings.sources["client_secret"]


def test_dotenv_never_overrides_or_enters_the_real_environment(
    cwd: Path, config_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real environment wins over .env, and .env is not loaded into os.environ."""
    monkeypatch.setenv("GENESYSCLOUD_REGION", "us-east-1")
    (cwd / ".env").write_text("GENESYSCLOUD_REGION=eu-west-1\nGENESYS_CLIENT_ID=abc\n")

    settings = load_settings(cwd=cwd, config_file=config_file)

    assert settings.endpoint == resolve_region("us-east-1")
    assert settings.client_id == "abc"
    assert "GENESYS_CLIENT_ID" not in os.environ
    assert os.environ["GENESYSCLOUD_REGION"] == "us-east-1"


class NameCase(NamedTuple):
    """Variables set at one level, and the field value and variable that must win."""

    variables: dict[str, str]
    field: str
    expected: str
    source: str


NAME_CASES = {
    "id-new-wins": NameCase(
        {"GENESYSCLOUD_OAUTHCLIENT_ID": "new", "GENESYS_CLIENT_ID": "old"},
        "client_id",
        "new",
        "GENESYSCLOUD_OAUTHCLIENT_ID",
    ),
    "id-old-alone": NameCase(
        {"GENESYS_CLIENT_ID": "old"}, "client_id", "old", "GENESYS_CLIENT_ID"
    ),
    "secret-new-wins": NameCase(
        {"GENESYSCLOUD_OAUTHCLIENT_SECRET": "new", "GENESYS_CLIENT_SECRET": "old"},
        "client_secret",
        "new",
        "GENESYSCLOUD_OAUTHCLIENT_SECRET",
    ),
    "secret-old-alone": NameCase(
        {"GENESYS_CLIENT_SECRET": "old"},
        "client_secret",
        "old",
        "GENESYS_CLIENT_SECRET",
    ),
}


@pytest.mark.parametrize("case", NAME_CASES.values(), ids=NAME_CASES.keys())
@pytest.mark.parametrize("level", ["environment", "dotenv"])
def test_newer_names_win_over_older_ones_at_one_level(
    case: NameCase, level: str, cwd: Path, config_file: Path
) -> None:
    """GENESYSCLOUD_* names beat the older GENESYS_* names in one place."""
    environ = case.variables if level == "environment" else {}
    if level == "dotenv":
        lines = [f"{name}={value}\n" for name, value in case.variables.items()]
        (cwd / ".env").write_text("".join(lines))

    settings = load(cwd, config_file, environ)

    assert getattr(settings, case.field) == case.expected
    assert settings.sources[case.field].endswith(f" {case.source}")


REGION_CASES = {
    "api-region-first": (
        {
            "GENESYSCLOUD_API_REGION": "https://api.mypurecloud.ie",
            "GENESYSCLOUD_REGION": "eu-west-1",
            "GENESYS_ENV_NAME": "eu-west-1",
        },
        ("eu-west-1", "GENESYSCLOUD_API_REGION"),
    ),
    "region-before-env-name": (
        {"GENESYSCLOUD_REGION": "eu_west_1", "GENESYS_ENV_NAME": "eu-west-1"},
        ("eu-west-1", "GENESYSCLOUD_REGION"),
    ),
    "env-name-domain": (
        {"GENESYS_ENV_NAME": "mypurecloud.de"},
        ("eu-central-1", "GENESYS_ENV_NAME"),
    ),
    "env-name-local": (
        {"GENESYS_ENV_NAME": "localhost:8080"},
        ("localhost:8080", "GENESYS_ENV_NAME"),
    ),
}


@pytest.mark.parametrize(
    ("variables", "expected"), REGION_CASES.values(), ids=REGION_CASES.keys()
)
def test_region_variables_in_order(
    variables: dict[str, str],
    expected: tuple[str, str],
    cwd: Path,
    config_file: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GENESYSCLOUD_API_REGION, then GENESYSCLOUD_REGION, then GENESYS_ENV_NAME."""
    settings = load(cwd, config_file, variables)

    assert settings.endpoint is not None
    assert (settings.endpoint.name, settings.sources["endpoint"]) == (
        expected[0],
        f"environment {expected[1]}",
    )
    assert "disagree" not in caplog.text


def test_disagreeing_region_variables_log_a_warning(
    cwd: Path, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """When the API URL and the region name differ, the URL wins with a warning."""
    environ = {
        "GENESYSCLOUD_API_REGION": "https://api.mypurecloud.ie",
        "GENESYSCLOUD_REGION": "us-east-1",
    }
    with caplog.at_level(logging.WARNING):
        settings = load(cwd, config_file, environ)

    assert settings.endpoint == resolve_region("eu-west-1")
    assert "GENESYSCLOUD_API_REGION and GENESYSCLOUD_REGION disagree" in caplog.text


def test_empty_variables_count_as_unset(cwd: Path, config_file: Path) -> None:
    """An empty newer variable does not hide an older one that is set."""
    environ = {"GENESYSCLOUD_OAUTHCLIENT_ID": "", "GENESYS_CLIENT_ID": "old"}

    settings = load(cwd, config_file, environ)

    assert settings.client_id == "old"


def test_dotenv_values_are_literal(cwd: Path, config_file: Path) -> None:
    """`${VAR}` in .env is not expanded: secrets are taken as written."""
    (cwd / ".env").write_text("GENESYS_CLIENT_SECRET=a${HOME}b\n")

    settings = load(cwd, config_file, {"HOME": "/root"})

    assert settings.client_secret == "a${HOME}b"


def test_dotenv_key_without_value_is_unset(cwd: Path, config_file: Path) -> None:
    """A bare key in .env sets nothing."""
    (cwd / ".env").write_text("GENESYS_CLIENT_ID\n")

    assert load(cwd, config_file).client_id is None


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("GENESYS_CLIENT_ID=a\nthis is not a setting\n", 2),
        ("# comment\n\nGENESYS_ENV_NAME='unterminated\n", 3),
    ],
    ids=["words", "open-quote"],
)
def test_malformed_dotenv_names_file_and_line(
    text: str, line: int, cwd: Path, config_file: Path
) -> None:
    """A line python-dotenv cannot parse is an error naming the file and line."""
    (cwd / ".env").write_text(text)

    with pytest.raises(ConfigurationError) as caught:
        load(cwd, config_file)

    assert f"{cwd / '.env'}, line {line}" in str(caught.value)
    assert "must be KEY=VALUE" in str(caught.value)


def test_dotenv_that_is_not_utf8_is_an_error(cwd: Path, config_file: Path) -> None:
    """A .env that cannot be decoded is reported with its path."""
    (cwd / ".env").write_bytes(b"GENESYS_CLIENT_ID=\xff\xfe\n")

    with pytest.raises(ConfigurationError, match=r"\.env"):
        load(cwd, config_file)


def test_malformed_toml_names_file_and_line(cwd: Path, config_file: Path) -> None:
    """A broken config file is an error naming the file and the line."""
    config_file.write_text('[profiles.prod]\nclient_id = "a"\nregion = \n')

    with pytest.raises(ConfigurationError) as caught:
        load(cwd, config_file)

    assert str(config_file) in str(caught.value)
    assert "line 3" in str(caught.value)


def write_profiles(config_file: Path) -> None:
    """Write two profiles and a default."""
    config_file.write_text(
        'default_profile = "dev"\n'
        '[profiles.dev]\nclient_id = "dev-id"\nregion = "localhost:8080"\n'
        '[profiles.prod]\nclient_id = "prod-id"\nregion = "eu-west-1"\n'
    )


class ProfileCase(NamedTuple):
    """Where a profile may be named, and which profile and source must win."""

    argument: str | None
    environ: dict[str, str]
    dotenv: str | None
    chosen: str
    source: str


PROFILE_CASES = {
    "default": ProfileCase(None, {}, None, "dev", "default_profile ("),
    "argument": ProfileCase("prod", {}, None, "prod", "option --profile"),
    "environment": ProfileCase(
        None, {"ACTION_TIMEOUTS_PROFILE": "prod"}, None, "prod", "environment "
    ),
    "dotenv": ProfileCase(None, {}, "ACTION_TIMEOUTS_PROFILE=prod\n", "prod", ".env ("),
    "argument-wins": ProfileCase(
        "dev", {"ACTION_TIMEOUTS_PROFILE": "prod"}, None, "dev", "option --profile"
    ),
    "environment-wins": ProfileCase(
        None,
        {"ACTION_TIMEOUTS_PROFILE": "dev"},
        "ACTION_TIMEOUTS_PROFILE=prod\n",
        "dev",
        "environment ",
    ),
}


@pytest.mark.parametrize("case", PROFILE_CASES.values(), ids=PROFILE_CASES.keys())
def test_profile_choice(case: ProfileCase, cwd: Path, config_file: Path) -> None:
    """The profile comes from the argument, the environment, .env, then the default."""
    write_profiles(config_file)
    if case.dotenv:
        (cwd / ".env").write_text(case.dotenv)

    settings = load(cwd, config_file, case.environ, profile=case.argument)

    assert settings.profile == case.chosen
    assert settings.client_id == f"{case.chosen}-id"
    assert settings.sources["profile"].startswith(case.source)


def test_no_config_file_means_no_profile(cwd: Path, config_file: Path) -> None:
    """Without a config file nothing comes from a profile."""
    settings = load(cwd, config_file)

    assert settings.profile is None
    assert settings.sources["profile"] == "not set"


@pytest.mark.parametrize("write_file", [True, False], ids=["other-profiles", "no-file"])
def test_unknown_profile_is_an_error(
    write_file: bool, cwd: Path, config_file: Path
) -> None:
    """Asking for a profile that does not exist says where to add it."""
    if write_file:
        write_profiles(config_file)

    with pytest.raises(ConfigurationError, match=r"\[profiles.staging\]"):
        load(cwd, config_file, profile="staging")


def test_profile_secret_file_is_relative_to_the_config_file(
    cwd: Path, config_file: Path
) -> None:
    """client_secret_file is read (one newline dropped) relative to the config dir."""
    (config_file.parent / "prod.secret").write_text(f"{SECRET}\n")
    config_file.write_text('[profiles.prod]\nclient_secret_file = "prod.secret"\n')

    settings = load(cwd, config_file, profile="prod")

    assert settings.client_secret == SECRET
    assert settings.sources["client_secret"].endswith("client_secret_file")


def test_profile_secret_file_is_not_read_when_a_higher_level_has_the_secret(
    cwd: Path, config_file: Path
) -> None:
    """A secret from the environment makes the default profile's secret file moot."""
    config_file.write_text(
        'default_profile = "prod"\n'
        '[profiles.prod]\nclient_secret_file = "missing.secret"\n'
    )

    settings = load(cwd, config_file, {"GENESYSCLOUD_OAUTHCLIENT_SECRET": "env"})

    assert settings.client_secret == "env"


def test_chosen_profile_secret_file_is_not_read_under_an_option(
    cwd: Path, config_file: Path
) -> None:
    """A secret given as an option makes even a chosen profile's secret file moot."""
    config_file.write_text('[profiles.prod]\nclient_secret_file = "missing.secret"\n')

    settings = load(cwd, config_file, client_secret="option", profile="prod")

    assert settings.client_secret == "option"


@pytest.mark.parametrize(
    ("profile_text", "fragment"),
    [
        ('regoin = "eu-west-1"\n', "unknown key 'regoin'"),
        ("client_id = 42\n", "client_id must be a string"),
        ('client_secret = "a"\nclient_secret_file = "b"\n', "not both"),
        ('region = "eu-west-9"\n', "region from profile prod"),
        ('client_secret_file = ""\n', "client_secret_file is empty: give the path"),
        ('client_id = " "\n', "client_id is empty: give the OAuth client ID"),
        ("action_id = true\n", "action_id must be a string, an action id, not true"),
    ],
    ids=[
        "typo",
        "not-a-string",
        "two-secrets",
        "bad-region",
        "empty-secret-file",
        "blank-client-id",
        "boolean",
    ],
)
def test_malformed_profiles_are_errors(
    profile_text: str, fragment: str, cwd: Path, config_file: Path
) -> None:
    """Typos, wrong types, two secret sources and bad regions are refused."""
    config_file.write_text(f"[profiles.prod]\n{profile_text}")

    with pytest.raises(ConfigurationError, match=fragment):
        load(cwd, config_file, profile="prod")


UNSELECTED = [
    ('region = ["a"]\n', "[profiles.q]: region must be a string"),
    ("unknown = 1\n", "[profiles.q]: unknown key 'unknown' (allowed: "),
    ("client_id = 42\n", "[profiles.q]: client_id must be a string"),
    ('client_secret = "a"\nclient_secret_file = "b"\n', "[profiles.q]: set client"),
]


@pytest.mark.parametrize(
    ("profile_text", "fragment"),
    UNSELECTED,
    ids=["region-an-array", "unknown-key", "not-a-string", "two-secrets"],
)
@pytest.mark.parametrize("chosen", [None, "prod"], ids=["no-profile", "another"])
def test_a_profile_not_chosen_is_checked_too(
    profile_text: str,
    fragment: str,
    chosen: str | None,
    cwd: Path,
    config_file: Path,
) -> None:
    """Every profile's keys and value types are checked, whichever is chosen."""
    config_file.write_text(
        f'[profiles.prod]\nregion = "eu-west-1"\n[profiles.q]\n{profile_text}'
    )

    with pytest.raises(ConfigurationError) as raised:
        load(cwd, config_file, profile=chosen)

    assert str(raised.value).startswith(f"{config_file}, {fragment}")
    assert "\n" not in str(raised.value)


def test_a_bad_region_in_a_profile_not_chosen_is_left_unparsed(
    cwd: Path, config_file: Path
) -> None:
    """A region is parsed only when its profile is used."""
    config_file.write_text(
        '[profiles.prod]\nregion = "eu-west-1"\n[profiles.q]\nregion = "eu-west-9"\n'
    )

    settings = load(cwd, config_file, profile="prod")

    assert settings.endpoint == resolve_region("eu-west-1")


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("default_profile = 5\n", "default_profile must be the name of a profile"),
        ('default_profile = ""\n', 'as a string (default_profile = "prod"), not empty'),
        ("[profiles]\nemu = 5\n", "profiles.emu must be a table ([profiles.emu]"),
        ('[profiles]\nemu = "x"\n', "profiles.emu must be a table"),
        (
            'defualt_profile = "emu"\n[profiles.emu]\nregion = "eu-west-1"\n',
            "unknown key 'defualt_profile' (allowed: default_profile, profiles)",
        ),
    ],
    ids=[
        "default-a-number",
        "default-empty",
        "profile-a-number",
        "profile-a-string",
        "unknown-top-level-key",
    ],
)
@pytest.mark.parametrize("chosen", [None, "emu"], ids=["no-option", "option"])
def test_config_of_the_wrong_shape_is_an_error(
    text: str, fragment: str, chosen: str | None, cwd: Path, config_file: Path
) -> None:
    """A default_profile or profile of the wrong type is refused, naming the file."""
    config_file.write_text(text)

    with pytest.raises(ConfigurationError, match=re.escape(fragment)) as raised:
        load(cwd, config_file, profile=chosen)

    assert str(raised.value).startswith(f"{config_file}: ")
    assert "\n" not in str(raised.value)


def test_profiles_must_be_a_table(cwd: Path, config_file: Path) -> None:
    """`profiles = "x"` is refused with the expected layout."""
    config_file.write_text('profiles = "prod"\n')

    with pytest.raises(ConfigurationError, match=r"\[profiles.NAME\]"):
        load(cwd, config_file, profile="prod")


def test_bad_region_names_its_source(cwd: Path, config_file: Path) -> None:
    """A wrong region says which variable it came from."""
    with pytest.raises(ConfigurationError, match="environment GENESYSCLOUD_REGION"):
        load(cwd, config_file, {"GENESYSCLOUD_REGION": "mars-1"})


CANARY = "canary-SECRET-7f3a9c-0123456789abcdef"


@pytest.mark.parametrize(
    "region",
    [
        pytest.param(CANARY, id="the-secret"),
        pytest.param(f" {CANARY}\n", id="the-secret-with-spaces"),
        pytest.param(f"https://{CANARY}.example/x", id="a-url-holding-it"),
        pytest.param(f"eu-west-1{CANARY}", id="glued-to-a-region"),
    ],
)
def test_a_region_holding_the_secret_is_never_echoed(
    region: str, cwd: Path, config_file: Path
) -> None:
    """A region variable set to (or holding) the client secret is refused saying
    it looks like the secret, without repeating its value."""
    environ = {"GENESYSCLOUD_OAUTHCLIENT_SECRET": CANARY, "GENESYSCLOUD_REGION": region}

    with pytest.raises(ConfigurationError) as caught:
        load(cwd, config_file, environ)

    assert CANARY not in str(caught.value)
    assert str(caught.value) == (
        "the region from environment GENESYSCLOUD_REGION looks like the client "
        "secret, not a region: check which variable holds what"
    )
    assert caught.value.exit_code == 3


def test_a_region_swapped_with_the_secret_is_never_echoed(
    cwd: Path, config_file: Path
) -> None:
    """With the secret and the region swapped, the long plain value in the region
    variable is not shown either: only its length and what to check."""
    environ = {
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "eu-west-1",
        "GENESYSCLOUD_REGION": CANARY,
    }

    with pytest.raises(ConfigurationError) as caught:
        load(cwd, config_file, environ)

    assert CANARY not in str(caught.value)
    assert f"is no region name or domain ({len(CANARY)} characters" in str(caught.value)
    assert str(caught.value).endswith("check which variable holds what")


def test_a_misspelt_region_is_still_quoted(cwd: Path, config_file: Path) -> None:
    """A wrong region that holds no secret is quoted, so the typo can be seen."""
    environ = {
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": CANARY,
        "GENESYSCLOUD_REGION": "eu-wset-1",
    }

    with pytest.raises(
        ConfigurationError, match="unknown Genesys Cloud region 'eu-wset-1'"
    ):
        load(cwd, config_file, environ)


def test_config_dir_variable_moves_the_config_file(tmp_path: Path) -> None:
    """ACTION_TIMEOUTS_CONFIG_DIR replaces the user config directory."""
    environ = {"ACTION_TIMEOUTS_CONFIG_DIR": str(tmp_path)}

    assert default_config_file(environ) == tmp_path / "config.toml"


def test_default_config_file_is_in_the_user_config_directory() -> None:
    """Without the variable the file is `action-timeouts/config.toml` of the user."""
    path = default_config_file({})

    assert path.name == "config.toml"
    assert path.parent.name == "action-timeouts"


def test_load_settings_reads_the_config_dir_from_the_environment(
    tmp_path: Path, cwd: Path
) -> None:
    """With no config_file argument the directory comes from the environment given."""
    (tmp_path / "config.toml").write_text('[profiles.p]\nclient_id = "from-dir"\n')
    environ = {"ACTION_TIMEOUTS_CONFIG_DIR": str(tmp_path)}

    settings = load_settings(environ=environ, cwd=cwd, profile="p")

    assert settings.client_id == "from-dir"


@pytest.mark.parametrize(
    ("secret", "shown"),
    [
        (SECRET, f"s3… ({len(SECRET)} characters)"),
        ("0123456789abcdef", "01… (16 characters)"),
        ("short-secret", "****** (short)"),
        ("", "****** (short)"),
    ],
    ids=["long", "threshold", "short", "empty"],
)
def test_mask_secret(secret: str, shown: str) -> None:
    """Long secrets show two characters and a length, short ones nothing."""
    assert mask_secret(secret) == shown


def test_describe_settings_masks_the_secret(cwd: Path, config_file: Path) -> None:
    """The description lists every setting with its source, never the secret."""
    settings = load(
        cwd,
        config_file,
        {"GENESYSCLOUD_OAUTHCLIENT_SECRET": SECRET},
        client_id="cid",
        region="eu-west-1",
    )

    rows = describe_settings(settings)

    assert rows == [
        ("profile", "(not set)", "not set"),
        ("client_id", "cid", "option --client-id"),
        (
            "client_secret",
            mask_secret(SECRET),
            "environment GENESYSCLOUD_OAUTHCLIENT_SECRET",
        ),
        ("region", "eu-west-1 (https://api.mypurecloud.ie)", "option --region"),
        ("action_id", "(not set)", "not set"),
    ]
    assert SECRET not in repr(rows)


def test_repr_never_shows_the_secret() -> None:
    """repr() and str() of settings mask the secret."""
    settings = Settings(client_id="cid", client_secret=SECRET)

    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert "cid" in repr(settings)


def test_require_credentials_returns_them(cwd: Path, config_file: Path) -> None:
    """Complete settings give (client id, secret, endpoint)."""
    settings = load(
        cwd, config_file, client_id="a", client_secret="b", region="eu-west-1"
    )

    assert settings.require_credentials() == ("a", "b", resolve_region("eu-west-1"))


@pytest.mark.parametrize(
    ("given", "missing"),
    [
        ({}, ["OAUTHCLIENT_ID", "OAUTHCLIENT_SECRET", "GENESYSCLOUD_REGION"]),
        ({"client_id": "a", "region": "eu-west-1"}, ["OAUTHCLIENT_SECRET"]),
        ({"client_id": "a", "client_secret": "b"}, ["GENESYSCLOUD_REGION"]),
    ],
    ids=["nothing", "no-secret", "no-region"],
)
def test_require_credentials_names_what_to_set(
    given: dict[str, str], missing: list[str], cwd: Path, config_file: Path
) -> None:
    """Missing settings raise an error naming the variables to set."""
    settings = load(cwd, config_file, **given)

    with pytest.raises(ConfigurationError) as caught:
        settings.require_credentials()

    message = str(caught.value)
    for name in missing:
        assert name in message
    assert ("OAUTHCLIENT_ID" in message) == ("OAUTHCLIENT_ID" in missing)


@pytest.mark.parametrize(
    "content",
    [
        f"{SECRET}\n",
        f"{SECRET}\r\n",
        SECRET,
        f"{SECRET}\n\n",
        f"{SECRET}\r\n\r\n",
        f" {SECRET} \n",
        f"\t{SECRET}\t",
        f"\n{SECRET}\n",
    ],
    ids=[
        "newline",
        "crlf",
        "none",
        "blank-line",
        "crlf-blank-line",
        "spaces",
        "tabs",
        "leading-newline",
    ],
)
def test_read_secret_file_strips_surrounding_whitespace(
    content: str, tmp_path: Path
) -> None:
    """Whitespace around the secret in its file, line endings included, is dropped."""
    path = tmp_path / "secret"
    path.write_text(content, newline="")

    assert read_secret_file(path) == SECRET


@pytest.mark.parametrize(
    "content", ["", "\n", "  \n"], ids=["empty", "newline", "blank"]
)
def test_read_secret_file_refuses_an_empty_file(content: str, tmp_path: Path) -> None:
    """An empty secret file is a clear configuration error."""
    path = tmp_path / "secret"
    path.write_text(content)

    with pytest.raises(ConfigurationError, match="empty"):
        read_secret_file(path)


@pytest.mark.parametrize("kind", ["missing", "directory"])
def test_read_secret_file_reports_unreadable_files(kind: str, tmp_path: Path) -> None:
    """A missing or unreadable secret file names its path."""
    path = tmp_path / "secret"
    if kind == "directory":
        path.mkdir()

    with pytest.raises(ConfigurationError, match="cannot read the secret file"):
        read_secret_file(path)


def test_read_secret_stream_reads_standard_input() -> None:
    """A secret piped in is read without the whitespace and blank lines around it."""
    assert read_secret_stream(io.StringIO(f"  {SECRET}\r\n\r\n")) == SECRET


def test_read_secret_stream_refuses_nothing() -> None:
    """An empty standard input is an error."""
    with pytest.raises(ConfigurationError, match="standard input"):
        read_secret_stream(io.StringIO(""))


@pytest.mark.parametrize(
    "content", ["\ufeff" + SECRET, "\ufeff" + SECRET + "\r\n"], ids=["bom", "bom-crlf"]
)
def test_read_secret_file_drops_a_byte_order_mark(content: str, tmp_path: Path) -> None:
    """A byte order mark a Windows editor put first is not part of the secret."""
    path = tmp_path / "secret"
    path.write_text(content, encoding="utf-8", newline="")

    assert read_secret_file(path) == SECRET


@pytest.mark.parametrize(
    "content",
    [f"{SECRET}\nsecond", f"# client secret\n{SECRET}\n", f"{SECRET}\r\n\r\nold\r\n"],
    ids=["two-lines", "comment-first", "blank-between"],
)
def test_read_secret_file_refuses_more_than_one_line(
    content: str, tmp_path: Path
) -> None:
    """A file of more than one non-empty line is refused, its content never shown."""
    path = tmp_path / "secret"
    path.write_text(content, newline="")

    with pytest.raises(ConfigurationError) as caught:
        read_secret_file(path)

    assert str(caught.value) == (
        f"the secret file {path} holds more than one line; it must hold only the secret"
    )


def test_read_secret_stream_refuses_more_than_one_line() -> None:
    """Standard input is held to the same rule as a file."""
    with pytest.raises(ConfigurationError, match="standard input holds more than one"):
        read_secret_stream(io.StringIO(f"{SECRET}\nsecond\n"))


@pytest.mark.parametrize(
    "variable", ["GENESYSCLOUD_OAUTHCLIENT_SECRET", "GENESYS_CLIENT_SECRET"]
)
@pytest.mark.parametrize("where", ["environment", "dotenv"])
def test_a_secret_variable_is_stripped_as_a_file_is(
    cwd: Path, config_file: Path, variable: str, where: str
) -> None:
    """Whitespace or a byte order mark around a secret variable is dropped."""
    value = f"\ufeff {SECRET}\t"
    environ = {}
    if where == "environment":
        environ[variable] = value
    else:
        (cwd / ".env").write_text(f"{variable}='{value}'\n", encoding="utf-8")

    assert load(cwd, config_file, environ).client_secret == SECRET


def test_a_profile_secret_is_stripped_as_a_file_is(
    cwd: Path, config_file: Path
) -> None:
    """A profile's client_secret loses the whitespace around it too."""
    config_file.write_text(f'[profiles.p]\nclient_secret = "  {SECRET} "\n')

    assert load(cwd, config_file, profile="p").client_secret == SECRET


def test_a_secret_variable_of_two_lines_is_refused(
    cwd: Path, config_file: Path
) -> None:
    """A secret variable holding two lines is refused, naming the variable only."""
    environ = {"GENESYSCLOUD_OAUTHCLIENT_SECRET": f"{SECRET}\nsecond"}

    with pytest.raises(ConfigurationError) as caught:
        load(cwd, config_file, environ)

    assert str(caught.value) == (
        "environment GENESYSCLOUD_OAUTHCLIENT_SECRET holds more than one line; it "
        "must hold only the secret"
    )


CHOSEN = (
    '[profiles.emu2]\nclient_id = "id-profile"\nclient_secret = "secret-profile"\n'
    'region = "eu-central-1"\n'
)


def test_chosen_profile_wins_over_the_environment_and_dotenv(
    cwd: Path, config_file: Path
) -> None:
    """A profile chosen by name beats the environment and .env, field by field."""
    config_file.write_text(CHOSEN)
    (cwd / ".env").write_text("GENESYSCLOUD_OAUTHCLIENT_ID=id-dotenv\n")
    environ = {
        "GENESYSCLOUD_OAUTHCLIENT_SECRET": "secret-env",
        "GENESYSCLOUD_REGION": "us-east-1",
        "GENESYS_ACTION_ID": "action-env",
    }

    settings = load(cwd, config_file, environ, profile="emu2")

    assert (settings.client_id, settings.client_secret) == (
        "id-profile",
        "secret-profile",
    )
    assert settings.endpoint == resolve_region("eu-central-1")
    assert settings.sources["endpoint"].startswith("profile emu2 (")
    assert settings.action_id == "action-env"


def test_options_still_win_over_a_chosen_profile(cwd: Path, config_file: Path) -> None:
    """Command-line options beat a profile chosen by name."""
    config_file.write_text(CHOSEN)

    settings = load(cwd, config_file, region="eu-west-1", profile="emu2")

    assert settings.endpoint == resolve_region("eu-west-1")
    assert settings.client_id == "id-profile"


def test_chosen_profile_warns_of_the_values_it_beats(
    cwd: Path, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One warning names every environment and .env value the profile overrides."""
    config_file.write_text(CHOSEN)
    (cwd / ".env").write_text("GENESYS_CLIENT_ID=id-dotenv\n")
    environ = {"GENESYSCLOUD_REGION": "us-east-1", "GENESYS_ACTION_ID": "a"}

    with caplog.at_level(logging.WARNING, logger="action_timeouts.settings"):
        load(cwd, config_file, environ, profile="emu2")

    [record] = caplog.records
    message = record.getMessage()
    assert message.startswith("--profile emu2 wins over ")
    assert "environment GENESYSCLOUD_REGION" in message
    assert "GENESYS_CLIENT_ID" in message
    assert "GENESYS_ACTION_ID" not in message


def test_default_profile_stays_below_the_environment(
    cwd: Path, config_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A profile not chosen on the command line still loses to the environment."""
    config_file.write_text(f'default_profile = "emu2"\n{CHOSEN}')

    with caplog.at_level(logging.WARNING):
        settings = load(cwd, config_file, {"GENESYSCLOUD_REGION": "us-east-1"})

    assert settings.endpoint == resolve_region("us-east-1")
    assert settings.client_id == "id-profile"
    assert caplog.records == []

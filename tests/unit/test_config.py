"""Settings are parsed into their types when loaded: a bad value, an unknown key of
hotline.toml or an unknown HOTLINE_* variable fails there, naming itself."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest

from hotline.config import SETTINGS, Settings, load_settings, write_config
from hotline.domain.errors import InvalidInput
from hotline.domain.intent import Activity

NAMES = [s.name for s in SETTINGS]
COUNTS = [f.name for f in dataclasses.fields(Settings) if f.type == "int"]


def refused(environ: dict[str, str], home: Path) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        load_settings(environ, home)
    return caught.value


def test_defaults_are_the_declared_ones_parsed(tmp_path: Path) -> None:
    loaded = load_settings({}, tmp_path)
    made = Settings(home=tmp_path, party=None, database_url="")
    for setting in SETTINGS[3:]:
        value = setting.declared()
        assert getattr(loaded, setting.name) == value == getattr(made, setting.name)
    assert loaded.lead_times == {
        Activity.MISSILE_LAUNCH: timedelta(hours=24),
        Activity.NAVAL_EXERCISE: timedelta(days=3),
        Activity.STRATEGIC_EXERCISE: timedelta(days=14),
    }
    assert loaded.corridors_km == (30.0, 50.0, 100.0)
    assert loaded.cpa_nm == 5.0
    assert loaded.territories == {} and loaded.cot_parties == {}
    assert loaded.zones_file is None and loaded.clock_file is None
    assert loaded.party is None
    assert loaded.database_url == f"sqlite:///{tmp_path.absolute()}/hotline.db"


def test_every_setting_has_its_variable_and_a_default_that_parses() -> None:
    assert NAMES[:3] == ["home", "party", "database_url"]
    for setting in SETTINGS:
        assert setting.env == "HOTLINE_" + setting.name.upper()
        assert setting.doc
        setting.declared()


def test_values_are_parsed_into_their_types(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "HOTLINE_PARTY": "us",
            "HOTLINE_LEAD_TIMES": "missile_launch=2h",
            "HOTLINE_LANGUAGE": "ru",
            "HOTLINE_TERRITORIES": "RU=ru, by;NATO=PL",
            "HOTLINE_CORRIDORS_KM": "100,30",
            "HOTLINE_CPA_NM": "2.5",
            "HOTLINE_ZONES_FILE": "~/zones.geojson",
            "HOTLINE_CLOCK_FILE": "/tmp/clock",
            "HOTLINE_COT_LISTEN": "0.0.0.0:6969",
            "HOTLINE_COT_PARTIES": "f=us, H=RU",
            "HOTLINE_LOG_FORMAT": "JSON",
            "HOTLINE_SQLITE_SYNCHRONOUS": "normal",
            "HOTLINE_NATS_CONSUMERS": "4",
        },
        tmp_path,
    )
    assert settings.party == "US"
    assert settings.lead_times == {Activity.MISSILE_LAUNCH: timedelta(hours=2)}
    assert settings.language == "ru"
    assert settings.territories == {"RU": ("RU", "BY"), "NATO": ("PL",)}
    assert settings.corridors_km == (30.0, 100.0)
    assert settings.cpa_nm == 2.5
    assert settings.zones_file == Path.home() / "zones.geojson"
    assert settings.clock_file == Path("/tmp/clock")
    assert settings.cot_listen == "0.0.0.0:6969"
    assert settings.cot_parties == {"f": "US", "h": "RU"}
    assert settings.log_format == "json"
    assert settings.sqlite_synchronous == "NORMAL"
    assert settings.nats_consumers == 4


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("party", "U", "not a party id"),
        ("sqlite_synchronous", "SOMETIMES", "OFF, NORMAL, FULL, EXTRA"),
        ("listen", "8100", "HOST:PORT"),
        ("listen", "localhost:99999", "HOST:PORT"),
        ("request_skew", "5 minutes", "e.g. 90s, 10m"),
        ("request_signatures", "rfc9999", "rfc9421 (the default) or legacy"),
        ("refusal_max_bytes", "64K", "a size such as"),
        ("language", "english!", "not a language tag"),
        ("lead_times", "missle_launch=24h", "missile_launch"),
        ("lead_times", "missile_launch", "ACTIVITY=DURATION"),
        ("lead_times", "missile_launch=0h", "positive duration"),
        ("territories", "RU", "PARTY=CC,CC"),
        ("territories", "R=RU", "not a party id"),
        ("corridors_km", "30,thirty", "distinct positive widths in km"),
        ("corridors_km", "30,30", "distinct positive widths in km"),
        ("cpa_nm", "five", "a distance in NM"),
        ("cpa_nm", "0", "a distance in NM"),
        ("cot_listen", "6969", "HOST:PORT"),
        ("cot_parties", "f:US", "LETTER=PARTY"),
        ("log_format", "xml", "text or json"),
        ("console_listen", "localhost", "HOST:PORT"),
    ],
)
def test_a_bad_value_is_refused_naming_setting_value_source_and_what_is_expected(
    tmp_path: Path, name: str, value: str, expected: str
) -> None:
    env = f"HOTLINE_{name.upper()}"
    error = refused({env: value}, tmp_path)
    assert error.field == name
    assert str(error).startswith(f"{name}: {value!r} from {env}: ")
    assert expected in f"{error} {error.hint}"


@pytest.mark.parametrize("name", COUNTS)
@pytest.mark.parametrize("value", ["0", "many", "-3", "10001"])
def test_a_bad_number_is_refused_under_its_own_name(tmp_path: Path, name: str, value: str) -> None:
    error = refused({f"HOTLINE_{name.upper()}": value}, tmp_path)
    assert error.field == name
    assert "a whole number from 1 to 10000" in str(error)


def test_the_config_file_is_read_below_the_environment(tmp_path: Path) -> None:
    write_config(tmp_path / "hotline.toml", {"party": "RU", "cpa_nm": "3", "language": "ru"})
    settings = load_settings({"HOTLINE_LANGUAGE": "uk", "HOTLINE_CPA_NM": ""}, tmp_path)
    assert (settings.party, settings.cpa_nm, settings.language) == ("RU", 3.0, "uk")


def test_numbers_may_be_bare_in_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "hotline.toml").write_text("delivery_batch = 50\ncpa_nm = 2.5\n", "utf-8")
    settings = load_settings({}, tmp_path)
    assert (settings.delivery_batch, settings.cpa_nm) == (50, 2.5)


def test_a_bad_value_in_the_config_file_names_the_file(tmp_path: Path) -> None:
    write_config(tmp_path / "hotline.toml", {"corridors_km": "wide"})
    error = refused({}, tmp_path)
    assert error.field == "corridors_km"
    assert f"'wide' from {tmp_path.absolute() / 'hotline.toml'}: " in str(error)


@pytest.mark.parametrize("text", ["corridors_km = [30, 50]\n", "cpa_nm = true\n"])
def test_a_value_that_is_not_text_or_a_number_is_refused(tmp_path: Path, text: str) -> None:
    (tmp_path / "hotline.toml").write_text(text, "utf-8")
    error = refused({}, tmp_path)
    assert error.field == text.split(" ")[0]
    assert "expected text or a number" in str(error)


def test_an_unknown_key_in_the_config_file_is_refused_with_the_nearest_name(
    tmp_path: Path,
) -> None:
    write_config(tmp_path / "hotline.toml", {"party": "US", "langauge": "ru"})
    error = refused({}, tmp_path)
    assert error.field == "langauge"
    assert "is not a setting" in str(error) and "hotline.toml" in str(error)
    assert error.hint == "did you mean language?"


def test_an_unknown_key_far_from_any_setting_points_at_the_docs(tmp_path: Path) -> None:
    write_config(tmp_path / "hotline.toml", {"xyzzy": "1"})
    assert refused({}, tmp_path).hint == "see docs/settings.md"


def test_home_cannot_be_set_in_the_config_file(tmp_path: Path) -> None:
    write_config(tmp_path / "hotline.toml", {"home": "/elsewhere"})
    error = refused({}, tmp_path)
    assert error.field == "home" and error.hint == "use --home or HOTLINE_HOME"


@pytest.mark.parametrize(
    ("variable", "nearest"),
    [
        ("HOTLINE_DATABSE_URL", "HOTLINE_DATABASE_URL"),
        ("HOTLINE_LANG", "HOTLINE_LANGUAGE"),
        ("HOTLINE_LEADTIMES", "HOTLINE_LEAD_TIMES"),
        ("HOTLINE_COT_PARTY", "HOTLINE_COT_PARTIES"),
    ],
)
def test_a_misspelt_hotline_variable_is_refused_with_the_nearest_name(
    tmp_path: Path, variable: str, nearest: str
) -> None:
    error = refused({variable: "x"}, tmp_path)
    assert error.field == variable
    assert "is not a setting (in the environment)" in str(error)
    assert error.hint == f"did you mean {nearest}?"


def test_variables_that_are_not_settings_are_left_alone(tmp_path: Path) -> None:
    others = {
        "HOTLINE_PASSWORD": "secret",
        "HOTLINE_TEST_BACKEND": "postgres",
        "HOTLINE_TEST_POSTGRES": "postgresql://x",
        "HOTLINE_TEST_NATS": "nats://x",
        "HOTLINE_FUZZ": "long",
        "HOTLINE_SCREENSHOT": "1",
        "HOTLINE_HYPOTHESIS": "ci",
        "PATH": "/usr/bin",
        "hotline_party": "lower case is not ours",
    }
    assert load_settings(others, tmp_path).party is None


def test_settings_are_frozen_and_their_tables_read_only(tmp_path: Path) -> None:
    settings = load_settings({"HOTLINE_COT_PARTIES": "f=US"}, tmp_path)
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.language = "ru"  # type: ignore[misc]
    with pytest.raises(TypeError):
        settings.cot_parties["h"] = "RU"  # type: ignore[index]
    with pytest.raises(TypeError):
        settings.lead_times[Activity.OTHER] = timedelta(hours=1)  # type: ignore[index]

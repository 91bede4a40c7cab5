"""Settings: one typed, frozen object, built once by the composition root (``hotline.app``).

Each setting is read from the environment first, then from the node's ``hotline.toml``
(written by ``hotline init``), then its default, and is parsed into its type as it is
loaded: a bad value fails there, naming the setting, the value, where it came from and
what is expected, never later in a worker. A key of ``hotline.toml`` that names no
setting is refused, and so is a ``HOTLINE_*`` variable that looks like a misspelt
setting, with the nearest setting's name.

Each setting is declared once, as a field of :class:`Settings`: its name, its default
(written as in the environment), its parser and its documentation; the environment
variable is ``HOTLINE_`` and the name in capitals. :data:`SETTINGS` lists them;
``docs/settings.md`` must describe every one with its default (a test checks).
"""

from __future__ import annotations

import difflib
import json
import os
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from hotline.config.declare import (
    CONFIG_FILE as CONFIG_FILE,
)
from hotline.config.declare import (
    DEFAULT_HOME as DEFAULT_HOME,
)
from hotline.config.declare import (
    PREFIX as PREFIX,
)
from hotline.config.declare import (
    Declared as Declared,
)
from hotline.config.declare import (
    Setting as Setting,
)
from hotline.config.declare import (
    parse_affiliations as parse_affiliations,
)
from hotline.config.settings import SETTINGS as SETTINGS
from hotline.config.settings import Settings as Settings
from hotline.domain.errors import InvalidInput

#: ``HOTLINE_*`` variables that are not settings: the CLI's password option, and the test
#: suite's ``HOTLINE_TEST_*``. Any other one that is not a setting is refused only when it
#: looks like a misspelt setting (see :func:`_misspelt_variables`): a variable of some
#: other tool, or of the test suite (``HOTLINE_FUZZ``), is left alone.
OTHER_VARIABLES = frozenset({"HOTLINE_PASSWORD"})
OTHER_PREFIXES = ("HOTLINE_TEST_",)
#: How alike (difflib's ratio, 0-1) a name must be to a setting's to count as a misspelling.
LIKENESS = 0.6


_BY_NAME = {s.name: s for s in SETTINGS}
_BY_ENV = {s.env: s for s in SETTINGS}

#: A node's own SQLite database, in its folder: the default ``database_url``.
SQLITE_IN_HOME = "sqlite:///{home}/hotline.db"


def default_database_url(home: Path) -> str:
    return SQLITE_IN_HOME.format(home=home)


def load_settings(environ: Mapping[str, str], home: Path | None = None) -> Settings:
    """Build the settings from ``environ``, the node's config file and the defaults, each
    parsed into its type.

    ``home`` (from a command-line option) wins over ``HOTLINE_HOME``. Raises InvalidInput
    naming the setting when a value is not what it should be, when a key of the config
    file names no setting or a ``HOTLINE_*`` variable looks like a misspelt one (the hint
    gives the nearest name), or when the config file cannot be read.
    """
    misspelt = _misspelt_variables(environ)
    if misspelt:
        raise InvalidInput(
            misspelt[0],
            "is not a setting (in the environment)",
            hint=f"did you mean {_nearest(misspelt[0], _BY_ENV)}?",
        )
    base = (home or Path(environ.get("HOTLINE_HOME") or DEFAULT_HOME)).expanduser().absolute()
    path = base / CONFIG_FILE
    stored = _read_config(path)
    _refuse_unknown(stored, _BY_NAME, str(path))
    if "home" in stored:
        raise InvalidInput(
            "home",
            f"cannot be set in {path}: it is the folder that file is in",
            hint="use --home or HOTLINE_HOME",
        )
    values: dict[str, object] = {}
    for setting in SETTINGS[1:]:
        if environ.get(setting.env):
            text, where = environ[setting.env], setting.env
        elif setting.name in stored:
            text, where = _scalar(stored[setting.name], setting.name, path), str(path)
        else:
            text, where = setting.default, "the default"
        values[setting.name] = _parse(setting, text, where)
    values["database_url"] = values["database_url"] or default_database_url(base)
    return Settings(home=base, **values)  # type: ignore[arg-type]


def _parse(setting: Setting, text: str, where: str) -> object:
    """``setting``'s value from ``text``; InvalidInput names the setting, the value, where
    it came from and what is expected."""
    try:
        return setting.declared.parse(text)
    except ValueError as exc:
        reason, hint = f"expected {exc}", None
    except InvalidInput as exc:
        prefix = exc.field + ": "
        reason = exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message
        hint = exc.hint
    raise InvalidInput(setting.name, f"{text!r} from {where}: {reason}", hint=hint)


def _misspelt_variables(environ: Mapping[str, str]) -> list[str]:
    """``HOTLINE_*`` variables that are not settings but look like one misspelt (their
    names after ``HOTLINE_`` alike by :data:`LIKENESS`)."""
    return [
        name
        for name in environ
        if name.startswith(PREFIX)
        and name not in _BY_ENV
        and name not in OTHER_VARIABLES
        and not name.startswith(OTHER_PREFIXES)
        and _nearest(name, _BY_ENV) is not None
    ]


def _nearest(key: str, known: Mapping[str, Setting]) -> str | None:
    """The known name most like ``key`` (compared without ``HOTLINE_``), if any is alike."""
    bare = {name.removeprefix(PREFIX).lower(): name for name in known}
    found = difflib.get_close_matches(
        key.removeprefix(PREFIX).lower(), list(bare), n=1, cutoff=LIKENESS
    )
    return bare[found[0]] if found else None


def _refuse_unknown(keys: Iterable[str], known: Mapping[str, Setting], where: str) -> None:
    for key in keys:
        if key not in known:
            nearest = _nearest(key, known)
            raise InvalidInput(
                key,
                f"is not a setting (in {where})",
                hint=f"did you mean {nearest}?" if nearest else "see docs/settings.md",
            )


def _read_config(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"not a valid config file: {exc}") from exc


def _scalar(value: object, name: str, path: Path) -> str:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise InvalidInput(
            name,
            f"{value!r} from {path}: expected text or a number",
            hint=f'write it as in the environment, e.g. {name} = "{_BY_NAME[name].default}"',
        )
    return str(value)


def update_config(path: Path, values: Mapping[str, str]) -> None:
    """Set ``values`` in the config file at ``path``, keeping what it holds already."""
    try:
        stored = tomllib.loads(path.read_text("utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidInput(str(path), f"cannot read the config file: {exc}") from exc
    write_config(path, {**{k: str(v) for k, v in stored.items()}, **values})


def write_config(path: Path, values: Mapping[str, str]) -> None:
    """Write a flat TOML file of string values (JSON string escapes are valid TOML)."""
    text = "".join(f"{key} = {json.dumps(value)}\n" for key, value in values.items())
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write("# hotline node configuration\n" + text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)

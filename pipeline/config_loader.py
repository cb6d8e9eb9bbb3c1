"""How edgewatch's configuration is read: a TOML file's tables and `EDGEWATCH_<SECTION>_<KEY>`
variables merged over the defaults, each value converted to its declared type and checked.

The declarations (types, defaults, checks) live in pipeline/config.py; this module only walks
them, so a new setting needs no code here.
"""

from __future__ import annotations

import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import Field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from pipeline.config_checks import Check, ConfigError
from pipeline.redact import MASK, redact_url

if typing.TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = typing.TypeVar("T", bound="DataclassInstance")

ENV_PREFIX = "EDGEWATCH_"
# Environment variables with our prefix that are not configuration keys.
ENV_NOT_CONFIG = ("EDGEWATCH_CONFIG", "EDGEWATCH_STACK_")


def apply_file(config: T, path: Path) -> T:
    """`config` with the values of a TOML file's tables over it."""
    source = str(path)
    try:
        data = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config file", source, "no such file") from None
    except tomllib.TOMLDecodeError as err:
        raise ConfigError("config file", source, f"not valid TOML: {err}") from None
    return typing.cast(T, _merge(config, data, prefix="", source=source))


def _merge(obj: Any, data: Mapping[str, Any], prefix: str, source: str) -> Any:
    known = {f.name: f for f in fields(obj)}
    hints = typing.get_type_hints(type(obj))
    changes: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if key not in known:
            raise ConfigError(dotted, source, f"unknown key; known keys: {', '.join(known)}")
        current = getattr(obj, key)
        table_of = _table_type(hints[key])
        if _is_scalar_table(hints[key]):
            changes[key] = _scalar_table(known[key], value, dotted, source)
        elif table_of is not None:
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise ConfigError(dotted, source, "must be a table of tables")
            changes[key] = {
                name: _merge(table_of(), sub, f"{dotted}.{name}.", source)
                for name, sub in value.items()
            }
        elif is_dataclass(current):
            if not isinstance(value, dict):
                raise ConfigError(dotted, source, "must be a table")
            changes[key] = _merge(current, value, f"{dotted}.", source)
        else:
            changes[key] = _coerce(known[key], hints[key], value, dotted, source)
    return replace(obj, **changes)


def apply_env(config: T, env: Mapping[str, str]) -> T:
    """`config` with the `EDGEWATCH_<SECTION>_<KEY>` variables of `env` over it."""
    sections = {f.name: f for f in fields(config) if is_dataclass(getattr(config, f.name))}
    plain = {f.name: f for f in fields(config) if f.name not in sections}
    hints = typing.get_type_hints(type(config))
    changes: dict[str, Any] = {}
    section_changes: dict[str, dict[str, Any]] = {}
    for var, raw in sorted(env.items()):
        if not var.startswith(ENV_PREFIX) or var.startswith(ENV_NOT_CONFIG):
            continue
        name = var[len(ENV_PREFIX) :].lower()
        if name in plain:
            changes[name] = _coerce(plain[name], hints[name], raw, var, "environment")
            continue
        section = next((s for s in sections if name.startswith(f"{s}_")), None)
        if section is None:
            continue  # another tool's variable that happens to share our prefix
        key = name[len(section) + 1 :]
        target = getattr(config, section)
        known = {f.name: f for f in fields(target)}
        if key in known and (
            _table_type(typing.get_type_hints(type(target))[key]) is not None
            or _is_scalar_table(typing.get_type_hints(type(target))[key])
        ):
            raise ConfigError(var, "environment", "a table: set it in the config file")
        if key not in known:
            names = ", ".join(f"{ENV_PREFIX}{section.upper()}_{k.upper()}" for k in known)
            raise ConfigError(var, "environment", f"unknown setting; known: {names}")
        section_hints = typing.get_type_hints(type(target))
        section_changes.setdefault(section, {})[key] = _coerce(
            known[key], section_hints[key], raw, var, "environment"
        )
    for section, values in section_changes.items():
        changes[section] = replace(getattr(config, section), **values)
    return replace(config, **changes)


def _coerce(spec: Field[Any], hint: Any, value: Any, key: str, source: str) -> Any:
    """Turn a TOML value or an environment string into the field's type, then check it."""
    kind, optional = _unwrap_optional(hint)
    if optional and (value is None or value == ""):
        return None
    try:
        result = _convert(kind, value)
    except (TypeError, ValueError) as err:
        raise ConfigError(key, source, str(err)) from None
    check: Check | None = spec.metadata.get("check")
    problem = check(result) if check else None
    if problem:
        raise ConfigError(key, source, problem)
    return result


def _is_scalar_table(hint: Any) -> bool:
    """`dict[str, <scalar>]` settings: a table of plain values (the librdkafka pass-through)."""
    return typing.get_origin(hint) is dict and not is_dataclass(typing.get_args(hint)[1])


def _scalar_table(spec: Field[Any], value: Any, key: str, source: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ConfigError(key, source, "must be a table")
    for name, item in value.items():
        if not isinstance(item, str | int | float | bool):
            raise ConfigError(f"{key}.{name}", source, "must be a string, number or boolean")
    check: Check | None = spec.metadata.get("check")
    problem = check(value) if check else None
    if problem:
        raise ConfigError(key, source, problem)
    return dict(value)


def _table_type(hint: Any) -> Any:
    """For `dict[str, SomeDataclass]` settings (named tables), the dataclass; else None."""
    if typing.get_origin(hint) is dict:
        value_type = typing.get_args(hint)[1]
        if is_dataclass(value_type):
            return value_type
    return None


def _unwrap_optional(hint: Any) -> tuple[Any, bool]:
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0], True
    return hint, False


def _convert(kind: Any, value: Any) -> Any:
    if kind is bool:
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text in ("1", "true", "yes", "on"):
            return True
        if text in ("0", "false", "no", "off"):
            return False
        raise ValueError(f"must be true or false, got {value!r}")
    if kind is int:
        if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
            raise ValueError(f"must be an integer, got {value!r}")
        try:
            return int(value)
        except ValueError:
            raise ValueError(f"must be an integer, got {value!r}") from None
    if kind is float:
        if isinstance(value, bool):
            raise ValueError(f"must be a number, got {value!r}")
        try:
            return float(value)
        except ValueError:
            raise ValueError(f"must be a number, got {value!r}") from None
    if kind is Path:
        return Path(str(value))
    if typing.get_origin(kind) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ValueError(f"must be a list of strings, got {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if kind is str:
        if not isinstance(value, str | int | float) or isinstance(value, bool):
            raise ValueError(f"must be a string, got {value!r}")
        return str(value)
    raise TypeError(f"unsupported setting type {kind!r}")


def _mask_by_name(name: str, value: Any) -> Any:
    """Pass-through settings have no declared secrecy: mask those whose name says secret."""
    secretive = ("password", "secret", "token", "key")
    return MASK if any(word in name.lower() for word in secretive) else value


def describe(config: Any) -> dict[str, Any]:
    """The effective configuration as plain data, with secrets masked and URLs shown without
    userinfo or tokens (for `config show`)."""

    def walk(obj: Any) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if is_dataclass(value):
                out[f.name] = walk(value)
            elif isinstance(value, dict):
                out[f.name] = {
                    k: walk(v) if is_dataclass(v) else _mask_by_name(k, v) for k, v in value.items()
                }
            elif f.metadata.get("secret") and value is not None:
                out[f.name] = MASK
            elif isinstance(value, tuple):
                out[f.name] = list(value)
            elif isinstance(value, str) and "://" in value:
                # URLs may carry user:password@ or ?token=: shown without them.
                out[f.name] = redact_url(value)
            else:
                out[f.name] = str(value) if isinstance(value, Path) else value
        return out

    return walk(config)

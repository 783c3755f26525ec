"""Strict, typed configuration dataclasses.

Each notebook has one config class. Its field names are the command-line flags of the original
Animesion scripts, so a notebook's ``parameters`` cell, a ``parameters/*.yaml`` file and the
``python -m animesion.train`` command line are the same thing. Unknown keys, wrong types and bad
choices are refused with one sentence that names the key and the allowed values.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml

from ..errors import ConfigError

C = TypeVar("C", bound="ConfigBase")
Choices = Iterable[Any] | Callable[[], Iterable[Any]]


def param(default: Any, help: str, choices: Choices | None = None) -> Any:  # noqa: A002 - argparse's name
    """A config field with a one-line help text and, optionally, the allowed values."""
    return dataclasses.field(default=default, metadata={"help": help, "choices": choices})


def _allowed(choices: Choices) -> list[Any]:
    return list(choices() if callable(choices) else choices)


def _type_name(tp: Any) -> str:
    return " or ".join("None" if a is type(None) else a.__name__ for a in _union_args(tp))


def _union_args(tp: Any) -> tuple[Any, ...]:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _coerce(cls_name: str, key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against the annotation ``tp``; ints are accepted for floats, bools never for ints."""
    for arg in _union_args(tp):
        if arg is type(None) and value is None:
            return None
        if arg is bool and isinstance(value, bool):
            return value
        if arg is int and isinstance(value, int) and not isinstance(value, bool):
            return value
        if arg is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if arg is str and isinstance(value, str):
            return value
    raise ConfigError(
        f"{cls_name}: parameter '{key}' must be {_type_name(tp)}, got {value!r} ({type(value).__name__})."
    )


@dataclasses.dataclass
class ConfigBase:
    """Base class: validation on construction, strict construction from mappings and YAML."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _coerce(type(self).__name__, f.name, getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
            choices = f.metadata.get("choices")
            if choices is not None and value is not None:
                allowed = _allowed(choices)
                if value not in allowed:
                    raise ConfigError(
                        f"{type(self).__name__}: {f.name}={value!r} is not allowed; "
                        f"choose one of: {', '.join(map(str, allowed))}."
                    )
        self.validate()

    def validate(self) -> None:
        """Checks that involve several fields; subclasses override it and raise ConfigError."""

    @classmethod
    def field_names(cls) -> list[str]:
        """The parameter names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Default value of every parameter."""
        return {f.name: f.default for f in dataclasses.fields(cls)}

    @classmethod
    def help(cls) -> dict[str, str]:
        """One-line help of every parameter."""
        return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}

    @classmethod
    def check_keys(cls, keys: Iterable[str]) -> None:
        """Refuse keys that are not parameters of this config, suggesting the closest name."""
        names = cls.field_names()
        for key in keys:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise ConfigError(
                    f"{cls.__name__}: unknown parameter '{key}'.{hint} Known parameters: {', '.join(names)}."
                )

    @classmethod
    def from_dict(cls: type[C], values: Mapping[str, Any]) -> C:
        """Build from a mapping, refusing unknown keys; missing keys take their defaults."""
        cls.check_keys(values)
        return cls(**dict(values))

    @classmethod
    def from_namespace(cls: type[C], namespace: Mapping[str, Any]) -> C:
        """Build from a notebook's globals: picks this config's names and ignores everything else."""
        return cls(**{k: namespace[k] for k in cls.field_names() if k in namespace})

    @classmethod
    def from_yaml(cls: type[C], path: str | Path, **overrides: Any) -> C:
        """Build from a ``parameters/*.yaml`` file, with keyword overrides on top."""
        values = load_yaml(path)
        values.update(overrides)
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every parameter (YAML/JSON-serialisable)."""
        return dataclasses.asdict(self)

    def replace(self: C, **changes: Any) -> C:
        """A copy with some parameters changed; the copy is validated like a new config."""
        type(self).check_keys(changes)
        return dataclasses.replace(self, **changes)


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a parameters file; an empty file is an empty mapping."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"Parameter file '{path}' does not exist.")
    values = yaml.safe_load(path.read_text()) or {}
    if not isinstance(values, dict):
        raise ConfigError(f"Parameter file '{path}' must hold a mapping of parameter names to values.")
    return values

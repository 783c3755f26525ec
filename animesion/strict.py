"""Strict, typed dataclasses: the notebook configs and the component specs (a model's, the synthetic set's).

A field is declared with :func:`param`: its default, a one-line help text and, optionally, the allowed
values. Unknown keys, wrong types and bad choices are refused with one sentence that names the key and
the allowed values. So a notebook's ``parameters`` cell, a ``parameters/*.yaml`` file and a command line
are the same thing, checked the same way.

Allowed values are a collection, or a callable that returns them (usually a registry's ``names``). A
callable is only asked when the value is not the field's default, so building a config with its
defaults never imports what a registry lives next to (the tests check every default once).

A field added after files were first written (run folders, training states) declares ``legacy``: the
value that does what earlier versions did. Mappings saved by those versions are read with it
(:meth:`Strict.from_saved`), and run folders keep their names when a field holds it.
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

from .errors import ConfigError

S = TypeVar("S", bound="Strict")
Choices = Iterable[Any] | Callable[[], Iterable[Any]]


NO_LEGACY = object()  # the field existed from the start


def param(default: Any, help: str, choices: Choices | None = None, legacy: Any = NO_LEGACY) -> Any:
    """A field with a one-line help text, optionally the allowed values, and for a field added later the
    ``legacy`` value that reproduces what files written before it existed did."""
    metadata = {"help": help, "choices": choices, "legacy": legacy}
    if isinstance(default, list):
        return dataclasses.field(default_factory=lambda: list(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def allowed_values(choices: Choices) -> list[Any]:
    """The allowed values of a field: the collection itself, or what the callable returns."""
    return list(choices() if callable(choices) else choices)


def field_default(f: dataclasses.Field) -> Any:
    """The default of a field, whether given as a value or by a factory."""
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def type_name(tp: Any) -> str:
    """``int``, ``str or None``, ``list[float]``: the annotation as the error messages and ``--help`` write it."""
    return " or ".join("None" if a is type(None) else _arg_name(a) for a in union_args(tp))


def _arg_name(tp: Any) -> str:
    if typing.get_origin(tp) is list:
        return f"list[{typing.get_args(tp)[0].__name__}]"
    return tp.__name__


def union_args(tp: Any) -> tuple[Any, ...]:
    """The members of a union annotation (``str | None`` → ``(str, NoneType)``), or the annotation alone."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return typing.get_args(tp)
    return (tp,)


def _scalar(value: Any, arg: Any) -> tuple[bool, Any]:
    """(fits, converted value) of ``value`` against one scalar type; ints are floats, bools never ints."""
    if arg is bool:
        return isinstance(value, bool), value
    if arg is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if arg is float:
        fits = isinstance(value, (int, float)) and not isinstance(value, bool)
        return fits, float(value) if fits else value
    if arg is str:
        return isinstance(value, str), value
    return False, value


def _coerce(cls_name: str, key: str, value: Any, tp: Any) -> Any:
    """Check ``value`` against the annotation ``tp`` and return it converted (ints to floats, tuples to lists)."""
    for arg in union_args(tp):
        if arg is type(None) and value is None:
            return None
        if typing.get_origin(arg) is list and isinstance(value, (list, tuple)):
            item = typing.get_args(arg)[0]
            converted = [_scalar(v, item) for v in value]
            if all(fits for fits, _ in converted):
                return [v for _, v in converted]
            continue
        fits, converted = _scalar(value, arg)
        if fits:
            return converted
    spelled = " (true or false)" if bool in union_args(tp) else ""  # name the values a switch takes (YAML and flags)
    raise ConfigError(f"{cls_name}: parameter '{key}' must be {type_name(tp)}{spelled}, got {value!r} "
                      f"({type(value).__name__}).")


@dataclasses.dataclass
class Strict:
    """Base class: validation on construction, strict construction from mappings and YAML."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in dataclasses.fields(self):
            value = _coerce(type(self).__name__, f.name, getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
            choices = f.metadata.get("choices")
            if choices is None or value is None or (callable(choices) and value == field_default(f)):
                continue
            allowed = allowed_values(choices)
            if value not in allowed:
                raise ConfigError(f"{type(self).__name__}: {f.name}={value!r} is not allowed; "
                                  f"choose one of: {', '.join(map(str, allowed))}.")
        self.validate()

    def validate(self) -> None:
        """Checks that involve several fields; subclasses override it and raise ConfigError."""

    def fail(self, message: str) -> typing.NoReturn:
        """Raise a ConfigError that starts with this class's name."""
        raise ConfigError(f"{type(self).__name__}: {message}")

    @classmethod
    def field_names(cls) -> list[str]:
        """The parameter names, in declaration order."""
        return [f.name for f in dataclasses.fields(cls)]

    @classmethod
    def defaults(cls) -> dict[str, Any]:
        """Default value of every parameter."""
        return {f.name: field_default(f) for f in dataclasses.fields(cls)}

    @classmethod
    def help(cls) -> dict[str, str]:
        """One-line help of every parameter."""
        return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(cls)}

    @classmethod
    def check_keys(cls, keys: Iterable[str]) -> None:
        """Refuse keys that are not parameters of this class, suggesting the closest name."""
        names = cls.field_names()
        for key in keys:
            if key not in names:
                close = difflib.get_close_matches(key, names, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                raise ConfigError(
                    f"{cls.__name__}: unknown parameter '{key}'.{hint} Known parameters: {', '.join(names)}."
                )

    @classmethod
    def from_dict(cls: type[S], values: Mapping[str, Any]) -> S:
        """Build from a mapping, refusing unknown keys; missing keys take their defaults."""
        cls.check_keys(values)
        return cls(**dict(values))

    @classmethod
    def legacy_values(cls) -> dict[str, Any]:
        """The fields added later, with the value that does what files written before them did."""
        return {f.name: f.metadata["legacy"] for f in dataclasses.fields(cls)
                if f.metadata.get("legacy", NO_LEGACY) is not NO_LEGACY}

    @classmethod
    def from_saved(cls: type[S], values: Mapping[str, Any]) -> S:
        """Build from a mapping an earlier version saved: fields it did not have take their legacy value."""
        return cls.from_dict({**cls.legacy_values(), **values})

    @classmethod
    def from_namespace(cls: type[S], namespace: Mapping[str, Any]) -> S:
        """Build from a notebook's globals: picks this class's names and ignores everything else."""
        return cls(**{k: namespace[k] for k in cls.field_names() if k in namespace})

    @classmethod
    def from_yaml(cls: type[S], path: str | Path, **overrides: Any) -> S:
        """Build from a ``parameters/*.yaml`` file, with keyword overrides on top."""
        values = load_yaml(path)
        values.update(overrides)
        return cls.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every parameter (YAML/JSON-serialisable)."""
        return dataclasses.asdict(self)

    def replace(self: S, **changes: Any) -> S:
        """A copy with some parameters changed; the copy is validated like a new one."""
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

"""Building a config from a command line: ``-f parameters/x.yaml --key value ...``.

The flags are the config's fields, so a command line, a ``parameters/*.yaml`` file and a notebook's
``parameters`` cell are the same thing. Values are typed by the field: ``true``/``false``, numbers,
``None`` where allowed; text parameters take the text as it is (``--run_name 007`` stays ``"007"``).
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

import yaml

from ..errors import ConfigError
from .base import ConfigBase, load_yaml

C = TypeVar("C", bound=ConfigBase)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.prog}: {message}.")


def _value(text: str, annotation: Any) -> Any:
    """``text`` typed for a field; text that fits no allowed type is passed on for the config to refuse."""
    allowed = typing.get_args(annotation) or (annotation,)
    if type(None) in allowed and text in ("None", "null", "~"):
        return None
    if str in allowed:
        return text
    for kind in (bool, int, float):
        if kind in allowed:
            try:
                return _PARSERS[kind](text)
            except ValueError:
                continue
    return text


def _bool(text: str) -> bool:
    value = yaml.safe_load(text)
    if not isinstance(value, bool):
        raise ValueError(text)
    return value


_PARSERS = {bool: _bool, int: int, float: float}


def parse_config(cls: type[C], argv: Sequence[str], prog: str, description: str = "") -> C:
    """The ``cls`` config of a command line: the ``-f`` file's values, then ``--key value`` on top."""
    parser = _Parser(prog=prog, description=description, allow_abbrev=False)
    parser.add_argument("-f", "--parameters_file", help="YAML file of parameters (the notebook's parameters cell)")
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        parser.add_argument(f"--{f.name}", default=argparse.SUPPRESS, metavar=_type_name(hints[f.name]),
                            help=f"{f.metadata.get('help', '')} (default: {f.default!r})")
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        cls.check_keys([unknown[0].lstrip("-").split("=")[0]])  # names the closest parameter
        raise ConfigError(f"{prog}: unexpected argument '{unknown[0]}'; pass parameters as --name value.")
    values = load_yaml(known.parameters_file) if known.parameters_file else {}
    values.update({k: _value(v, hints[k]) for k, v in vars(known).items() if k != "parameters_file"})
    return cls.from_dict(values)


def _type_name(annotation: Any) -> str:
    return "|".join("None" if a is type(None) else a.__name__ for a in typing.get_args(annotation) or (annotation,))

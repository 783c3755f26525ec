"""Building a config from a command line: ``-f parameters/x.yaml --key value ...``.

The flags are the config's fields, so a command line, a ``parameters/*.yaml`` file and a notebook's
``parameters`` cell are the same thing, with the same help texts. Values are typed by the field:
``true``/``false``, numbers, ``None`` where allowed, lists as ``--scale 0.35 1`` (or ``0.35,1``); text
parameters take the text as it is (``--run_name 007`` stays ``"007"``). As in the original scripts, a
boolean flag on its own switches it on (``--debugging``); ``--debugging False`` works too.
"""

from __future__ import annotations

import argparse
import dataclasses
import typing
from collections.abc import Sequence
from typing import Any, TypeVar

import yaml

from ..errors import ConfigError
from ..strict import Strict, field_default, load_yaml, type_name, union_args

C = TypeVar("C", bound=Strict)
NONE_WORDS = ("None", "none", "null", "~")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.prog}: {message}.")


def _scalar(text: str, allowed: tuple[Any, ...]) -> Any:
    """``text`` as the first type of ``allowed`` it reads as; text that fits none is passed on for the config
    to refuse with its own sentence."""
    if type(None) in allowed and text in NONE_WORDS:
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


def _value(words: str | list[str], annotation: Any) -> Any:
    """The command-line words of one flag, typed by the field's annotation."""
    allowed = union_args(annotation)
    listed = next((a for a in allowed if typing.get_origin(a) is list), None)
    if listed is None:
        return _scalar(words, allowed)
    if len(words) == 1 and words[0] in NONE_WORDS and type(None) in allowed:
        return None
    items = [piece for word in words for piece in word.split(",") if piece]
    return [_scalar(item, typing.get_args(listed)) for item in items]


def _bool(text: str) -> bool:
    value = yaml.safe_load(text)
    if not isinstance(value, bool):
        raise ValueError(text)
    return value


_PARSERS = {bool: _bool, int: int, float: float}


def _add_flag(parser: argparse.ArgumentParser, field: dataclasses.Field, annotation: Any) -> None:
    allowed = union_args(annotation)
    default = field_default(field)
    text = f"{field.metadata.get('help', '')} (default: {default!r})"
    kwargs: dict[str, Any] = {"default": argparse.SUPPRESS, "help": text, "metavar": type_name(annotation)}
    if bool in allowed:  # a switch: on its own it means True
        kwargs |= {"nargs": "?", "const": "true"}
    elif any(typing.get_origin(a) is list for a in allowed):
        kwargs |= {"nargs": "+"}
    parser.add_argument(f"--{field.name}", **kwargs)


def build_parser(cls: type[Strict], prog: str, description: str = "") -> argparse.ArgumentParser:
    """The argument parser of ``cls``: ``-f FILE`` and one ``--name`` flag per field, with its help text."""
    parser = _Parser(prog=prog, description=description, allow_abbrev=False)
    parser.add_argument("-f", "--parameters_file", help="YAML file of parameters (the notebook's parameters cell)")
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        _add_flag(parser, field, hints[field.name])
    return parser


def parse_config(cls: type[C], argv: Sequence[str], prog: str, description: str = "") -> C:
    """The ``cls`` config of a command line: the ``-f`` file's values, then ``--key value`` on top."""
    parser = build_parser(cls, prog, description)
    known, unknown = parser.parse_known_args(list(argv))
    if unknown:
        cls.check_keys([unknown[0].lstrip("-").split("=")[0]])  # names the closest parameter
        raise ConfigError(f"{prog}: unexpected argument '{unknown[0]}'; pass parameters as --name value.")
    hints = typing.get_type_hints(cls)
    values = load_yaml(known.parameters_file) if known.parameters_file else {}
    values.update({k: _value(v, hints[k]) for k, v in vars(known).items() if k != "parameters_file"})
    return cls.from_dict(values)

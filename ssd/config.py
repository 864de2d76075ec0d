"""Small dataclass configs and one strict loader for YAML config files.

Guarantees:
- `DecodingConfig` is the one decoding config every backend accepts (temperature, top_k, top_p, min_p,
  max_tokens, n, seed, stop). Its fields mean exactly what `theory.decoding` means (vLLM v0.11 order):
  temperature first, then min-p (0.0 = off), then top-k on the tempered logits (0 = off), then top-p
  inside the survivors (1.0 = off); temperature below 1e-5 is greedy.
- `load_config(path, cls)` builds a (possibly nested) dataclass from YAML. An unknown key, a wrong type
  or an impossible value stops with one `ConfigError` naming the file and the dotted key.
- `resolved(cfg)` returns the plain dict that stage hashes and manifests are computed from.

Does not: read environment variables or merge several files implicitly; `overrides` are explicit.
"""
from __future__ import annotations

import dataclasses
import os
import types
import typing
from pathlib import Path
from typing import Any, TypeVar

import yaml

from theory.decoding import GREEDY_BELOW  # the decoding rules live once, in theory/decoding.py


class ConfigError(ValueError):
    """A config file or value that cannot be used; the message names the file and key."""


@dataclasses.dataclass
class DecodingConfig:
    temperature: float = 1.0
    top_k: int = 0  # 0 (or >= vocab size) disables top-k
    top_p: float = 1.0  # 1.0 disables top-p
    min_p: float = 0.0  # 0.0 disables min-p
    max_tokens: int = 512
    n: int = 1
    seed: int = 0
    stop: list[str] = dataclasses.field(default_factory=list)

    def validate(self) -> None:
        if not (self.temperature >= 0 and self.temperature < float("inf")):
            raise ConfigError(f"temperature: expected a finite number >= 0, got {self.temperature}")
        if self.top_k < 0:
            raise ConfigError(f"top_k: expected an integer >= 0 (0 disables), got {self.top_k}")
        if not (0 < self.top_p <= 1):
            raise ConfigError(f"top_p: expected a value in (0, 1], got {self.top_p}")
        if not (0 <= self.min_p <= 1):
            raise ConfigError(f"min_p: expected a value in [0, 1], got {self.min_p}")
        if self.max_tokens < 1:
            raise ConfigError(f"max_tokens: expected an integer >= 1, got {self.max_tokens}")
        if self.n < 1:
            raise ConfigError(f"n: expected an integer >= 1, got {self.n}")

    @property
    def greedy(self) -> bool:
        return self.temperature < GREEDY_BELOW

    def record(self) -> dict[str, Any]:
        """The `decoding` object stored in each sample record (docs/ARCHITECTURE.md)."""
        return {k: getattr(self, k) for k in ("temperature", "top_k", "top_p", "min_p", "max_tokens")}


C = TypeVar("C")


def _coerce(value: Any, annotation: Any, key: str, source: str) -> Any:
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        last: ConfigError | None = None
        for a in args:
            if a is type(None):
                continue
            try:
                return _coerce(value, a, key, source)
            except ConfigError as e:
                last = e
        raise last or ConfigError(f"{source}: {key}: unexpected value {value!r}")
    if dataclasses.is_dataclass(annotation):
        return build(annotation, value, source=source, prefix=key + ".")
    if annotation is Any:
        return value
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{source}: {key}: expected a list, got {value!r}")
        inner = args[0] if args else Any
        return [_coerce(v, inner, f"{key}[{i}]", source) for i, v in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{source}: {key}: expected a mapping, got {value!r}")
        return dict(value)
    if annotation is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{source}: {key}: expected a number, got {value!r}")
        return float(value)
    if annotation is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{source}: {key}: expected an integer, got {value!r}")
        return value
    if annotation is bool:
        if not isinstance(value, bool):
            raise ConfigError(f"{source}: {key}: expected true or false, got {value!r}")
        return value
    if annotation is str:
        if not isinstance(value, str):
            raise ConfigError(f"{source}: {key}: expected a string, got {value!r}")
        return value
    return value


def build(cls: type[C], data: Any, source: str = "<config>", prefix: str = "") -> C:
    """Build dataclass `cls` from a mapping, strictly (unknown keys and wrong types are errors)."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: {prefix.rstrip('.') or '<top>'}: expected a mapping, got {data!r}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    for key in data:
        if key not in names:
            raise ConfigError(
                f"{source}: {prefix}{key}: unknown key for {cls.__name__} (known: {', '.join(sorted(names))})"
            )
    kwargs = {k: _coerce(v, hints[k], prefix + k, source) for k, v in data.items()}
    try:
        obj = cls(**kwargs)
    except TypeError as e:
        raise ConfigError(f"{source}: {prefix.rstrip('.') or cls.__name__}: {e}") from None
    validate = getattr(obj, "validate", None)
    if validate is not None:
        try:
            validate()
        except ConfigError as e:
            raise ConfigError(f"{source}: {prefix}{e}") from None
    return obj


def _set_dotted(data: dict, dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for p in parts[:-1]:
        node = node.setdefault(p, {})
    node[parts[-1]] = value


def parse_overrides(items: typing.Iterable[str]) -> dict[str, Any]:
    """`["a.b=1", "c=x"]` -> nested dict, values parsed as YAML scalars."""
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"override {item!r}: expected key=value")
        key, raw = item.split("=", 1)
        _set_dotted(out, key.strip(), yaml.safe_load(raw))
    return out


def _merge(base: dict, extra: dict) -> dict:
    out = dict(base)
    for k, v in extra.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def load_yaml(path: str | os.PathLike) -> dict[str, Any]:
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"{path}: config file not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as e:
        raise ConfigError(f"{path}: not valid YAML ({e})") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return data


def load_config(path: str | os.PathLike, cls: type[C], overrides: typing.Iterable[str] = ()) -> C:
    data = _merge(load_yaml(path), parse_overrides(overrides))
    return build(cls, data, source=str(path))


def resolved(cfg: Any) -> dict[str, Any]:
    return dataclasses.asdict(cfg) if dataclasses.is_dataclass(cfg) else dict(cfg)

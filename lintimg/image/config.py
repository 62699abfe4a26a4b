"""The image config JSON, checked against the types the image spec gives each field.

A config comes from whoever built or served the image. Rules read fields
as the spec types them (``Env`` a list of strings, ``Labels`` a map of
strings, ``User`` a string …), so :func:`checked` runs once, when the image
is assembled: a field of the wrong type is dropped (a list keeps its items of
the right type) and an :class:`~lintimg.image.model.Anomaly` says what went;
a history item that is not an object is dropped the same way. What is left
holds only the shapes the rules expect.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lintimg.image.model import Anomaly

Check = Callable[[Any], bool]


def _str(v: Any) -> bool:
    return isinstance(v, str)


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _bool(v: Any) -> bool:
    return isinstance(v, bool)


def _str_list(v: Any) -> bool:
    return isinstance(v, list) and all(isinstance(x, str) for x in v)


def _str_map(v: Any) -> bool:
    return isinstance(v, dict) and all(isinstance(x, str) for x in v.values())


def _set(v: Any) -> bool:  # {"80/tcp": {}}: the spec's sets of names
    return isinstance(v, dict) and all(isinstance(x, dict) for x in v.values())


def _healthcheck(v: Any) -> bool:
    return isinstance(v, dict) and _str_list(v.get("Test", [])) and all(
        _int(v[k]) for k in ("Interval", "Timeout", "StartPeriod", "StartInterval", "Retries") if k in v)


# image config -> container "config" fields (docker/OCI image spec), each with its type check
CONTAINER: dict[str, Check] = {
    "User": _str, "ExposedPorts": _set, "Env": _str_list, "Entrypoint": _str_list, "Cmd": _str_list, "Volumes": _set,
    "WorkingDir": _str, "Labels": _str_map, "StopSignal": _str, "Healthcheck": _healthcheck, "Shell": _str_list,
    "OnBuild": _str_list, "ArgsEscaped": _bool,
}
TOP: dict[str, Check] = {"architecture": _str, "os": _str, "variant": _str, "created": _str, "author": _str, "os.version": _str}
HISTORY: dict[str, Check] = {"created": _str, "created_by": _str, "author": _str, "comment": _str, "empty_layer": _bool}
# lists whose good items are kept when some are bad
_ITEMS: dict[str, Check] = {"Env": _str, "Entrypoint": _str, "Cmd": _str, "Shell": _str, "OnBuild": _str}


def _fields(doc: dict[str, Any], checks: dict[str, Check], where: str, anomalies: list[Anomaly]) -> dict[str, Any]:
    out = dict(doc)
    for key, ok in checks.items():
        value = doc.get(key)
        if value is None:
            out.pop(key, None)  # null is absent (as Go's decoder reads it): rules see the type or nothing
            continue
        if ok(value):
            continue
        item = _ITEMS.get(key)
        if item is not None and isinstance(value, list):
            out[key] = [x for x in value if item(x)]
            anomalies.append(Anomaly(-1, "", f"{where}.{key}: {len(value) - len(out[key])} item(s) of the wrong type dropped"))
        else:
            del out[key]
            anomalies.append(Anomaly(-1, "", f"{where}.{key}: a {type(value).__name__}, not what the image spec says (ignored)"))
    return out


def checked(config: dict[str, Any], anomalies: list[Anomaly]) -> dict[str, Any]:
    """``config`` with every field of the wrong type dropped, each drop an anomaly (``layer`` -1)."""
    out = _fields(config, TOP, "config", anomalies)
    container = config.get("config")
    if container is not None:
        if isinstance(container, dict):
            out["config"] = _fields(container, CONTAINER, "config.config", anomalies)
        else:
            del out["config"]
            anomalies.append(Anomaly(-1, "", f"config.config: a {type(container).__name__}, not an object (ignored)"))
    history = config.get("history")
    if history is not None:
        if not isinstance(history, list):
            del out["history"]
            anomalies.append(Anomaly(-1, "", f"config.history: a {type(history).__name__}, not a list (ignored)"))
        else:
            kept = [_fields(h, HISTORY, f"config.history[{i}]", anomalies) for i, h in enumerate(history) if isinstance(h, dict)]
            if len(kept) != len(history):
                anomalies.append(Anomaly(-1, "", f"config.history: {len(history) - len(kept)} item(s) that are not objects dropped"))
            out["history"] = kept
    return out

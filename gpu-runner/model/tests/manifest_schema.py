"""The manifest's JSON Schema (sdk/internal/manifest.schema.json, made from the TypeScript schema the
runner and the registry parse with), checked here without a JSON Schema library: the subset zod
emits (type, const, enum, pattern, required, properties, items, additionalProperties, anyOf)."""
from __future__ import annotations

import json
import re
from pathlib import Path

SCHEMA = json.loads((Path(__file__).resolve().parents[3] / "sdk" / "internal" / "manifest.schema.json").read_text())
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def problems(value, schema: dict, path: str = "$") -> list[str]:
    """Every way `value` breaks `schema`, as 'path: what'; empty when it fits."""
    if "anyOf" in schema:
        return [] if any(not problems(value, s, path) for s in schema["anyOf"]) else [f"{path}: fits none of anyOf"]
    out: list[str] = []
    t = schema.get("type")
    if t in ("number", "integer"):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (t == "integer" and value != int(value)):
            return [f"{path}: expected {t}, got {type(value).__name__}"]
    elif t is not None and not isinstance(value, TYPES[t]):
        return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        out.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        out.append(f"{path}: expected one of {schema['enum']}")
    if "pattern" in schema and not re.search(schema["pattern"], value):
        out.append(f"{path}: does not match {schema['pattern']}")
    if isinstance(value, dict):
        out += [f"{path}.{k}: missing" for k in schema.get("required", []) if k not in value]
        props = schema.get("properties", {})
        for k, v in value.items():
            if k in props:
                out += problems(v, props[k], f"{path}.{k}")
            elif isinstance(schema.get("additionalProperties"), dict):
                out += problems(v, schema["additionalProperties"], f"{path}.{k}")
            elif schema.get("additionalProperties") is False:
                out.append(f"{path}.{k}: not allowed")
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for i, v in enumerate(value):
            out += problems(v, schema["items"], f"{path}[{i}]")
    return out

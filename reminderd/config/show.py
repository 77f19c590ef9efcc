"""The schema shown to people: the commented example config, and ``reminderd check
--show-config`` (each value and where it came from, as Radicale's ``get_source``)."""

from __future__ import annotations

from datetime import time
from pathlib import Path
from typing import Any

from reminderd.config.schema import SCHEMA, Schema, Setting
from reminderd.config.settings import Settings


def _render(value: Any) -> str:
    if isinstance(value, time):
        return f'"{value:%H:%M}"'
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_render(v).strip('"') for v in value) + "]"
    if value is None:
        return "~"
    text = str(value)
    return f'"{text}"' if any(c in text for c in ":<>#") else text


def example_config() -> str:
    """The fully commented example config, generated from the schema."""
    lines = ["# reminderd configuration. Every key is optional; shown here with its default.",
             "# Relative paths resolve against this file's folder."]

    def walk(schema: Schema, indent: str) -> None:
        for key, spec in schema.items():
            if isinstance(spec, dict):
                if key == "smtp":
                    lines.append(f"{indent}# smtp:   # absent = write mail to the Maildir")
                    for sub, sub_spec in spec.items():
                        assert isinstance(sub_spec, Setting)
                        lines.append(f"{indent}#   {sub}: {_render(sub_spec.default)}"
                                     f"   # {sub_spec.help}")
                    continue
                lines.append(f"{indent}{key}:")
                walk(spec, indent + "  ")
            elif not spec.file:
                lines.append(f"{indent}# ({key}: only from the environment, {spec.env}: "
                             f"{spec.help})")
            else:
                lines.append(f"{indent}# {spec.help}")
                lines.append(f"{indent}{key}: {_render(spec.default)}")

    walk(SCHEMA, "")
    return "\n".join(lines) + "\n"


def _value_of(settings: Settings, dotted: str) -> Any:
    """The typed value of a dotted key (``mail.from`` is ``settings.mail.sender``)."""
    node: Any = settings
    schema: Schema | Setting = SCHEMA
    for part in dotted.split("."):
        assert isinstance(schema, dict)
        schema = schema[part]
        name = schema.field if isinstance(schema, Setting) and schema.field else part
        node = getattr(node, name, None)
    return node


def show_config(settings: Settings) -> list[str]:
    """``key = value   (source)`` for every setting, secrets masked."""
    out: list[str] = []

    def walk(schema: Schema, prefix: str) -> None:
        for key, spec in schema.items():
            dotted = f"{prefix}{key}"
            if isinstance(spec, dict):
                if key == "smtp" and settings.mail.smtp is None:
                    out.append(f"{dotted} = ~   ({settings.origins.get(dotted, 'default')}: "
                               "absent, mail goes to the Maildir)")
                    continue
                walk(spec, f"{dotted}.")
                continue
            value = _value_of(settings, dotted)
            if dotted == "http.listen":
                value = "{}:{}".format(*value)
            shown = "(set, hidden)" if spec.secret and value else _render(
                str(value) if isinstance(value, Path) else value)
            out.append(f"{dotted} = {shown}   ({settings.origins.get(dotted, 'default')})")

    walk(SCHEMA, "")
    return out

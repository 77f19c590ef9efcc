"""Reading config/reminderd.yaml (and the environment settings) against the schema.

Every problem is collected, then raised together as :class:`ConfigError`, each one
``FILE:LINE:COL: message``; cross-field problems point at the field that breaks the rule.
YAML's implicit typing never decides a value: every scalar is read as text by the
schema's reader. Relative paths resolve against the config file's folder.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

import yaml

from reminderd.config.schema import SCHEMA, NotEchoed, Schema, Setting, hidden
from reminderd.config.settings import (
    ContactSettings,
    DeliverySettings,
    FeedsSettings,
    HttpSettings,
    MailSettings,
    OperatorSettings,
    Origin,
    RemindersSettings,
    Settings,
    SmtpSettings,
    WeeklySettings,
    WorkdaysSettings,
)
from reminderd.core.errors import Problem, ProblemsError

MAX_CONFIG_BYTES = 1024 * 1024
MAX_CONFIG_DEPTH = 20  # the config needs 3 levels
DEFAULT_CONFIG = Path("config/reminderd.yaml")


class ConfigError(ProblemsError):
    """The config (or an environment setting) has problems; ``problems`` lists them all."""


_BAD = object()


class _Reader:
    """One walk over the config's nodes: values by dotted key, where each came from, and
    every problem found."""

    def __init__(self, file: str, environ: Mapping[str, str]) -> None:
        self.file = file
        self.environ = environ
        self.problems: list[Problem] = []
        self.origins: dict[str, Origin] = {}

    def at(self, node: yaml.Node, message: str) -> None:
        mark = node.start_mark
        self.problems.append(Problem(self.file, mark.line + 1, mark.column + 1, message))

    def section(self, schema: Schema, node: yaml.Node | None, prefix: str) -> dict[str, Any]:
        """Walk one mapping against its schema: unknown keys, types, duplicates."""
        values: dict[str, Any] = {}
        seen: dict[str, yaml.Node] = {}
        if node is not None and not isinstance(node, yaml.MappingNode):
            self.at(node, f"'{prefix.rstrip('.') or 'config'}' must be a mapping")
            node = None
        for key_node, value_node in node.value if node is not None else []:
            key = str(key_node.value)
            name = f"{prefix}{key}"
            if key in seen:
                line = seen[key].start_mark.line + 1
                self.at(key_node, f"duplicate key '{name}' (first at line {line})")
                continue
            seen[key] = key_node
            spec = schema.get(key)
            if spec is None or (isinstance(spec, Setting) and not spec.file):
                known = [k for k, s in schema.items() if not isinstance(s, Setting) or s.file]
                close = difflib.get_close_matches(key, known, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else f"; known: {', '.join(known)}"
                if isinstance(spec, Setting) and spec.env:
                    hint = f"; it is set in the environment only: {spec.env}"
                self.at(key_node, f"unknown key '{name}'{hint}")
                continue
            mark = value_node.start_mark
            self.origins[name] = Origin("file", self.file, mark.line + 1, mark.column + 1)
            if isinstance(spec, dict):
                values[key] = self.section(spec, value_node, f"{name}.")
                continue
            value = self.value(spec, value_node, name)
            if value is not _BAD:
                values[key] = value
        for key, spec in schema.items():
            if key in values or f"{prefix}{key}" in self.origins:
                continue
            if isinstance(spec, dict):
                values[key] = (None if key == "smtp" else
                               self.section(spec, None, f"{prefix}{key}."))
            else:
                values[key] = self.default_or_env(spec, f"{prefix}{key}")
        return values

    def default_or_env(self, spec: Setting, name: str) -> Any:
        raw = self.environ.get(spec.env) if spec.env else None
        if spec.env and raw is not None:  # set, even empty: the reader says what is wrong
            self.origins[name] = Origin("environment", env=spec.env)
            try:
                return spec.read(raw.strip())
            except ValueError as exc:
                shown = "(hidden)" if spec.secret else repr(raw)
                self.problems.append(Problem(f"<environment {spec.env}>", 1, 1,
                                             f"{spec.env}={shown}: {exc}"))
                return spec.default
        self.origins[name] = Origin("default")
        # defaults are written as the file would write them: read them the same way
        return spec.read(spec.default) if isinstance(spec.default, str) else spec.default

    def value(self, spec: Setting, node: yaml.Node, name: str) -> Any:
        if node.tag.startswith("!"):  # `!!python/...` or a local tag: never let YAML decide
            self.at(node, f"'{name}': YAML tags are not allowed")
            return _BAD
        if spec.optional and isinstance(node, yaml.ScalarNode) and node.value in ("", "~",
                                                                                  "null"):
            return None
        items = node.value if spec.is_list and isinstance(node, yaml.SequenceNode) else None
        if spec.is_list and items is None:
            self.at(node, f"'{name}' must be a list, e.g. [7, 1]")
            return _BAD
        out = []
        for item in items if items is not None else [node]:
            if not isinstance(item, yaml.ScalarNode):
                self.at(item, f"'{name}' must be a plain value")
                return _BAD
            try:
                out.append(spec.read(str(item.value)))
            except ValueError as exc:
                shown = hidden(str(item.value)) if isinstance(exc, NotEchoed) else repr(item.value)
                self.at(item, f"'{name}': {shown}: {exc}")
                return _BAD
        return out if spec.is_list else out[0]


def _too_deep(text: str, file: str) -> Problem:
    """Where the config nests too deeply to compose: the first collection deeper than
    MAX_CONFIG_DEPTH, found from the parser's events (the parser does not recurse)."""
    message = (f"the config nests deeper than {MAX_CONFIG_DEPTH} levels (it needs 3): check "
               "the brackets and the indentation here")
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                mark = event.start_mark
                if depth > MAX_CONFIG_DEPTH and mark is not None:
                    return Problem(file, mark.line + 1, mark.column + 1, message)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
    except yaml.YAMLError:
        pass
    return Problem(file, 1, 1, message)


def _compose(path: Path) -> yaml.Node | None:
    file = str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError([Problem(file, 1, 1, f"cannot read config: {exc.strerror}")]) from None
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError([Problem(file, 1, 1, f"config is {len(data)} bytes; the limit is "
                                               f"{MAX_CONFIG_BYTES}")])
    try:
        node: yaml.Node | None = yaml.compose(data.decode("utf-8"), Loader=yaml.SafeLoader)
    except UnicodeDecodeError as exc:
        raise ConfigError([Problem(file, 1, 1, f"not UTF-8: {exc.reason}")]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise ConfigError([Problem(file, line, col, f"YAML syntax: {exc.problem}")]) from None
    except RecursionError:  # PyYAML's composer recurses once per level of nesting
        raise ConfigError([_too_deep(data.decode("utf-8"), file)]) from None
    return node


def _typed(cls: type[Any], schema: Schema, values: dict[str, Any]) -> Any:
    """One section's values as its dataclass: lists become tuples, ``from`` is ``sender``."""
    names = {(s.field if isinstance(s, Setting) and s.field else key): key
             for key, s in schema.items()}
    args = {}
    for f in fields(cls):
        value = values[names[f.name]]
        args[f.name] = tuple(value) if isinstance(value, list) else value
    return cls(**args)


def _cross_field(settings: Settings) -> list[Problem]:
    """Rules across fields, each reported at the first of its fields written in the file
    (the one the admin chose), not at 1:1."""
    delivery, feeds = settings.delivery, settings.feeds
    rules = [
        (delivery.lease_seconds < 2 * delivery.send_timeout_seconds,
         ("delivery.lease_seconds", "delivery.send_timeout_seconds"),
         "delivery.lease_seconds must be at least twice delivery.send_timeout_seconds, or a "
         "slow send could be taken over by another replica and sent twice"),
        (feeds.public_calendar and feeds.include_contacts,
         ("feeds.include_contacts", "feeds.public_calendar"),
         "feeds.public_calendar with feeds.include_contacts would publish every agency's "
         "e-mail address on the public listener; set include_contacts: false"),
    ]
    found = []
    for broken, keys, message in rules:
        if broken:
            written = [k for k in keys if settings.origins[k].source == "file"]
            found.append(settings.problem((written or list(keys))[0], message))
    return found


def load_settings(path: Path | None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the config file (or the embedded defaults when ``path`` is None) and the
    environment settings (``environ``, default ``os.environ``)."""
    file = str(path) if path else "<defaults>"
    node = _compose(path) if path is not None else None
    reader = _Reader(file, os.environ if environ is None else environ)
    values = reader.section(SCHEMA, node, "")
    mail_schema = SCHEMA["mail"]
    assert isinstance(mail_schema, dict)
    smtp_schema = mail_schema["smtp"]
    assert isinstance(smtp_schema, dict)
    smtp_values = values["mail"]["smtp"]
    if smtp_values is not None and not smtp_values.get("host"):
        where = reader.origins["mail.smtp"]
        reader.problems.append(Problem(where.file, where.line, where.col,
                                       "mail.smtp needs a host, e.g. host: smtp.example"))
    if reader.problems:
        raise ConfigError(reader.problems)
    base = path.parent.resolve() if path else Path.cwd()

    def resolve(value: str | None) -> Path | None:
        return None if value is None else (base / value).resolve()

    smtp = None
    if smtp_values is not None:
        smtp_values["ca_file"] = resolve(smtp_values["ca_file"])
        smtp = _typed(SmtpSettings, smtp_schema, smtp_values)

    http = values["http"]
    settings = Settings(
        path=path,
        plans=resolve(values["plans"]) or base,
        templates=resolve(values["templates"]) or base,
        timezone=values["timezone"],
        store=values["store"],
        var_dir=resolve(values["var_dir"]) or base,
        mail=MailSettings(sender=values["mail"]["from"],
                          maildir=resolve(values["mail"]["maildir"]) or base,
                          reply_to=values["mail"]["reply_to"],
                          operator=values["mail"]["operator"], smtp=smtp),
        http=_typed(HttpSettings, _sub(SCHEMA, "http"), {
            **http, "public_url": http["public_url"].rstrip("/"),
            "export_dir": resolve(http["export_dir"])}),
        feeds=_typed(FeedsSettings, _sub(SCHEMA, "feeds"), values["feeds"]),
        reminders=_typed(RemindersSettings, _sub(SCHEMA, "reminders"), values["reminders"]),
        delivery=_typed(DeliverySettings, _sub(SCHEMA, "delivery"), values["delivery"]),
        workdays=_typed(WorkdaysSettings, _sub(SCHEMA, "workdays"), values["workdays"]),
        contact=_typed(ContactSettings, _sub(SCHEMA, "contact"), values["contact"]),
        weekly=_typed(WeeklySettings, _sub(SCHEMA, "weekly"), values["weekly"]),
        operator=_typed(OperatorSettings, _sub(SCHEMA, "operator"), values["operator"]),
        origins=reader.origins,
    )
    problems = _cross_field(settings)
    if problems:
        raise ConfigError(problems)
    return settings


def _sub(schema: Schema, key: str) -> Schema:
    section = schema[key]
    assert isinstance(section, dict)
    return section

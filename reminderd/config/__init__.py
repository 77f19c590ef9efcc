"""Settings from config/reminderd.yaml and the environment.

One schema (:mod:`.schema`) drives the defaults, the type checks, the help text, the
commented example config (a test keeps config/reminderd.example.yaml equal to it) and
``check --show-config`` (:mod:`.show`). The loader (:mod:`.load`) gives typed, frozen
sections (:mod:`.settings`) and reports every problem at once as ``FILE:LINE:COL: message``.
"""

from reminderd.config.load import DEFAULT_CONFIG, ConfigError, load_settings
from reminderd.config.schema import SCHEMA, NotEchoed, Setting, hidden, parse_rotation, redact
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
from reminderd.config.show import example_config, show_config

__all__ = [
    "DEFAULT_CONFIG",
    "SCHEMA",
    "ConfigError",
    "ContactSettings",
    "DeliverySettings",
    "FeedsSettings",
    "HttpSettings",
    "MailSettings",
    "NotEchoed",
    "OperatorSettings",
    "Origin",
    "RemindersSettings",
    "Setting",
    "Settings",
    "SmtpSettings",
    "WeeklySettings",
    "WorkdaysSettings",
    "example_config",
    "hidden",
    "load_settings",
    "parse_rotation",
    "redact",
    "show_config",
]

"""The settings' defaults, for tests that build the core and the feeds directly: they come
from the config schema, the one place defaults are written."""

from __future__ import annotations

from dataclasses import replace

from reminderd.config import load_settings
from reminderd.feeds.build import feed_options
from reminderd.feeds.events import FeedOptions
from reminderd.workspace import policy_of

DEFAULTS = load_settings(None, environ={})
POLICY = policy_of(DEFAULTS.reminders, DEFAULTS.timezone)


def options(**changes: object) -> FeedOptions:
    """The default feed options, with the UIDs under reminderd.local as the tests expect."""
    return replace(feed_options(DEFAULTS), uid_domain="reminderd.local", **changes)  # type: ignore[arg-type]

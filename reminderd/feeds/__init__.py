"""Occurrences -> iCalendar bytes: the builder, the feed set with its revisions, feed tokens."""

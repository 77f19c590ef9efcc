"""Reminder mail: the template view, rendering, MIME messages, transports and their set-up."""

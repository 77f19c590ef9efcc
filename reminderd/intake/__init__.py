"""Documents coming in: ``reminderd import`` writes a draft plan file from a document
(:mod:`.importing`), and ``reminderd check`` says what a new or changed plan file adds
(:mod:`.review`) before the daemon applies it."""

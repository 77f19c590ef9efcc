"""The fault suite: kills, replicas, SMTP and database faults, hostile input (issue 6)."""

"""The daemon: lifecycle, the service (scheduling, reloads), HTTP, status, published feeds."""

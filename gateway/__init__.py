"""Vigie's adapters and entrypoints: MQTT ingest, the database, the HTTP/WebSocket API, the CLI."""

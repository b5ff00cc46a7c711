"""MQTT adapters: topics, payload codec, the ingest client and worker."""

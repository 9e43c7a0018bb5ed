"""Sync with HQ over MQTT: topics, wire format, outbox drain and HQ config apply."""

"""Durable local storage: the fsynced event journal, TinyDB projections, snapshots, outbox."""

"""The HQ side: idempotent ingest of store events, price and config publishing, reports."""

"""Asset group names and key prefixes, in one place."""

INGEST = "ingest"
BRONZE = "bronze"

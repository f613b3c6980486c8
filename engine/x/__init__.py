"""The X API: a small typed client, ingestion of mentions and searches, reconciliation of the
brand's own posts with the outbox, and a stand-in server that speaks the same endpoints."""

"""The orchestration service: REST API plus the orchestration loop."""

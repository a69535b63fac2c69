"""The tasker HTTP client: `OrchestrationCluster`, its strategies and the API models."""

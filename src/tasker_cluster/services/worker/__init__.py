"""The Python worker service: claims steps from its namespaces' queues and runs their handlers."""

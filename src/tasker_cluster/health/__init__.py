"""Health: probe instances over HTTP and wait until they are ready."""

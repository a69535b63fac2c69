"""tasker-core's API shapes defined once, for the client that sends them and for the reference
services that validate, store and document them. Standard library only: every service process
and every CLI run imports it."""

"""The command-line front end: bodies of the invoke tasks, the printer, progress views."""

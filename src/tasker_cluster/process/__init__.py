"""Everything that touches an OS process: spawn, stop, trees, records, ports, the lock."""

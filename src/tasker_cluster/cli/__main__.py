"""`python -m tasker_cluster.cli start|stop|status`: `tasker-cluster` without the script."""

from __future__ import annotations

import sys

from tasker_cluster.cli.main import main

sys.exit(main())

"""`python -m dockyard` runs the CLI."""

from dockyard.cli.main import main

raise SystemExit(main())

"""One module per command (or per family of aliases); see dockyard.cli.table for the paths."""

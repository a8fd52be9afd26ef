"""The command-line interface: Docker-compatible commands over the services (see main.py)."""

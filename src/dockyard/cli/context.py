"""What a command gets to work with: the configuration, the standard streams, the services.

Services are opened on first use, so a command that fails on its flags never touches the
data root.
"""

import sys


class Cli:
    def __init__(self, config, stdin=None, stdout=None, stderr=None):
        self.config = config
        self.stdin = stdin or sys.stdin
        self.stdout = stdout or sys.stdout
        self.stderr = stderr or sys.stderr
        self._images = None

    @property
    def images(self):
        """The ImageService for this data root."""
        if self._images is None:
            from dockyard.services.images import ImageService

            self._images = ImageService(self.config)
        return self._images

    def close(self) -> None:
        if self._images is not None:
            self._images.close()
            self._images = None

    def out(self, text: str) -> None:
        self.stdout.write(text)

    def err(self, text: str) -> None:
        self.stdout.flush()  # keep the order the user would see on a terminal
        self.stderr.write(text)

    def binary_stdout(self):
        self.stdout.flush()
        return self.stdout.buffer

    def binary_stdin(self):
        return self.stdin.buffer

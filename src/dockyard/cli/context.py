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
        self._containers = None
        self.prefork = None  # a supervisor forked ahead for `run` (cli.main), until taken

    def take_prefork(self):
        """The supervisor forked ahead, once (None if none)."""
        pre, self.prefork = self.prefork, None
        return pre

    @property
    def images(self):
        """The ImageService for this data root; it asks the containers whether an image is used."""
        if self._images is None:
            if self._containers is not None:  # share the container service's
                self._images = self._containers.images
            else:
                from dockyard.services.images import ImageService

                self._images = ImageService(self.config, in_use=self._image_in_use)
        return self._images

    @property
    def containers(self):
        """The ContainerService for this data root (sharing the ImageService)."""
        if self._containers is None:
            from dockyard.services.containers import ContainerService

            # without images yet, the service makes its own on first use (ps never does)
            self._containers = ContainerService(self.config, images=self._images)
        return self._containers

    def _image_in_use(self, image_id: str) -> str:
        """The id of a container using the image ("" if none): truthy where a bool is
        expected, and what Docker names in its rmi conflict message."""
        svc = self.containers
        if not svc.image_in_use(image_id):
            return ""
        for rec in svc.store.list():
            if rec.image_id == image_id:
                return rec.id
        return ""

    def close(self) -> None:
        if self.prefork is not None:  # not taken (the command failed first): it leaves
            from dockyard.runtime import launch

            launch.cancel(self.take_prefork())
        if self._containers is not None:
            self._containers.close()
            self._containers = None
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

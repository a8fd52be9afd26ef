"""What the `volume` commands share: the service for this data root and Docker's volume row
(`volume ls`, `system df -v`) with its fields, headers and default table."""

from dockyard.cli.formatter import Row

VOLUMES_TABLE = "table {{.Driver}}\t{{.Name}}"
QUIET = "{{.Name}}"
VOLUME_HEADER = {
    "Name": "VOLUME NAME",
    "Driver": "DRIVER",
    "Scope": "SCOPE",
    "Mountpoint": "MOUNTPOINT",
    "Labels": "LABELS",
    "Links": "LINKS",
    "Size": "SIZE",
}


def service(cli):
    from dockyard.services.volumes import VolumeService

    return VolumeService(cli.config)


class VolumeRow(Row):
    GO_TYPE = "*formatter.volumeContext"
    FIELDS = ("Driver", "Labels", "Links", "Mountpoint", "Name", "Scope", "Size")

    def __init__(self, vol: dict):
        self.vol = vol

    def Name(self) -> str:
        return self.vol["Name"]

    def Driver(self) -> str:
        return self.vol["Driver"]

    def Scope(self) -> str:
        return self.vol["Scope"]

    def Mountpoint(self) -> str:
        return self.vol["Mountpoint"]

    def Labels(self) -> str:
        labels = self.vol.get("Labels") or {}
        return ",".join(f"{k}={v}" for k, v in labels.items())

    def Links(self) -> str:
        usage = self.vol.get("UsageData")
        return str(usage["RefCount"]) if usage else "N/A"

    def Size(self) -> str:
        from dockyard.cli.units import human_size

        usage = self.vol.get("UsageData")
        return human_size(usage["Size"]) if usage else "N/A"

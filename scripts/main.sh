#!/usr/bin/env bash
# main.sh — the main job: make a busybox base image from the host's busybox-static, import it,
# list it, save it (and load the saved archive back, checking the image id survives the round trip),
# then build the example application in examples/hello on it and run it in a container.
# Uses dockyard's default data root (/var/lib/dockyard) unless DOCKYARD_ROOT is set.
set -euo pipefail
cd "$(dirname "$0")/.."
DY=.venv/bin/dockyard
out=${OUT:-/tmp/dockyard-main}
mkdir -p "$out"

scripts/make-busybox-rootfs.sh "$out/busybox-rootfs.tar"
echo "+ dockyard import busybox-rootfs.tar busybox:latest"
id=$($DY import --change 'CMD ["/bin/sh"]' --message "busybox from busybox-static" \
      "$out/busybox-rootfs.tar" busybox:latest)
echo "$id"
echo "+ dockyard images busybox"
$DY images busybox
echo "+ dockyard save -o busybox.tar busybox:latest"
$DY save -o "$out/busybox.tar" busybox:latest
ls -l "$out/busybox.tar"
echo "+ dockyard rmi busybox:latest && dockyard load -i busybox.tar"
$DY rmi busybox:latest
$DY load -i "$out/busybox.tar"
again=$($DY image inspect -f '{{.Id}}' busybox:latest)
[ "$again" = "$id" ] || { echo "main: image id changed across save/load: $id -> $again" >&2; exit 1; }
echo "+ dockyard history busybox"
$DY history busybox
echo "+ dockyard build -t hello:1 examples/hello"
$DY build -t hello:1 examples/hello
echo "+ dockyard run --rm --network none hello:1"
$DY run --rm --network none hello:1
echo "main: ok — busybox:latest is $id; hello:1 built and ran"

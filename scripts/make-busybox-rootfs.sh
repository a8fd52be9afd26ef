#!/usr/bin/env bash
# make-busybox-rootfs.sh OUT.tar — a busybox root filesystem as a tar, from Debian's busybox-static:
# /bin/busybox, one symlink per applet, a minimal /etc, and the usual empty top-level folders.
# Deterministic: fixed owners and mtimes, sorted entries (the same host busybox gives the same tar).
set -euo pipefail
out=${1:?usage: make-busybox-rootfs.sh OUT.tar}
bb=/bin/busybox
[ -x "$bb" ] || { echo "make-busybox-rootfs: $bb is missing (apt-get install busybox-static)" >&2; exit 1; }
"$bb" --list >/dev/null 2>&1 || { echo "make-busybox-rootfs: $bb is not busybox" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
r=$work/rootfs
mkdir -p "$r"/{bin,etc,tmp,proc,sys,dev,root,home,var,usr/bin,usr/sbin,sbin}
chmod 1777 "$r/tmp"; chmod 700 "$r/root"
cp "$bb" "$r/bin/busybox"
for a in $("$bb" --list); do [ "$a" = busybox ] || ln -s busybox "$r/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
echo "127.0.0.1 localhost" > "$r/etc/hosts"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime='2024-01-01 00:00:00Z' \
    -C "$r" -cf "$out.tmp" . && mv "$out.tmp" "$out"

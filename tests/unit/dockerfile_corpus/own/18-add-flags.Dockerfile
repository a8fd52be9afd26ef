FROM busybox
ADD --checksum=sha256:24454f830cdb571e2c4ad15481119c43b3cafd48dd869a9b2945d1036d1dc68d https://example.com/a.tar /a
ADD --keep-git-dir=true https://github.com/moby/buildkit.git#v0.10.1 /buildkit
ADD --chown=app --chmod=644 --link a /b
ADD --unpack=false archive.tar.gz /c
ADD --exclude=*.log src /d

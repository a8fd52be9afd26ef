FROM busybox
LABEL a=b "c d"=e
LABEL version="1.0" description="multi word"
LABEL legacy value here
LABEL org.opencontainers.image.title=dockyard

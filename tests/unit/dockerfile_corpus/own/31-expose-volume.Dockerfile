FROM busybox
EXPOSE 80 443/tcp 53/udp
EXPOSE 8080
VOLUME /data
VOLUME ["/a", "/b"]
VOLUME /c /d

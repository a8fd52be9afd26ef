FROM busybox
USER app:app
WORKDIR /srv/app
WORKDIR relative
STOPSIGNAL SIGTERM
MAINTAINER Someone <someone@example.com>

FROM busybox
COPY <<EOF /etc/app.conf
key=value
other=$HOME
EOF
COPY --chmod=0755 <<-"SCRIPT" /usr/local/bin/run
	#!/bin/sh
	echo run
SCRIPT

FROM busybox
RUN <<EOF
echo hello
echo world
EOF

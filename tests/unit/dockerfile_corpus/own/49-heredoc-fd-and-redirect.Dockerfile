FROM busybox
RUN cat 0<<EOF > /out
redirected
EOF
RUN <<  SPACED
spaced delimiter
SPACED

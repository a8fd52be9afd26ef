FROM busybox
ENV NAME=x
RUN <<"EOF"
echo $NAME
EOF
RUN <<'EOF'
echo $NAME
EOF
RUN <<EOF
echo $NAME
EOF

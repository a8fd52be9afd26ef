FROM busybox
RUN ["sh", "-c", "<<EOF"]
CMD <<EOF

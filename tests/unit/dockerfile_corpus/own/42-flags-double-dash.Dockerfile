FROM busybox
COPY -- a b
COPY --link -- --weird-name b

FROM busybox
COPY --chown="1000:1000" a b
RUN --mount="type=cache,target=/c" true
COPY --from='src' a b

FROM busybox
ONBUILD ADD . /app/src
ONBUILD RUN ["make"]
ONBUILD COPY --from=builder /x /y
onbuild run echo lower

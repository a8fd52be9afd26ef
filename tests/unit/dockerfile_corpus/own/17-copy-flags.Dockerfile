FROM busybox AS src
FROM busybox
COPY --from=src --chown=1000:1000 --chmod=0755 /a /b
COPY --link --parents a/b/c /dest/
COPY --exclude=*.md --exclude=*.txt . /app/
COPY --from=0 /x /y
COPY --link=false a b

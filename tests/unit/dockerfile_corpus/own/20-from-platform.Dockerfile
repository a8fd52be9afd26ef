ARG BUILDPLATFORM
FROM --platform=$BUILDPLATFORM golang:1.22 AS build
FROM --platform=linux/arm64 alpine AS runtime
COPY --from=build /go/bin/app /app

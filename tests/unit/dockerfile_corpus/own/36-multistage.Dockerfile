FROM golang:1.22 AS deps
RUN go mod download
FROM deps AS build
RUN go build -o /out/app
FROM deps AS test
RUN go test ./...
FROM alpine AS final
COPY --from=build /out/app /app
ENTRYPOINT ["/app"]

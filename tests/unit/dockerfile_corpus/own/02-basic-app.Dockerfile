FROM alpine:3.19 AS build
WORKDIR /src
COPY . .
RUN make build
ENV PATH=/usr/local/bin:$PATH
CMD ["./app"]

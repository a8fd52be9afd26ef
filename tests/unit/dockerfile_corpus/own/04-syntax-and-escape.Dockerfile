# syntax=docker/dockerfile:1.7
# escape=\
FROM busybox
RUN echo a \
    b

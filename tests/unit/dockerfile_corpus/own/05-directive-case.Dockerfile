# ESCAPE=`
# Syntax = docker/dockerfile:1
FROM busybox
RUN echo one `
  two

FROM busybox
CMD []
ENTRYPOINT []
RUN []

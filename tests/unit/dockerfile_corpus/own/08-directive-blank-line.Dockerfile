
# escape=`
FROM busybox
RUN echo x \
  y

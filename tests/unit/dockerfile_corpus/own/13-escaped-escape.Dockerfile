FROM busybox
RUN echo foo \\
RUN echo bar

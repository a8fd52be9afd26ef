# leading comment
FROM busybox
   # indented comment
RUN echo hi # not a comment inside RUN
# trailing

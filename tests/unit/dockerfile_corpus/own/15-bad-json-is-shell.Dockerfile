FROM busybox
RUN [ "echo", 'single quotes' ]
CMD [ "unterminated
ENTRYPOINT ["a", "b"] trailing
RUN [broken
CMD {"not": "an array"}

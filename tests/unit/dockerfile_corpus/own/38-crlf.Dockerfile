FROM busybox
RUN echo crlf \
    continued
CMD ["sh"]

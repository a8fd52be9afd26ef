FROM busybox
RUN ["echo", "exec form"]
RUN echo shell form
CMD ["sh", "-c", "echo $HOME"]
ENTRYPOINT ["/bin/sh"]
CMD [ "a" , "b" ]

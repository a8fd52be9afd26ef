FROM busybox
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
RUN echo hi | cat
SHELL ["powershell", "-command"]

FROM busybox
RUN --mount=type=cache,target=/root/.cache --mount=type=secret,id=tok,target=/run/secrets/tok pip install x
RUN --network=none echo offline
RUN --security=insecure echo insecure
RUN --mount=type=bind,from=builder,source=/out,target=/in ls /in
RUN --mount=type=tmpfs,target=/tmp,size=64m true
RUN --mount=type=ssh git clone git@example.com:x/y.git

FROM busybox
LABEL description="héllo wörld ✓"
RUN echo "안녕하세요"
ENV GREETING=こんにちは

FROM	busybox
RUN		echo   tabs
COPY	 a	 b
ENV	K	V

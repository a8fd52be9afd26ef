FROM busybox
RUN <<FILE1 cat > /a && 3<<FILE2 cat > /b
first
FILE1
second
FILE2
COPY <<A <<B /dest/
aaa
A
bbb
B

FROM busybox
COPY ["file with spaces.txt", "/dest dir/"]
ADD ["a", "b", "/c/"]

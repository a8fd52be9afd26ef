FROM busybox
ENV A=1
ENV B=${A}2 C=$A
ENV D=${UNSET:-default} E=${A:+set}
WORKDIR /base/$A

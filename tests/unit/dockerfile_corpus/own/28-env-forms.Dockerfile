FROM busybox
ENV A=1 B="two words" C=three\ words
ENV LEGACY value with spaces
ENV D='single' E="dq $A" F=
ENV G=1 \
    H=2

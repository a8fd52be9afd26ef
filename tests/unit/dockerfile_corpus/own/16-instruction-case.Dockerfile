from busybox as Base
run echo lower
Run echo mixed
cOpY a b
env A=1

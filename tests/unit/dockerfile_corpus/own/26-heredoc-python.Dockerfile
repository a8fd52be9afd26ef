FROM python:3
RUN <<EOF python3
print("hello")
EOF

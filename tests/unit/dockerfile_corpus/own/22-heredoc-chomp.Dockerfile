FROM busybox
RUN <<-EOT
	echo tabs stripped
		echo two tabs
	EOT

"""Layer tars: compression, a strict tar reader and writer, and safe application of untrusted layers.

Modules: `compression` (sniff/open gzip, zstd, bzip2, xz), `limits` (size/entry/header caps),
`tarformat`/`tarreader` (parsing untrusted tar headers), `rootdir` (openat walking clamped to a
root), `apply` (apply_layer), `whiteouts`, `tarwriter` (deterministic writer), `safepath`.
"""

"""dockyard's benchmark harness: times dockyard against Docker, Podman, runc, BuildKit, buildah and
distribution on the same inputs, interleaved, and writes JSON, markdown, PNG and RESULTS.md.

Run it as ``python -m bench [SUITE...] [--quick] [--runs N]`` from the repository root.
"""

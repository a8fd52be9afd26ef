"""The image builder: a Dockerfile and a context folder become an image.

`builder.build(opts, stores, resolve_base, progress)` parses and evaluates the Dockerfile,
walks the stages a target needs, reuses cached layers (`cachedb`), runs RUN steps in an
isolated container over an overlay of the parent snapshot (`run`), copies context files
(`copy`, `context`) and returns the new image's config and layers; the images service
records it. Modules import lazily; nothing here prints.
"""

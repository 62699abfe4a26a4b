"""lintimg: one engine for Dockerfiles, build contexts and container images."""

__version__ = "0.1.0"

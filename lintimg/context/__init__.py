"""The build context: .dockerignore and what each COPY/ADD sends."""

"""The resident server (opt-in: ``--daemon`` or ``LINTIMG_DAEMON=1``; docs/daemon.md).

A start of ``lintimg`` spends most of its CPU importing the engine, the rules
and their libraries before it reads a single Dockerfile. The resident server
imports them once and then, per request, forks a child that takes the
client's working directory, environment, command line and standard streams
and runs the ordinary command line in them: same config discovery, same
trust rules, same output, same exit code. Every request runs in a fresh fork
of a process that has run no request, so nothing (plugins, caches, globals)
carries over from one request or repository to the next.

- :mod:`.client`: what the console script runs first: decides whether to ask a
  server, starts one when none runs, and hands the request over. It loads
  only the standard library's socket-level modules; whatever it cannot get
  served exactly runs in-process, as without the server.
- :mod:`.server`: the server loop and the child that runs a request.
"""

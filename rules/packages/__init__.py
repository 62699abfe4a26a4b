"""LI300–LI339: package managers in RUN, one module per manager family.

The managers themselves (commands, install subcommands, yes switches, pins,
caches) are described once in :mod:`lintimg.rules._common`; each rule is a
few lines over that vocabulary.
"""

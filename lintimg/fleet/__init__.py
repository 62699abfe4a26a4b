"""``lintimg fleet``: every image of a registry namespace, each shared layer analysed once.

The driver (:mod:`.run`) lists repositories and tags and resolves each tag to
its image manifest (:mod:`.plan`), then hands two kinds of task to a runner
(:mod:`.runners`: an embedded process pool, or a Dask cluster): "analyse layer
L" once per distinct layer digest, and "check image I given its layers'
results" once per image digest (:mod:`.tasks`). Layer tasks leave their
results in the layer cache every worker sees and return only a small receipt;
image tasks read the cache, run the rules and return the reports, which the
driver writes per image digest, atomically (:mod:`.results`), so a killed run
resumes where it stopped. :mod:`.summary` says what the fleet holds.

Workers pull blobs themselves with the credentials of their own environment
(Docker's config or credential helpers); tasks carry references, never
credentials. Requests to a registry are paced per host across every process of
the run (:mod:`lintimg.image.pacing`).
"""

"""wansim: a faithful stand-in for the hosted Wan 2.1 image-to-video API (Novita "v3 async").

It runs as its own process (``python -m wansim``) or in-process for tests
(``wansim.server.Simulator``). It imports nothing from the studio: it is the far side of the wire.
"""

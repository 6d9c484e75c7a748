"""Reference media: what a user holds, checked, hashed and published for the service.

:mod:`.kinds` tells a file's kind from its bytes, :mod:`.refs` turns paths,
images, arrays, bytes and earlier jobs into :class:`~.refs.Media`, :mod:`.reach`
refuses URLs the service cannot fetch, and :mod:`.stores` publishes media (an
S3-compatible bucket, the Jupyter server's media route, or loopback for a local
emulator). The jobs layer stands on this one; it imports no jobs, kernel or server.
"""

"""The schema cache: every connector definition ever fetched, content-addressed.

Layout under the cache directory (platformdirs' user cache dir, or
``STREAMKAP_CONFIG_CACHE``, or ``--cache-dir``)::

    <section>/<code>/<version>/definition.json   canonical JSON; its sha256 is <version>
    <section>/<code>/<version>/schema.json       the generated JSON Schema
    <section>/<code>/<version>/meta.json         sha256s, ETag, fetched_at, URL, generator
    <section>/<code>/current.json                the newest version fetched, with its ETag
    .lock                                         cross-process write lock

``<section>`` is ``connectors`` for sources (the v0.1 layout) and
``destinations`` for destinations; one :class:`SchemaCache` serves one kind
and :meth:`SchemaCache.for_kind` gives the others.

Reads never need the network: :meth:`SchemaCache.get` takes the lock-file pin,
then the newest cached version, then the bundled one. Writes go to a temp
file in the same directory and are renamed into place under the lock, so a
reader never sees half a file. A file whose sha256 does not match is reported
(:attr:`SchemaCache.notices`), ignored, and replaced on the next pull.

>>> import tempfile
>>> cache = SchemaCache(tempfile.mkdtemp())
>>> cache.get("postgresql").origin
'bundled'
"""

from __future__ import annotations

from ..lockfile import LOCK_FILE, LockFile, find_lock
from .fetch import PullResult, SchemaCache, connector_definitions
from .store import DEFAULT_TTL_DAYS, default_cache_dir, valid_code
from .versions import VersionInfo

__all__ = [
    "DEFAULT_TTL_DAYS",
    "LOCK_FILE",
    "LockFile",
    "PullResult",
    "SchemaCache",
    "VersionInfo",
    "connector_definitions",
    "default_cache_dir",
    "find_lock",
    "valid_code",
]

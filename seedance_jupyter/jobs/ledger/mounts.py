"""Is a file on a network or FUSE file system, where SQLite's locks cannot be trusted?"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["MOUNTS", "unsafe_filesystem"]

#: Linux's table of mounted file systems.
MOUNTS = Path("/proc/mounts")
_NETWORK = frozenset({
    "nfs", "nfs4", "cifs", "smb", "smb3", "smbfs", "afs", "9p", "ceph", "glusterfs",
    "lustre", "gpfs", "beegfs", "ncpfs", "davfs", "sshfs", "virtiofs",
})


def unsafe_filesystem(path: Path, mounts: Path | None = None) -> str | None:
    """The type of the network or FUSE file system ``path`` is on, else None.

    Reads the mount table (``/proc/mounts``; absent elsewhere: None) and takes the
    longest mount point that contains the path.
    """
    try:
        table = (mounts or MOUNTS).read_text()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in table.splitlines():
        fields = line.split()
        if len(fields) < 3:
            continue
        point = _unescape(fields[1])
        inside = target == point or target.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):
            best, best_type = point, fields[2]
    if best_type is None:
        return None
    if best_type in _NETWORK or best_type.startswith(("fuse", "nfs")):
        return best_type
    return None


def _unescape(field: str) -> str:
    """Mount points escape space, tab, newline and backslash as octal (``\\040``)."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        field = field.replace(code, char)
    return field

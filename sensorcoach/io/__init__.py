"""Recording files in and out: the contract CSV and formats people already have.

Use :func:`load_recording` to read any supported file (what the CLI calls),
:func:`read_recording` / :func:`write_recording` for the contract CSV
(CONTRACT.md section 1), and :class:`RecordingWriter` to stream a live session to disk.
"""

from .formats import KNOWN_FORMATS, load_recording, read_metamotion, read_phyphox
from .recording import (
    RecordingWriter,
    read_recording,
    recording_from_arrays,
    validate_samples,
    write_recording,
)

__all__ = [
    "KNOWN_FORMATS",
    "RecordingWriter",
    "load_recording",
    "read_metamotion",
    "read_phyphox",
    "read_recording",
    "recording_from_arrays",
    "validate_samples",
    "write_recording",
]

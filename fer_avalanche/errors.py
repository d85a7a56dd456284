"""Exceptions raised for user mistakes.

Every error a user can cause (a missing folder, an unreadable image, a malformed CSV row, an unknown
label, a wrong setting, a corrupt checkpoint) is raised as a subclass of :class:`FERAvalancheError`
with a message that names the offending file, row or setting and says what was expected. The command
line prints such errors as one line and exits non-zero; anything else is a bug.

Example:
    >>> from fer_avalanche.errors import DatasetError
    >>> raise DatasetError("/data/jaffe: no .tiff files found (expected SS.EEn.NNN.tiff)")
    Traceback (most recent call last):
    ...
    fer_avalanche.errors.DatasetError: /data/jaffe: no .tiff files found (expected SS.EEn.NNN.tiff)
"""

from __future__ import annotations

__all__ = ["FERAvalancheError", "DatasetError", "ConfigError", "CheckpointError", "LabelError"]


class FERAvalancheError(Exception):
    """Base class of every error caused by user input (data, settings, files)."""


class DatasetError(FERAvalancheError):
    """A dataset on disk is missing, malformed, or does not match the expected layout."""


class LabelError(DatasetError):
    """A label code or name is not known in the requested label space."""


class ConfigError(FERAvalancheError):
    """A setting (scenario file key, CLI argument, function argument) has a wrong name, type or value."""


class CheckpointError(FERAvalancheError):
    """A checkpoint is missing, corrupt, or does not match the run it is loaded into."""

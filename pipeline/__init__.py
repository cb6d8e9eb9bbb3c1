"""edgewatch: a log pipeline and Watcher-compatible alert-rule engine for edge fleets."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("edgewatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

"""wenti: a problem-management framework built from pluggy plugins."""

from wenti.hookspecs import hookimpl

__version__ = "0.1.0"
API_VERSION = 1

__all__ = ["API_VERSION", "__version__", "hookimpl"]

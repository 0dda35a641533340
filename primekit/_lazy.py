"""Attribute access to submodules without importing them up front (PEP 562).

``primekit.snn.models`` then works after a plain ``import primekit``, while package ``__init__`` files
re-export nothing: the cache keys a result by the modules its code imports, and a re-exporting
``__init__`` would tie every module to its whole subpackage.
"""

import importlib


def lazy_submodules(package: str):
    """A module-level ``__getattr__`` for ``package`` that imports ``package.<name>`` on first use."""

    def __getattr__(name: str):
        try:
            return importlib.import_module(f"{package}.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"{package}.{name}":
                raise
            raise AttributeError(f"module {package!r} has no attribute or submodule {name!r}") from None

    return __getattr__

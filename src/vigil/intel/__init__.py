"""Threat-intelligence lists (files, SQL tables, HTTP feeds) indexed for bulk domain and IP lookups.

``load_intel(build_sources(config["intel"]["sources"]))`` loads every configured list into
an :class:`IntelSnapshot`; feature extractors call its ``domain_hits`` / ``ip_hits`` (the
:class:`IntelView` protocol), and its ``fingerprint`` goes into model manifests. Importing
this package loads neither httpx nor SQLAlchemy: each source imports its client on load.
"""

from __future__ import annotations

from vigil.intel.config import SourceTable, build_sources, register_source_type, source_types
from vigil.intel.file import FileSource
from vigil.intel.formats import ParsedList, decode_text, parse_list, parse_values
from vigil.intel.http import HTTPSource
from vigil.intel.index import DomainHits, DomainIndex, IPHits, IPIndex
from vigil.intel.snapshot import IntelSnapshot, IntelView, intel_fingerprint, load_intel
from vigil.intel.sources import ALLOW, Source, SourceSnapshot
from vigil.intel.sql import SQLSource

__all__ = [
    "ALLOW",
    "DomainHits",
    "DomainIndex",
    "FileSource",
    "HTTPSource",
    "IPHits",
    "IPIndex",
    "IntelSnapshot",
    "IntelView",
    "ParsedList",
    "SQLSource",
    "Source",
    "SourceSnapshot",
    "SourceTable",
    "build_sources",
    "decode_text",
    "intel_fingerprint",
    "load_intel",
    "parse_list",
    "parse_values",
    "register_source_type",
    "source_types",
]

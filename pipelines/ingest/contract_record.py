"""The contracts a stream writes by, kept beside its checkpoint so a restart checks the
folder against them (``pipelines.contracts.watch.accepted_set``).

Without this record a restart would load every file in ``AFL_CONTRACTS_DIR`` unchecked: a
version the running stream refused, or a published version edited in place, would be
used from the next start on. The record is one small JSON file per query
(``<AFL_CHECKPOINT_ROOT>/_contracts/<query>.json``: file name -> document), written through
``pipelines.storage`` so it lives on an object store as the checkpoint does. A new
checkpoint starts a new record; the folder is then checked version against version.
"""

from __future__ import annotations

import json
import logging

from pipelines import storage
from pipelines.contracts.registry import ContractSet, schemas_dir
from pipelines.contracts.watch import accepted_set
from pipelines.settings import Settings

log = logging.getLogger(__name__)


def record_uri(settings: Settings, query: str) -> str:
    return settings.checkpoint_path("_contracts", f"{query}.json")


def published_documents(settings: Settings, query: str) -> dict[str, bytes]:
    """The documents the query accepted in earlier runs ({} before its first)."""
    text = storage.read_text(record_uri(settings, query))
    if not text:
        return {}
    documents: dict[str, str] = json.loads(text)["documents"]
    return {name: content.encode("utf-8", "surrogateescape") for name, content in documents.items()}


def record_accepted(settings: Settings, query: str, contracts: ContractSet) -> None:
    """Keep ``contracts`` as what the query writes by (the next start checks against it)."""
    documents = {
        name: content.decode("utf-8", "surrogateescape")
        for name, content in contracts.documents.items()
    }
    text = json.dumps({"fingerprint": contracts.fingerprint, "documents": documents}, indent=1)
    storage.write_text(record_uri(settings, query), text)


def stream_contracts(settings: Settings, query: str) -> ContractSet:
    """The contracts a stream (or a quarantine replay) starts with: the folder checked
    against what the query published before, each refused file named in one log line."""
    published = published_documents(settings, query)
    accepted, refused = accepted_set(schemas_dir(), published)
    for refusal in refused:
        log.error("contract not used (the stream runs on without it): %s", refusal)
    if accepted.documents != published:
        record_accepted(settings, query, accepted)
    return accepted


def lake_contracts(settings: Settings, query: str) -> ContractSet:
    """The contracts the query's rows were written by, as its next start would take them
    (read only: nothing logged, nothing recorded)."""
    return accepted_set(schemas_dir(), published_documents(settings, query))[0]

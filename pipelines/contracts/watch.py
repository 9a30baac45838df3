"""Contract versions added while the stream runs: picked up at the next batch, if compatible.

A team publishes `feedback.v3.json` into ``AFL_CONTRACTS_DIR`` and its SDK starts sending v3
events; the running stream must land them without a restart, and must not be talked into
an incompatible change by a file it never reviewed. Before each batch the stream asks
``ContractWatch.poll``: a stat of the folder (names, sizes, times; no file read while
nothing changed); when it changed, the folder is loaded and checked against the set in use:

- published versions are immutable: a changed or removed file is refused;
- each new version is compared with its predecessor (``compare_schemas``): any change
  the checker calls incompatible refuses the whole new set;
- a file that does not parse is refused.

A refused set is named in one log line, once per state of the folder, and the stream keeps
the set it has. The accepted set's documents travel with the classifier to the workers
(``contract_classifier``), so they judge by exactly what the driver accepted.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from pipelines.contracts.compatibility import compare_schemas
from pipelines.contracts.exceptions import ContractFileError
from pipelines.contracts.registry import ContractSet

log = logging.getLogger(__name__)


class ContractRefused(ContractFileError):
    """A changed contracts folder the running stream will not use."""


def folder_state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a contract file is added, replaced or removed (stat only)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        return ()
    found = [(e.name, e.stat()) for e in entries if e.name.endswith(".json")]
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in found)


def check_update(current: ContractSet, candidate: ContractSet) -> list[str]:
    """New versions the candidate adds over ``current`` (ContractRefused when it must not)."""
    for name, content in current.documents.items():
        if name not in candidate.documents:
            raise ContractRefused(f"{name} was removed; published contracts stay")
        if candidate.documents[name] != content:
            raise ContractRefused(f"{name} was changed; publish a new version instead")
    added = sorted(
        (key for key in candidate.contracts if key not in current.contracts),
        key=lambda k: (k[0], k[1]),
    )
    for event_type, version in added:
        earlier = [v for v in candidate.versions(event_type) if v < version]
        if not earlier:
            continue  # a new event type: nothing to be compatible with
        old = candidate.get(event_type, max(earlier)).payload_schema
        new = candidate.get(event_type, version).payload_schema
        broken = [c for c in compare_schemas(old, new) if not c.compatible]
        if broken:
            raise ContractRefused(
                f"{event_type}.v{version}.json is incompatible with v{max(earlier)}: "
                f"{broken[0].field}: {broken[0].message}"
            )
    return [f"{event_type} v{version}" for event_type, version in added]


class ContractWatch:
    """The contracts a running stream uses, and the folder they may grow from."""

    def __init__(self, current: ContractSet) -> None:
        self.current = current
        self._seen = folder_state(current.directory)
        self.refused: str | None = None  # why the folder's present state is not in use

    def poll(self) -> ContractSet | None:
        """A new accepted set when the folder gained compatible versions, else None."""
        state = folder_state(self.current.directory)
        if state == self._seen:
            return None
        self._seen = state
        try:
            candidate = ContractSet(self.current.directory)
            added = check_update(self.current, candidate)
        except ContractFileError as exc:
            self.refused = str(exc)
            log.error("contracts folder changed, not used (the stream keeps its set): %s", exc)
            return None
        self.refused = None
        if not added:
            return None
        log.warning("contracts picked up without a restart: %s", ", ".join(added))
        self.current = candidate
        return candidate

"""One contract set, checked the same way when the stream starts and while it runs.

A team publishes `feedback.v3.json` into ``AFL_CONTRACTS_DIR`` and its SDK starts sending v3
events; the running stream must land them without a restart, and must not be talked into
an incompatible change by a file it never reviewed, neither while it runs nor at its next
start. ``accepted_set`` decides which files of the folder the stream uses, given the
documents it published before (what an earlier run accepted; the stream keeps them beside
its checkpoint):

- published versions are immutable: a changed or removed file is refused, and the stream
  goes on with the version as published;
- each new version is compared with its predecessor (``compare_schemas``) and must type
  into one table with the versions before it (``merged_schema``); a version that fails
  either is refused, naming the file, the field and the rule;
- a file that does not parse is refused.

Each refusal is one log line; the stream runs on with the rest. While it runs, the stream
asks ``ContractWatch.poll`` before each batch: a stat of the folder (names, sizes, times; no
file read while nothing changed), then ``accepted_set`` against the set in use. The
accepted set's documents travel with the classifier to the workers
(``contract_classifier``), so they judge by exactly what the driver accepted.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from pipelines.contracts.compatibility import compare_schemas
from pipelines.contracts.exceptions import ContractFileError
from pipelines.contracts.registry import CONTRACT_FILE, ENVELOPE_NAME, ContractSet
from pipelines.contracts.spark_schema import merged_schema
from pipelines.errors import AflError

log = logging.getLogger(__name__)


class ContractRefused(ContractFileError):
    """A contract file the stream will not use."""


def folder_state(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What changes when a contract file is added, replaced or removed (stat only)."""
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        return ()
    found = [(e.name, e.stat()) for e in entries if e.name.endswith(".json")]
    return tuple((name, st.st_size, st.st_mtime_ns) for name, st in found)


def accepted_set(
    directory: Path,
    published: Mapping[str, bytes] | None = None,
    files: Mapping[str, bytes] | None = None,
) -> tuple[ContractSet, list[ContractRefused]]:
    """The contracts the stream uses from ``directory``, and each file it refused (why).

    ``published``: documents the stream accepted before (file name -> bytes); they stay as
    they were. ``files``: the folder's files, if read already. New files are taken in
    (event type, version) order, each checked against the versions accepted before it.
    Without an envelope there is nothing to run on (ContractFileError).
    """
    found = (
        dict(files)
        if files is not None
        else {p.name: p.read_bytes() for p in sorted(directory.glob("*.json"))}
    )
    documents = dict(published or {})
    refused: list[ContractRefused] = []
    for name in sorted(documents):
        if name not in found:
            refused.append(ContractRefused(f"{name} was removed; published contracts stay"))
        elif found[name] != documents[name]:
            refused.append(ContractRefused(f"{name} was changed; publish a new version instead"))
    for name in sorted((n for n in found if n not in documents), key=_file_order):
        try:
            _check_new(ContractSet(directory, {**documents, name: found[name]}), name)
        except ContractFileError as exc:
            refused.append(exc if isinstance(exc, ContractRefused) else ContractRefused(str(exc)))
            continue
        except (AflError, ValueError) as exc:  # an envelope, or a schema the lake cannot type
            refused.append(ContractRefused(f"{name}: {exc}"))
            continue
        documents[name] = found[name]
    if ENVELOPE_NAME not in documents:
        raise ContractFileError(f"{directory}: no usable {ENVELOPE_NAME}")
    return ContractSet(directory, documents), refused


def _file_order(name: str) -> tuple[int, str, int]:
    """The envelope first, then each event type's versions in order, odd names last."""
    if name == ENVELOPE_NAME:
        return (0, "", 0)
    match = CONTRACT_FILE.match(name)
    if match is None:
        return (2, name, 0)
    return (1, match["type"], int(match["version"]))


def _check_new(candidate: ContractSet, name: str) -> None:
    """ContractRefused when ``name``, new in ``candidate``, breaks a version before it or
    cannot be typed beside them in one silver table."""
    match = CONTRACT_FILE.match(name)
    if name == ENVELOPE_NAME or match is None:
        return  # the envelope (ContractSet checked it parses), or a name ContractSet refused
    event_type, version = match["type"], int(match["version"])
    known = candidate.versions(event_type)
    earlier = [v for v in known if v < version]
    if earlier:
        old = candidate.get(event_type, max(earlier)).payload_schema
        new = candidate.get(event_type, version).payload_schema
        broken = [c for c in compare_schemas(old, new) if not c.compatible]
        if broken:
            raise ContractRefused(
                f"{name} is incompatible with v{max(earlier)}: "
                f"{broken[0].field}: {broken[0].message} [{broken[0].kind}]"
            )
    try:
        merged_schema([candidate.get(event_type, v) for v in known])
    except AflError as exc:
        raise ContractRefused(
            f"{name} cannot share silver's columns with the other {event_type} versions: "
            f"payload.{exc} [type_conflict]"
        ) from None


class ContractWatch:
    """The contracts a running stream uses, and the folder they may grow from."""

    def __init__(self, current: ContractSet) -> None:
        self.current = current
        self._seen = folder_state(current.directory)
        self.refused: str | None = None  # why the folder's present state is not in use

    def poll(self) -> ContractSet | None:
        """A new accepted set when the folder gained versions the stream accepts, else None."""
        state = folder_state(self.current.directory)
        if state == self._seen:
            return None
        self._seen = state
        try:
            candidate, refused = accepted_set(self.current.directory, self.current.documents)
        except ContractFileError as exc:  # the envelope is gone: keep the set in use
            refused, candidate = [ContractRefused(str(exc))], self.current
        for refusal in refused:
            log.error("contracts folder changed, not used (the stream keeps its set): %s", refusal)
        self.refused = "; ".join(str(r) for r in refused) or None
        added = sorted(k for k in candidate.contracts if k not in self.current.contracts)
        if not added:
            return None
        log.warning(
            "contracts picked up without a restart: %s",
            ", ".join(f"{event_type} v{version}" for event_type, version in added),
        )
        self.current = candidate
        return candidate

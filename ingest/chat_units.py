"""Chat units: parse every chat store the content phase found, in entry order, into messages.parquet.

Each unit's rows come back through a file in the scratch folder and are appended batch by batch, in
unit order, so the message order is deterministic and memory stays flat. A store whose unit the
runner gave up (its worker crashed, hung or ran out of memory, twice) is one errors row; the other
stores are parsed as usual.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from ingest import chats
from ingest.problems import Problems
from ingest.request import IngestRequest, Progress
from ingest.tasks import Outcome, Runner
from manifests.schemas import ARTEFACTS, MESSAGES
from manifests.writer import ExhibitOutput


def chat_phase(collector: chats.CandidateCollector, runner: Runner, output: ExhibitOutput, metadata: dict[str, str], ids: dict,
               problems: Problems, request: IngestRequest, progress: Progress) -> int:
    """Write messages.parquet (empty when no store was found); returns how many units were run again."""
    table = output.open_table(MESSAGES, {**metadata, **chats.parser_metadata()})
    candidates = collector.candidates
    keys = dict(request.app_keys)
    artefacts_parquet = output.staging / f"{ARTEFACTS.name}.parquet"
    message_index = 0
    retried = 0
    with tempfile.TemporaryDirectory(prefix="exhibit-chats-", dir=os.environ.get("EXHIBIT_SCRATCH")) as scratch:
        folder = Path(scratch)
        catalog_file = chats.write_catalog(candidates, folder)
        units = [chats.unit_json(catalog_file, index, keys, folder / f"messages-{index}.bin", request.config)
                 for index, candidate in enumerate(candidates) if candidate.parse]
        futures = [(unit, runner.submit(chats.run_chat_units, [unit], [0])) for unit in units]
        for unit, future in futures:
            outcome: Outcome = future.result()
            retried += outcome.retries
            for failure in outcome.failures:
                _given_up(candidates[json.loads(unit)["parse"]], failure.kind, failure.detail, problems)
            for result in outcome.results:
                message_index = _append_unit(result, table, ids, message_index, artefacts_parquet, problems)
    progress.messages = message_index
    return retried


def _append_unit(result: dict, table, ids: dict, message_index: int, artefacts_parquet: Path, problems: Problems) -> int:
    attachments = chats.attachment_index(result["attachment_names"], artefacts_parquet)
    for batch in chats.read_messages(Path(result["messages_file"])):
        chats.resolve_batch(batch, attachments)
        for row in batch:
            table.append({**ids, "message_index": message_index, **row})
            message_index += 1
    os.unlink(result["messages_file"])
    for problem in result["problems"]:
        problems.add(problem["stage"], problem["error_kind"], problem["severity"], problem["message"], path=problem["path"],
                     path_spec=problem["path_spec"], parser=problem["parser"], store_table=problem["store_table"],
                     store_row_id=problem["store_row_id"], store_field=problem["store_field"])
    return message_index


def _given_up(candidate: chats.Candidate, kind: str, detail: str, problems: Problems) -> None:
    path = chats.ImageArtefact(candidate).path
    problems.add("chats", kind, "error", f"the chat store {path} was given up: {detail}; none of its messages are in messages.parquet",
                 path=path, path_spec=candidate.path_spec)


__all__ = ["chat_phase"]

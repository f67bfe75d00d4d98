#!/usr/bin/env python3
"""Telegram Desktop export memory benchmark: peak memory of `exhibit ingest` on one large `result.json`.

Writes a deterministic full export (`personal_information`, `chats.list[]`) of N messages (default
200,000) over 100 chats, each message a text with entities, one in 20 a photo, into
`FOLDER/ChatExport/result.json`, ingests the folder (`exhibit ingest FOLDER --workers 2`) and reports
the peak memory of the whole process tree the way bench/chat_memory_bench.py measures it (its
functions are used). Pass `--exhibit` another checkout's `.venv/bin/exhibit` to compare versions in
one run. Standard library and the repository only; never run inside the unit tests.

    .venv/bin/python bench/telegram_export_memory_bench.py
    .venv/bin/python bench/telegram_export_memory_bench.py --messages 50000 --exhibit ../other/.venv/bin/exhibit
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.chat_memory_bench import DEFAULT_EXHIBIT, _subreaper, count_messages, run_ingest  # noqa: E402

CHATS = 100
PHOTO_EVERY = 20


def _message(number: int, chat: int) -> dict:
    outgoing = number % 3 == 0
    message = {"id": number, "type": "message", "date": "2023-03-01T10:00:00", "date_unixtime": str(1_677_664_800 + number),
               "from": "Owner" if outgoing else f"Contact {chat}", "from_id": "user1001" if outgoing else f"user{5000 + chat}",
               "text": [f"message {number} in chat {chat}, see ", {"type": "link", "text": f"https://example.org/{number}"}, "."]}
    if number % PHOTO_EVERY == 0:
        message["photo"] = f"photos/photo_{number}@01-03-2023_10-00-00.jpg"
    return message


def write_export(path: Path, messages: int) -> None:
    """One chat object at a time, so the writer's memory stays flat too."""
    per_chat = messages // CHATS
    with open(path, "w", encoding="utf-8") as out:
        out.write('{"about": "Here is the data you requested.", "personal_information": {"user_id": 1001, "first_name": "Owner"},\n'
                  ' "chats": {"about": "This page lists all chats from this export.", "list": [\n')
        number = 0
        for chat in range(CHATS):
            count = per_chat + (messages - per_chat * CHATS if chat == CHATS - 1 else 0)
            out.write(("," if chat else "") + json.dumps({"name": f"Contact {chat}", "type": "personal_chat", "id": 5000 + chat})[:-1]
                      + ', "messages": [\n')
            for position in range(count):
                number += 1
                out.write(("," if position else "") + json.dumps(_message(number, chat), ensure_ascii=False) + "\n")
            out.write("]}\n")
        out.write("]}}\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--messages", type=int, default=200_000)
    parser.add_argument("--work", type=Path, default=Path("/tmp/exhibit-telegram-bench"))
    parser.add_argument("--exhibit", type=Path, default=DEFAULT_EXHIBIT)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    _subreaper()
    source = args.work / f"export-{args.messages}"
    export = source / "ChatExport" / "result.json"
    if not export.exists():
        shutil.rmtree(source, ignore_errors=True)
        export.parent.mkdir(parents=True)
        write_export(export, args.messages)
    out = args.work / "cases"
    shutil.rmtree(out, ignore_errors=True)
    result = run_ingest(args.exhibit, source, out, args.workers)
    result.update(messages_in=args.messages, messages_out=count_messages(out), export_mib=round(export.stat().st_size / 2**20, 1))
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0 if result["exit_code"] == 0 and result["messages_out"] == args.messages else 1


if __name__ == "__main__":
    sys.exit(main())

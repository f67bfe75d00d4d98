"""Build the small sample device image the README's first command ingests.

An ext4 file system laid out like a phone's shared storage, made with public tools only
(`mkfs.ext4 -d`, then `debugfs` to delete one file so the image holds a deleted entry). File names and contents are fixed
here; file-system metadata (inode times, the journal) can differ between builds.
"""

from __future__ import annotations

import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path

IMAGE_NAME = "sample-phone.raw"
FIXED_TIME = "20240102030405"  # E2FSPROGS_FAKE_TIME and file times, for a reproducible image


def _png(width: int = 2, height: int = 2) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _jpeg() -> bytes:
    """A 1x1 JPEG header (no pixel data needed: nothing decodes it) carrying EXIF: camera, capture
    time with its UTC offset, and a GPS position, so the demo's media.parquet has a full row."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "ExhibitCam"  # Make
    exif[0x0110] = "Sample 1"  # Model
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2024:01:02 04:04:05"  # DateTimeOriginal (local)
    sub[0x9011] = "+01:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)  # 51.5 N
    gps[3], gps[4] = "W", (0.0, 7.0, 30.0)  # 0.125 W
    payload = exif.tobytes()  # Pillow writes the "Exif\\0\\0" prefix itself
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app0 + app1 + sof0 + sos + b"\x00" + b"\xff\xd9"


SMS_SCHEMA = (
    "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER DEFAULT 0, "
    "read INTEGER DEFAULT 0, type INTEGER, subject TEXT, body TEXT, service_center TEXT);"
    "CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_sent INTEGER DEFAULT 0, msg_box INTEGER, "
    "read INTEGER DEFAULT 0, sub TEXT, m_type INTEGER);"
    "CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT, fn TEXT, cl TEXT, _data TEXT, text TEXT);"
    "CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER, address TEXT, type INTEGER, charset INTEGER);")


def write_sms_database(path: Path, rows: list[tuple[int, str, int, int, int, str]]) -> None:
    """An Android mmssms.db with the telephony provider's columns the parser needs (also the tests' SMS
    stores): rows (_id, address, date, date_sent, type, body), all in thread 1 and read."""
    import sqlite3

    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path)
    connection.executescript(SMS_SCHEMA)
    connection.executemany("INSERT INTO sms (_id, thread_id, address, date, date_sent, read, type, body) VALUES (?, 1, ?, ?, ?, 1, ?, ?)", rows)
    connection.commit()
    connection.close()


def _sms_database() -> bytes:
    """A small Android mmssms.db (the telephony provider's columns that matter), so the demo shows messages."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "mmssms.db"
        write_sms_database(path, [
            (1, "+447700900123", 1704164645000, 1704164640000, 1, "Did you get the photos?"),
            (2, "+447700900123", 1704164700000, 0, 2, "Yes. Meet at the usual place."),
        ])
        return path.read_bytes()


FILES: dict[str, bytes] = {
    "DCIM/Camera/IMG_20240102_030405.jpg": _jpeg(),
    "DCIM/Camera/IMG_20240102_030406.png": _png(),
    "Download/invoice.txt": _png(3, 1),  # a picture named as text: is_extension_mismatch
    "Download/notes.txt": b"meet at the usual place\n",
    "WhatsApp/Media/README": b"media folder\n",
    "deleted-later.txt": b"this file is deleted from the image\n",
    "data/data/com.android.providers.telephony/databases/mmssms.db": _sms_database(),
}


def build_sample(folder: Path) -> Path:
    """Write the sample image into `folder` and return its path (rebuilt each time)."""
    folder.mkdir(parents=True, exist_ok=True)
    image = folder / IMAGE_NAME
    with tempfile.TemporaryDirectory() as staging_name:
        staging = Path(staging_name)
        for relative, content in FILES.items():
            path = staging / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(content)
        for path in sorted(staging.rglob("*")):
            subprocess.run(["touch", "-h", "-t", FIXED_TIME[:12] + "." + FIXED_TIME[12:], str(path)], check=True)
        image.unlink(missing_ok=True)
        env = {"E2FSPROGS_FAKE_TIME": "1704164645", "PATH": "/usr/sbin:/sbin:/usr/bin:/bin"}
        subprocess.run(["mkfs.ext4", "-q", "-F", "-b", "1024", "-U", "8f0c5c1e-0d5e-4d3c-9a57-5a1f2e4b6c7d",
                        "-E", "hash_seed=3b1f0c5e-2f4d-4b8a-9c6e-7d5a4b3c2e1f", "-d", str(staging), str(image), "4M"],
                       check=True, env=env)
    subprocess.run(["debugfs", "-w", "-R", "rm /deleted-later.txt", str(image)], check=True, capture_output=True,
                   env={"E2FSPROGS_FAKE_TIME": "1704164645", "PATH": "/usr/sbin:/sbin:/usr/bin:/bin"})
    return image


if __name__ == "__main__":
    target = build_sample(Path(sys.argv[1] if len(sys.argv) > 1 else "sample"))
    print(f"sample image: {target}")

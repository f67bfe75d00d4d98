"""Every output table, declared once: Arrow schemas, README column docs and golden tests derive from here.

Changing a column (name, type, meaning) without bumping the table's version is a defect; the
golden schema test catches it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

UTC_NS = pa.timestamp("ns", tz="UTC")


@dataclass(frozen=True)
class Column:
    """One column: its Arrow type and what an examiner needs to know to trust it."""

    name: str
    type: pa.DataType
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    """A versioned table; the version is part of every Parquet file's metadata."""

    name: str
    version: int
    doc: str
    columns: tuple[Column, ...]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(c.name, c.type, nullable=c.nullable) for c in self.columns],
            metadata={b"exhibit.table": self.name.encode(), b"exhibit.table_version": str(self.version).encode()},
        )

    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _ids() -> tuple[Column, ...]:
    return (
        Column("case_id", pa.string(), "Case identifier exactly as given on the command line.", False),
        Column("exhibit_id", pa.string(), "Exhibit identifier exactly as given (the folder name is an encoding of it).", False),
    )


HASH_ALGORITHMS: tuple[str, ...] = ("md5", "sha1", "sha256", "sha512")

ARTEFACTS = Table(
    name="artefacts",
    version=2,
    doc="One row per file-system entry on every volume (allocated and deleted), and one per NTFS alternate data stream. Version 2 applies the column vocabulary: is_allocated, is_deleted, is_orphan, is_extension_mismatch, created_time, modified_time, accessed_time, changed_time.",
    columns=_ids()
    + (
        Column("entry_index", pa.int64(), "Position of the row in the exhibit's deterministic walk order.", False),
        Column("volume_index", pa.int32(), "Index of the volume in sources.volumes.", False),
        Column("volume_id", pa.string(), "Volume location inside the source (e.g. /p1, /lvm1, /vss2, /apfs1); '/' for a bare file system."),
        Column("volume_type", pa.string(), "File system or archive type read (e.g. NTFS, EXT, FAT, HFS, APFS, XFS, ZIP, TAR, OS for a folder)."),
        Column("volume_offset", pa.int64(), "Byte offset of the volume in the media stream, where the volume system knows it."),
        Column("path", pa.string(), "Full path for display: exact name bytes decoded as UTF-8 with undecodable bytes, control and bidi characters escaped."),
        Column("path_bytes", pa.binary(), "Full path as the exact bytes the file system stores (UTF-8 for UTF-16 file systems).", False),
        Column("name_bytes", pa.binary(), "Entry name as exact bytes.", False),
        Column("data_stream", pa.string(), "Name of the NTFS alternate data stream this row describes; null for the default stream."),
        Column("logical_path", pa.string(), "Path the owning app or device knew the file by, where the source records one (iTunes backup: DOMAIN/relativePath)."),
        Column("inode", pa.int64(), "Inode number or NTFS MFT entry number."),
        Column("sequence", pa.int32(), "NTFS MFT sequence number (or generation where the file system keeps one)."),
        Column("parent_inode", pa.int64(), "Inode of the directory this entry was found in."),
        Column("entry_type", pa.string(), "file, directory, symlink, char_device, block_device, fifo, socket, whiteout, shadow, virtual, virtual_directory, data_stream (an NTFS alternate data stream or HFS+ resource fork row) or unknown.", False),
        Column("size", pa.int64(), "Size in bytes of the content (of the stream, for ADS rows)."),
        Column("is_allocated", pa.bool_(), "True when both the name and the metadata are allocated.", False),
        Column("is_deleted", pa.bool_(), "True for an unallocated entry whose metadata survives (found in a directory or as an orphan).", False),
        Column("is_orphan", pa.bool_(), "True when the entry was found only through the file system's orphan list (no surviving name).", False),
        Column("created_time", UTC_NS, "Creation (birth) time, UTC, at the file system's precision."),
        Column("modified_time", UTC_NS, "Content modification time, UTC."),
        Column("accessed_time", UTC_NS, "Last access time, UTC."),
        Column("changed_time", UTC_NS, "Metadata change time (inode change; NTFS MFT entry modification), UTC."),
        Column("deleted_time", UTC_NS, "Deletion time where the file system records one (ext2/3/4 dtime of a free inode), UTC."),
        Column("mode", pa.int32(), "Permission bits (and set-id/sticky bits) as stored."),
        Column("uid", pa.int64(), "Owner user id."),
        Column("gid", pa.int64(), "Owner group id."),
        Column("link_target", pa.string(), "Symbolic link target for display (escaped)."),
        Column("link_target_bytes", pa.binary(), "Symbolic link target, exact bytes."),
        Column("path_spec", pa.string(), "dfVFS path specification (JSON) that re-opens exactly this artefact; for an archive member an ArchiveMember object (format, member_index, header_offset, exact member_name, parent), because dfVFS cannot tell two members of one name apart.", False),
        Column("content_status", pa.string(), "hashed, empty, no_content (directories and devices), read_error, not_hashed_deleted (deleted name whose inode was reused, or hash_deleted off), not_file_data (NTFS $BadClus:$Bad, a sparse map as long as the volume).", False),
        Column("md5", pa.string(), "MD5 of the content, lowercase hex; null when not configured or not readable."),
        Column("sha1", pa.string(), "SHA-1 of the content, lowercase hex."),
        Column("sha256", pa.string(), "SHA-256 of the content, lowercase hex."),
        Column("sha512", pa.string(), "SHA-512 of the content, lowercase hex (only when configured)."),
        Column("mime_type", pa.string(), "libmagic MIME type of the first magic_bytes bytes."),
        Column("magic_description", pa.string(), "libmagic description of the same bytes."),
        Column("is_extension_mismatch", pa.bool_(), "True when the name's extension belongs to a different type than the content's signature; null when unknown."),
        Column("read_error_kind", pa.string(), "Why reading the content failed (io_error, short_read, ...); null when it did not."),
        Column("read_error_offset", pa.int64(), "Byte offset in the content where reading failed."),
        Column("read_error_length", pa.int64(), "Bytes from read_error_offset to the end of the content that could not be hashed."),
        Column("read_error_message", pa.string(), "The reader's own message, escaped for display."),
    ),
)

CONTAINER_FILE = pa.struct(
    [
        pa.field("path", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("sha256_before", pa.string()),
        pa.field("sha256_after", pa.string()),
        pa.field("is_unchanged", pa.bool_()),
    ]
)

HASH_CHECK = pa.struct(
    [
        pa.field("origin", pa.string()),
        pa.field("algorithm", pa.string()),
        pa.field("expected", pa.string()),
        pa.field("computed", pa.string()),
        pa.field("is_match", pa.bool_()),
    ]
)

BYTE_RANGE = pa.struct([pa.field("offset", pa.int64()), pa.field("length", pa.int64())])

VOLUME = pa.struct(
    [
        pa.field("index", pa.int32()),
        pa.field("parent_index", pa.int32()),
        pa.field("location", pa.string()),
        pa.field("type", pa.string()),
        pa.field("role", pa.string()),
        pa.field("offset", pa.int64()),
        pa.field("size", pa.int64()),
        pa.field("is_encrypted", pa.bool_()),
        pa.field("is_unlocked", pa.bool_()),
        pa.field("file_system", pa.string()),
        pa.field("entries", pa.int64()),
        pa.field("status", pa.string()),
        pa.field("path_spec", pa.string()),
    ]
)

SOURCES = Table(
    name="sources",
    version=2,
    doc="One row per ingested source: container files with before/after hashes, the media stream's hashes, acquisition hash checks, the volume tree. Version 2 applies the column vocabulary: stream_* (was media_*), is_source_unchanged, started_time, finished_time, and is_unchanged, is_match, is_encrypted, is_unlocked inside the lists.",
    columns=_ids()
    + (
        Column("source_path", pa.string(), "Path of the source as given, for display (escaped).", False),
        Column("source_path_bytes", pa.binary(), "Path of the source, exact bytes.", False),
        Column("source_kind", pa.string(), "storage_media_image, file_system_image, directory, archive or itunes_backup.", False),
        Column("format_chain", pa.string(), "Layers found from the file to the volumes, e.g. EWF > GPT (dfVFS type indicators).", False),
        Column("container_files", pa.list_(CONTAINER_FILE), "Every file of the container (all segments) with size and SHA-256 before and after the run."),
        Column("is_source_unchanged", pa.bool_(), "True when every container file hashed the same after the run as before; null when not checked."),
        Column("stream_size", pa.int64(), "Size of the decoded media stream (the device's whole data, e.g. the disk inside an E01) in bytes."),
        Column("stream_md5", pa.string(), "MD5 of the whole decoded media stream."),
        Column("stream_sha1", pa.string(), "SHA-1 of the whole decoded media stream."),
        Column("stream_sha256", pa.string(), "SHA-256 of the whole decoded media stream."),
        Column("stream_read_errors", pa.list_(BYTE_RANGE), "Byte ranges of the media stream that could not be read (the stream hashes are then null)."),
        Column("hash_checks", pa.list_(HASH_CHECK), "Stored (E01) and expected (--expected-hash) hashes beside the computed ones."),
        Column("ewf_checksum_errors", pa.list_(BYTE_RANGE), "E01 chunk checksum (CRC) errors found while reading the media stream."),
        Column("acquisition_metadata", pa.map_(pa.string(), pa.string()), "Acquisition metadata the container stores (E01 header values: case number, examiner, dates, ...)."),
        Column("volumes", pa.list_(VOLUME), "The volume tree found: partitions, volume groups, snapshots, encrypted volumes (unlocked or not) and the file system read on each."),
        Column("started_time", UTC_NS, "When ingest of the source started, UTC.", False),
        Column("finished_time", UTC_NS, "When ingest of the source finished, UTC.", False),
    ),
)

ERRORS = Table(
    name="errors",
    version=3,
    doc="Every problem met during the run, with where it happened, so that 'completed with N errors' can be audited. Version 3 applies the column vocabulary: error_kind, store_table, store_row_id, store_field.",
    columns=_ids()
    + (
        Column("error_index", pa.int64(), "Order in which the problem was recorded (deterministic for the same input and configuration).", False),
        Column("stage", pa.string(), "source, scan, volume, walk, read, identify, verify, parse (a chat or media parser) or output (the run's own folders).", False),
        Column("error_kind", pa.string(), "Short machine-readable kind: read_error, locked_volume, unsupported_volume, corrupt_entry, ...", False),
        Column("severity", pa.string(), "error (data could not be read), warning (data read, something is odd) or info (a fact worth knowing, e.g. a contacts-only chat store).", False),
        Column("volume_index", pa.int32(), "Volume the problem belongs to, if any."),
        Column("path", pa.string(), "Path of the artefact for display (escaped), if any."),
        Column("path_spec", pa.string(), "dfVFS path specification (JSON) of the artefact or volume, if any."),
        Column("offset", pa.int64(), "Byte offset where the problem was met, if known."),
        Column("length", pa.int64(), "Bytes affected, if known."),
        Column("message", pa.string(), "What went wrong, in the reader's words, escaped for display.", False),
        Column("parser", pa.string(), "Parser that met the problem (stage parse), e.g. android_sms."),
        Column("store_table", pa.string(), "Database table (or export file section) the problem is in."),
        Column("store_row_id", pa.int64(), "Row id (SQLite rowid or primary key) in that table."),
        Column("store_field", pa.string(), "Column or field that could not be read (for a media reader, the media.parquet column)."),
    ),
)

PARTICIPANT = pa.struct([pa.field("id", pa.string()), pa.field("name", pa.string())])

ATTACHMENT = pa.struct(
    [
        pa.field("file_name", pa.string()),
        pa.field("mime_type", pa.string()),
        pa.field("size", pa.int64()),
        pa.field("local_path", pa.string()),
        pa.field("artefact_path", pa.string()),
        pa.field("sha256", pa.string()),
    ]
)

MESSAGES = Table(
    name="messages",
    version=2,
    doc="One row per chat message (and call or system event kept in a chat store) from every chat database or export a parser recognised. Version 2 applies the column vocabulary: *_time for times, message_kind, path/path_bytes/entry_index/sha256 for the database file, store_table/store_row_id for the record in it.",
    columns=_ids()
    + (
        Column("message_index", pa.int64(), "Position of the row in the exhibit's deterministic order (source entry order, then the parser's order).", False),
        Column("app", pa.string(), "App that wrote the store (e.g. WhatsApp, Android SMS/MMS).", False),
        Column("platform", pa.string(), "Android, iOS, macOS, Windows, desktop or export.", False),
        Column("app_version", pa.string(), "App version, when the store records it."),
        Column("account_id", pa.string(), "The device owner's account identifier in the app, when known."),
        Column("conversation_id", pa.string(), "The app's identifier of the conversation (thread, chat, JID)."),
        Column("conversation_title", pa.string(), "Conversation name or subject as the app shows it."),
        Column("sender_id", pa.string(), "Sender's identifier (phone number, JID, user id); for outgoing messages the owner's when known."),
        Column("sender_name", pa.string(), "Sender's display name from the app's own contacts tables."),
        Column("recipients", pa.list_(PARTICIPANT), "Recipients (id and name) where the store says who they were."),
        Column("direction", pa.string(), "incoming, outgoing or unknown.", False),
        Column("sent_time", UTC_NS, "When the message was sent, UTC, at the source's precision."),
        Column("sent_time_raw", pa.string(), "The stored value sent_time was converted from, as text, so the conversion can be checked."),
        Column("received_time", UTC_NS, "When it was received or delivered, UTC."),
        Column("read_time", UTC_NS, "When it was read, UTC."),
        Column("edited_time", UTC_NS, "When it was last edited, UTC."),
        Column("deleted_time", UTC_NS, "When it was deleted (unsent, revoked), UTC."),
        Column("body", pa.string(), "Message text exactly as stored (control and bidi characters kept; escape them when displaying). Undecodable bytes appear backslash-escaped here and exactly in body_bytes."),
        Column("body_bytes", pa.binary(), "The body's exact bytes when they are not valid UTF-8; null otherwise."),
        Column("message_kind", pa.string(), "text, media, call, system, location, contact, reaction, sticker, poll, deleted or unknown.", False),
        Column("attachments", pa.list_(ATTACHMENT), "Files the message refers to: name, MIME type, size, path as stored and, when that file is in this exhibit, its artefact path and SHA-256."),
        Column("latitude", pa.float64(), "Latitude the message carries (a shared location), WGS 84 degrees."),
        Column("longitude", pa.float64(), "Longitude the message carries."),
        Column("location_name", pa.string(), "Name or address of the shared location."),
        Column("is_deleted", pa.bool_(), "The app marks the message deleted or revoked; null when the store does not say."),
        Column("is_edited", pa.bool_(), "The app marks the message edited."),
        Column("is_forwarded", pa.bool_(), "The app marks the message forwarded."),
        Column("is_view_once", pa.bool_(), "View-once (disappearing) media."),
        Column("record_state", pa.string(), "live (in the database as SQLite reads it), wal_only (only in the uncheckpointed write-ahead log) or removed_in_wal (in the main file but deleted or replaced by the uncheckpointed WAL).", False),
        Column("details", pa.map_(pa.string(), pa.string()), "App-specific values kept as text (call duration, message type codes, ...)."),
        Column("path", pa.string(), "Path of the database or export file (the artefact) in the exhibit, escaped for display.", False),
        Column("path_bytes", pa.binary(), "Path of the database or export file, exact bytes.", False),
        Column("entry_index", pa.int64(), "entry_index of the database or export file in artefacts (joins the two tables)."),
        Column("sha256", pa.string(), "SHA-256 of the database or export file as read from the evidence."),
        Column("store_table", pa.string(), "Table (or export section) the message row came from.", False),
        Column("store_row_id", pa.int64(), "Row id (SQLite rowid or primary key) of the message in that table."),
        Column("parser", pa.string(), "Parser that read the message.", False),
        Column("parser_version", pa.string(), "Version of that parser.", False),
    ),
)

MEDIA = Table(
    name="media",
    version=3,
    doc="One row per artefact whose content (by signature, not name) is a photo or video: capture time, place and device. Version 2 adds body_serial_source (maker-note, DNG and XMP serials), lens_serial, and XMP dates where the EXIF has none. Version 3 applies the column vocabulary: capture_time, digitized_time, metadata_modified_time(_raw), gps_time (no _utc suffix), latitude, longitude, altitude.",
    columns=_ids()
    + (
        Column("media_index", pa.int64(), "Position of the row in the exhibit's deterministic order (the artefacts' walk order).", False),
        Column("entry_index", pa.int64(), "entry_index of the artefact (joins artefacts).", False),
        Column("volume_index", pa.int32(), "Volume of the artefact.", False),
        Column("path", pa.string(), "Path of the artefact for display (escaped).", False),
        Column("path_bytes", pa.binary(), "Path of the artefact, exact bytes.", False),
        Column("path_spec", pa.string(), "dfVFS path specification (JSON) of the artefact.", False),
        Column("sha256", pa.string(), "SHA-256 of the artefact's content (as in artefacts)."),
        Column("container_format", pa.string(), "JPEG, TIFF, PNG, WebP, GIF, HEIF, AVIF, DNG, CR3, CR2, NEF, ARW, ORF, RW2, RAW (older Panasonic), RAF, MPO, MP4, QuickTime, 3GP, M4V, AVI or Matroska: from the content's signature.", False),
        Column("codec", pa.string(), "Video codec (avc1, hvc1, ...) or image coding (HEVC for HEIC, AV1 for AVIF) where known."),
        Column("width", pa.int32(), "Width in pixels (of the primary image, or of the video track)."),
        Column("height", pa.int32(), "Height in pixels."),
        Column("orientation", pa.int16(), "EXIF orientation 1-8 as stored (or from a video track's rotation matrix: 1, 6, 3, 8)."),
        Column("duration_seconds", pa.float64(), "Video duration in seconds."),
        Column("frame_rate", pa.float64(), "Video frame rate (frames per second)."),
        Column("capture_time_raw", pa.string(), "Capture time exactly as recorded (EXIF DateTimeOriginal text; XMP ISO 8601 text where the EXIF has none; QuickTime creation time as an ISO text of the stored value)."),
        Column("capture_offset", pa.string(), "UTC offset recorded with the capture time (EXIF OffsetTimeOriginal, or the XMP date's zone), as stored."),
        Column("capture_time", UTC_NS, "Capture time in UTC, only where the offset is known (EXIF time + OffsetTimeOriginal; an XMP date with a zone; QuickTime/MP4 creation time, which is UTC)."),
        Column("capture_time_source", pa.string(), "Which value gave the capture time: exif_datetime_original, xmp_exif_datetime_original or xmp_photoshop_date_created (XMP, only where the EXIF has none), quicktime_creation_date (Apple key, with its own offset), mvhd_creation_time (UTC), quicktime_day (udta ©day text), matroska_date_utc, avi_idit or avi_icrd (AVI text dates: raw only)."),
        Column("digitized_time_raw", pa.string(), "EXIF DateTimeDigitized (CreateDate) as recorded; else XMP exif:DateTimeDigitized or xmp:CreateDate."),
        Column("digitized_time", UTC_NS, "Digitised time in UTC where OffsetTimeDigitized (or an XMP zone) is recorded."),
        Column("metadata_modified_time_raw", pa.string(), "EXIF DateTime (ModifyDate), else XMP xmp:ModifyDate or tiff:DateTime, or QuickTime modification time as recorded."),
        Column("metadata_modified_time", UTC_NS, "Modification time the metadata records (not the file system's: see artefacts.modified_time), in UTC where the offset is known."),
        Column("make", pa.string(), "Camera or phone maker (EXIF Make, QuickTime make)."),
        Column("model", pa.string(), "Camera or phone model."),
        Column("body_serial", pa.string(), "Camera body serial number as stored (see body_serial_source)."),
        Column("body_serial_source", pa.string(), "Which tag gave body_serial, in this order of preference: exif_body_serial (EXIF BodySerialNumber), dng_camera_serial (DNG CameraSerialNumber), makernote_canon, makernote_nikon, makernote_olympus, makernote_motorola (the maker's serial tag), makernote_canon_internal, makernote_olympus_internal, makernote_panasonic_internal, makernote_fujifilm_internal, makernote_ricoh_internal (the maker's internal serial), xmp_aux_serial, xmp_exifex_body_serial; gopro_casn for GoPro video."),
        Column("lens_make", pa.string(), "Lens maker."),
        Column("lens_model", pa.string(), "Lens model."),
        Column("lens_serial", pa.string(), "Lens serial number as stored: EXIF LensSerialNumber, else XMP aux:LensSerialNumber or exifEX:LensSerialNumber; GoPro video: udta LENS."),
        Column("software", pa.string(), "Software that wrote the file (firmware, editor)."),
        Column("latitude", pa.float64(), "Latitude in decimal degrees (south negative), as recorded even when out of range (see flags)."),
        Column("longitude", pa.float64(), "Longitude in decimal degrees (west negative)."),
        Column("altitude", pa.float64(), "Altitude in metres (below sea level negative)."),
        Column("gps_time", UTC_NS, "GPS date and time stamp (UTC by definition)."),
        Column("gps_source", pa.string(), "Where the position came from: exif, xmp, quicktime_iso6709 (Apple key), quicktime_xyz (udta ©xyz), 3gpp_loci (3GPP location box)."),
        Column("content_identifier", pa.string(), "Apple content identifier that links a Live Photo's still and video."),
        Column("image_unique_id", pa.string(), "EXIF ImageUniqueID; else the maker note's (Apple 0x0015, Canon 0x0028 as hex)."),
        Column("has_thumbnail", pa.bool_(), "An embedded thumbnail or preview image exists."),
        Column("thumbnail_sha256", pa.string(), "SHA-256 of the embedded thumbnail (an edited photo can keep its original thumbnail)."),
        Column("flags", pa.list_(pa.string()), "Values present but invalid, kept raw above: gps_latitude_out_of_range, gps_longitude_out_of_range, gps_all_zero, gps_invalid, gps_time_invalid, capture_time_invalid, digitized_time_invalid, modified_time_invalid, offset_invalid, orientation_invalid, thumbnail_not_jpeg, thumbnail_truncated, thumbnail_unreadable; metadata_unreadable (the reader failed: see errors), no_reader (an image/video type no reader knows)."),
        Column("reader", pa.string(), "Reader (module) that read the metadata.", False),
        Column("reader_version", pa.string(), "Version of that reader.", False),
    ),
)

IDENTIFIER_KINDS: tuple[str, ...] = (
    "phone", "email", "url", "domain", "handle", "account_id", "group_id", "paypal", "mobile_wallet", "mtcn", "moneygram_reference",
    "iban", "card_number", "bitcoin_address", "ethereum_address", "tron_address", "camera_serial", "lens_serial",
)

IDENTIFIERS = Table(
    name="identifiers",
    version=1,
    doc="One row per identifier found in the exhibit's messages (bodies, sender, recipient, conversation and account ids, conversation titles) and media (camera and lens serials): phone numbers, e-mail addresses, URLs, domains, handles, account ids, payment and crypto identifiers. Every row names the table, row and field it came from and the text exactly as found.",
    columns=_ids()
    + (
        Column("identifier_index", pa.int64(), "Position of the row in the exhibit's deterministic order (origin table, origin row, field, then offset in the field).", False),
        Column("identifier_kind", pa.string(), "What it is: " + ", ".join(IDENTIFIER_KINDS) + " (see Identifiers in the README for the rules each one follows).", False),
        Column("identifier", pa.string(), "The normalised value: phones and wallet numbers in E.164 (+639171234567), e-mail addresses, handles, domains, bech32 and Ethereum addresses lower-cased, IBANs and card numbers without spaces, base58 addresses and serials as written.", False),
        Column("identifier_raw", pa.string(), "The text exactly as it stands in the field (the characters at origin_offset).", False),
        Column("service", pa.string(), "Service or scheme the identifier belongs to, where known: whatsapp, telegram, kik, instagram, twitter, tiktok, facebook (handles, account and group ids), paypal, gcash, paymaya, maya, western_union, moneygram, visa, mastercard, amex, discover, jcb, diners, unionpay, bitcoin, ethereum, tron."),
        Column("region", pa.string(), "Phones and wallet numbers: the region (ISO 3166 code) a national-format number was resolved against ([identifiers] default_regions; PH for a labelled wallet number); null when the number was written with its country code."),
        Column("origin_table", pa.string(), "Exhibit table the identifier was found in: messages or media.", False),
        Column("origin_index", pa.int64(), "Row of that table: its message_index or media_index.", False),
        Column("origin_field", pa.string(), "Column the text came from: body, sender_id, recipients[N].id, conversation_id, conversation_title, account_id, body_serial or lens_serial.", False),
        Column("origin_offset", pa.int64(), "Offset of identifier_raw in the field's text, in characters (Unicode code points) from 0.", False),
        Column("path", pa.string(), "Path of the artefact (chat database, export, photo) the origin row came from, for display (escaped)."),
        Column("path_bytes", pa.binary(), "Path of that artefact, exact bytes."),
        Column("entry_index", pa.int64(), "entry_index of that artefact (joins artefacts)."),
        Column("store_table", pa.string(), "Table (or export section) of the store the message row came from; null for media."),
        Column("store_row_id", pa.int64(), "Row id of the message in that store table; null for media."),
        Column("extractor", pa.string(), "Extractor family that found it: accounts, crypto, devices, internet, payments or phones (parsers/identifiers).", False),
        Column("extractor_version", pa.string(), "Version of that extractor.", False),
    ),
)

HASH_REF = pa.struct([pa.field("subject", pa.string()), pa.field("algorithm", pa.string()), pa.field("value", pa.string())])

CUSTODY = Table(
    name="custody",
    version=2,
    doc="CASE/custody.parquet: the append-only, hash-chained chain-of-custody ledger of every exhibit in the case. Version 2 names the time occurred_time and stores it as timestamp[ns]; a version 1 ledger is refused (see README, custody).",
    columns=(
        Column("case_id", pa.string(), "Case identifier.", False),
        Column("event_index", pa.int64(), "Position of the event in the ledger, from 0.", False),
        Column("exhibit_id", pa.string(), "Exhibit the event concerns; empty for an event about the case itself (hashset_imported).", False),
        Column("action", pa.string(), "seized, received, acquired, ingest_started, ingested, verified, transferred, exported, returned, disposed, note, or hashset_imported (a hash set added to the case, written by `exhibit hashset import` only).", False),
        Column("actor_name", pa.string(), "Who acted.", False),
        Column("actor_role", pa.string(), "Their role (examiner, officer, technician, ...)."),
        Column("actor_organisation", pa.string(), "Their organisation."),
        Column("from_party", pa.string(), "For transfers: from whom."),
        Column("to_party", pa.string(), "For transfers: to whom."),
        Column("occurred_time", UTC_NS, "When, UTC (microsecond precision as entered).", False),
        Column("utc_offset_minutes", pa.int32(), "The local UTC offset where it happened, in minutes.", False),
        Column("location", pa.string(), "Where."),
        Column("purpose", pa.string(), "Why: the purpose of the action."),
        Column("authority", pa.string(), "Under what authority (warrant, order, request)."),
        Column("hashes", pa.list_(HASH_REF), "Hashes the event concerns (subject, algorithm, value): for ingest, the manifest root digest and the media hashes."),
        Column("notes", pa.string(), "Free text."),
        Column("tool_version", pa.string(), "Exhibit version that wrote the event."),
        Column("host", pa.string(), "Host that wrote the event."),
        Column("previous_sha256", pa.string(), "event_sha256 of the event before (64 zeros for the first): the hash chain.", False),
        Column("event_sha256", pa.string(), "SHA-256 over this event's fields and previous_sha256.", False),
        Column("signature", pa.string(), "Ed25519 signature of event_sha256 (base64), when a key was given."),
        Column("signer_fingerprint", pa.string(), "Fingerprint of the signing key."),
    ),
)

HASHSET = Table(
    name="hashset",
    version=1,
    doc="CASE/hashsets/NAME/hashset.parquet: one imported hash set (NSRL RDSv3, Project VIC VICS/CAID JSON or a plain list), one row per (algorithm, hash), sorted by algorithm then hash; hashset.json beside it records where it came from.",
    columns=(
        Column("case_id", pa.string(), "Case identifier.", False),
        Column("set_name", pa.string(), "Name of the hash set (its folder name under CASE/hashsets).", False),
        Column("algorithm", pa.string(), "md5, sha1 or sha256 (recognised by the hex length in a plain list).", False),
        Column("hash", pa.string(), "The hash, lowercase hex.", False),
        Column("category", pa.string(), "The entry's category as the set states it (a VICS/CAID Category number as text), else the --category given at import; null when neither."),
        Column("set_entry_id", pa.string(), "The set's own id of the entry: NSRL package_id, VICS/CAID MediaID, or the line number in a plain list. When a hash occurs more than once in the source, the row kept is the first by (category, set_entry_id, set_entry_name)."),
        Column("set_entry_name", pa.string(), "The name the set gives the entry: NSRL file_name, the file name of an md5sum/sha256sum line; null otherwise. Decoded as UTF-8, undecodable bytes backslash-escaped."),
    ),
)

HASH_HITS = Table(
    name="hash_hits",
    version=1,
    doc="CASE/hash_hits.parquet: every artefact of a sealed exhibit whose MD5, SHA-1 or SHA-256 is in a hash set of the case, one row per (set, exhibit, artefact, algorithm), sorted by set_name, exhibit_id, entry_index, algorithm.",
    columns=_ids()
    + (
        Column("set_name", pa.string(), "Name of the hash set that holds the hash.", False),
        Column("set_kind", pa.string(), "known (files to set aside, e.g. NSRL) or notable (files to look at, e.g. VICS/CAID categories).", False),
        Column("category", pa.string(), "The set entry's category (see hashset.category)."),
        Column("set_entry_id", pa.string(), "The set's own id of the entry (see hashset.set_entry_id)."),
        Column("entry_index", pa.int64(), "The artefact's entry_index in the exhibit's artefacts.parquet.", False),
        Column("path", pa.string(), "The artefact's path (for display, as in artefacts.path)."),
        Column("algorithm", pa.string(), "md5, sha1 or sha256: the artefact hash that matched.", False),
        Column("hash", pa.string(), "The matching hash, lowercase hex.", False),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (ARTEFACTS, SOURCES, ERRORS, MESSAGES, MEDIA, IDENTIFIERS, CUSTODY, HASHSET, HASH_HITS)}
PARTS: tuple[str, ...] = ("artefacts", "sources", "errors", "messages", "media", "identifiers")

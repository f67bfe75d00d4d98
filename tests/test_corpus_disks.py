"""Every [disk] image of the shared corpus, ingested end to end, against a literal table of outcomes.

Why: these images were made by other people with other tools, so they exercise format corners that
our own fixtures do not (split sets, differencing VHDs, LVM, VSS, BitLocker To Go, exFAT with odd
labels, wiped test volumes). Each row states what Exhibit must do with the image: either ingest it
(exit 0, or 1 with the listed error rows) with exact row and hash counts and the volumes read, or
refuse it (exit 2) with a message naming the file.

The counts were derived by running the ingest and checking them against The Sleuth Kit (fls on
the same image, converted with qemu-img where TSK has no reader for the container). Exhibit's row
count for a TSK-walked volume is always: every fls line (allocated and deleted, TSK's virtual
$MBR/$FAT1/$FAT2/$OrphanFiles included) + 1 for the root, which fls never prints, with two
systematic NTFS differences: fls prints the named index attributes of $Secure, $ObjId, $Quota and
$Reparse ($Secure:$SDH, $Secure:$SII, $ObjId:$O, $Quota:$O, $Quota:$Q, $Reparse:$R: 6 lines) which
are not data streams, and omits those 4 files' own entries, which Exhibit lists; so NTFS is
fls - 6 + 4 + 1. On HFS+ Exhibit adds one row per non-empty resource fork ('file:rsrc'), which fls
does not list. tests/test_tsk_oracle.py checks the paths and hashes themselves.

Unpacked copies of compressed entries live in one session temp folder; the corpus itself is only
read, and every case checks afterwards that its files still have the SHA-256 SOURCES.tsv records.
"""

from __future__ import annotations

import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from tests.conftest import run_ingest
from tests.corpus import check_untouched, corpus_root, require_corpus, sources_rows, unpacked

# --- the table --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ingests:
    """The run completes: exit 1 exactly when an error-severity row is expected, else 0."""

    rows: int  # artefacts rows
    hashed: int  # rows with content_status 'hashed'
    volumes: tuple[tuple[str | None, str], ...]  # (location, type) of each volume with status 'ingested', in order
    others: dict[str, int] = field(default_factory=dict)  # status -> count of every other volume
    errors: dict[str, int] = field(default_factory=dict)  # 'severity:kind' -> count of errors.parquet rows


@dataclass(frozen=True)
class Fails:
    """Exit 2, nothing written; the message names the file, says why and lists the formats tried."""

    fragment: str


@dataclass(frozen=True)
class Case:
    id: str
    source: str  # SOURCES.tsv local_path; the first segment of a multi-segment set
    expect: Ingests | Fails
    why: str
    member: str | None = None  # file inside an unpacked archive
    args: tuple[str, ...] = ()  # '{dir}' is replaced by the folder the source was unpacked to
    also_reads: tuple[str, ...] = ()  # further SOURCES.tsv entries read with the source
    fast: bool = False  # large virtual size: no media hash, no before/after hashing (check_untouched still runs)


DFVFS = "log2timeline__dfvfs/test_data/"
PLASO = "log2timeline__plaso/test_data/"
TSK = "sleuthkit__sleuthkit/test/data/"
MSU = "msuhanov__dfir_ntfs/test_data/"
CRYPT = "mbroz__cryptsetup/tests/"
VELO = "Velocidex__velociraptor/artifacts/testdata/files/"
SPARSE = "kaitai-io__kaitai_struct_samples/archive/android_sparse/"
BULK = "simsong__bulk_extractor/src/tests/"
BITLK = CRYPT + "bitlk-images.tar.xz"
LUKS1 = CRYPT + "luks1-images.tar.xz"
TCRYPT = CRYPT + "tcrypt-images.tar.xz"
NO_FS = "no readable file system in any of the"
UNSUPPORTED = "not a supported disk, volume, file-system or archive image"
BITLK_XTS_RECOVERY = "235818-357951-253979-013365-241120-245575-342914-591910"  # images.conf [bitlk-aes-xts-128] RP

EXT2 = Ingests(8, 3, (("/", "EXT"),))  # fls: 7 lines incl. $OrphanFiles, + root
EXT2_100K = Ingests(10, 3, (("/", "EXT"),))  # TSK 100 KiB test image: 9 fls lines (2 deleted) + root
EXT2_PLASO = Ingests(11, 3, (("/", "EXT"),))  # plaso 100 KiB ext2: 10 fls lines (4 deleted) + root
NTFS = ("\\", "NTFS")
FAT = ("\\", "FAT")
PARTITIONS_ONLY = {"found": 1, "no_file_system": 1}

CASES: tuple[Case, ...] = (
    Case("dfvfs-ext2.E01", DFVFS + "ext2.E01", EXT2, "single-segment EWF"),
    Case("dfvfs-ext2.split.E01", DFVFS + "ext2.split.E01", EXT2, "EWF set read as one media from its first segment",
         also_reads=(DFVFS + "ext2.split.E02",)),
    Case("dfvfs-ext2.splitraw", DFVFS + "ext2.splitraw.000", EXT2, "split raw .000/.001 read as one media",
         also_reads=(DFVFS + "ext2.splitraw.001",)),
    Case("dfvfs-ext2.vhd", DFVFS + "ext2.vhd", EXT2, "VHD"),
    Case("dfvfs-ext2.vmdk", DFVFS + "ext2.vmdk", EXT2, "VMDK"),
    Case("dfvfs-ext2.qcow2", DFVFS + "ext2.qcow2", EXT2, "QCOW2"),
    Case("dfvfs-ext2.raw.gz", DFVFS + "ext2.raw.gz", EXT2, "gzip unpacked by the test to a raw ext2"),
    # fls -P apfs -B 107: 10 entries + root; 7 regular files, one of them empty.
    Case("dfvfs-apfs.raw", DFVFS + "apfs.raw", Ingests(11, 6, (("/", "APFS"),), {"found": 2}), "APFS container, walked with dfVFS"),
    # fls: 17 lines + root + 1 resource fork row (a_directory/a_resourcefork:rsrc).
    Case("dfvfs-hfsplus.raw", DFVFS + "hfsplus.raw", Ingests(19, 11, (("/", "HFS"),)), "bare HFS+"),
    # UDIF media (MODI) > GPT > HFS+; fls on the qemu-img conversion at sector 40: 13 lines + root + 1 rsrc.
    Case("dfvfs-hfsplus_zlib.dmg", DFVFS + "hfsplus_zlib.dmg", Ingests(15, 8, (("/", "HFS"),), {"found": 2}),
         "DMG decoded by dfVFS (MODI is the media layer), decmpfs files read by TSK"),
    Case("dfvfs-iso9660.raw", DFVFS + "iso9660.raw", Ingests(7, 3, (("/", "TSK"),)), "ISO9660: 5 fls lines + $OrphanFiles + root"),
    # qemu-img rejects this copy ('Incorrect header checksum'); libvhdi reads it. fls (converted): 10 lines, 4 deleted.
    Case("dfvfs-image.vhd", DFVFS + "image.vhd", EXT2_PLASO, "dynamic VHD with a bad header checksum that libvhdi accepts"),
    Case("dfvfs-image-differential.vhd", DFVFS + "image-differential.vhd", EXT2_PLASO, "differencing VHD read through its parent",
         also_reads=(DFVFS + "image.vhd",)),
    Case("dfvfs-windows_volume.qcow2", DFVFS + "windows_volume.qcow2", Ingests(31, 10, (NTFS,)), "NTFS: fls 32 - 6 + 4 + 1"),
    Case("dfvfs-imynd.dd", DFVFS + "ímynd.dd", Ingests(10, 3, (("/", "EXT"),)), "UTF-8 file name; fls 9 lines (2 deleted)"),
    Case("dfvfs-lvm.qcow2", DFVFS + "lvm.qcow2", Ingests(8, 3, (("/", "EXT"),), {"found": 2}), "LVM logical volume in QCOW2"),
    Case("dfvfs-lvmtest.qcow2", DFVFS + "lvmtest.qcow2", Ingests(10, 3, (("/", "EXT"), ("/", "EXT")), {"found": 3}),
         "two LVM logical volumes: 6 + 2 fls lines, + 2 roots"),
    # mmls: p1 at 1 (TSK fsstat cannot tell its type either), logical p5 at 352: ext2 with lost+found only.
    Case("dfvfs-mbr.raw", DFVFS + "mbr.raw", Ingests(3, 0, (("/", "EXT"),), {"found": 2, "no_file_system": 1}, {"warning:no_file_system": 1}),
         "MBR with primary and logical partition"),
    Case("dfvfs-Base-Linear.aff4", DFVFS + "aff4/Base-Linear.aff4", Fails("AFF4 container"),
         "AFF4 is a ZIP of compressed chunks; walking it as an archive would catalogue the container, not the disk"),
    Case("dfvfs-dream.aff4", DFVFS + "aff4/dream.aff4", Fails("AFF4 container"), "AFF4-L logical container: not supported either"),
    Case("plaso-image.E01", PLASO + "image.E01", EXT2_PLASO, "EWF of a 100 KiB ext2"),
    Case("plaso-image-split.E01", PLASO + "image-split.E01",
         Ingests(3, 0, (("/", "EXT"),), {"found": 2, "no_file_system": 1}, {"warning:no_file_system": 1}),
         "EnCase 6 split set of the same MBR disk as dfvfs mbr.raw", also_reads=(PLASO + "image-split.E02",)),
    Case("plaso-image.qcow2", PLASO + "image.qcow2", EXT2_PLASO, "QCOW2"),
    Case("plaso-image.vmdk", PLASO + "image.vmdk", EXT2_100K, "VMDK (same bytes as the TSK copy)"),
    # Live NTFS only: fls (converted) 36 - 6 + 4 + 1. Snapshots are listed, not read.
    Case("plaso-vsstest.qcow2-vss-none", PLASO + "vsstest.qcow2",
         Ingests(35, 20, (NTFS,), {"snapshots skipped (vss=none)": 1, "skipped (vss=none)": 2}),
         "VSS store found, --vss none (the default) skips both snapshots", args=("--vss", "none"), fast=True),
    # Each snapshot is its own volume with its own TSK file system: 32 and 34 rows (older states of the
    # same volume), plus the live volume's 35.
    Case("plaso-vsstest.qcow2-vss-all", PLASO + "vsstest.qcow2",
         Ingests(101, 56, (("/vss1", "VSHADOW"), ("/vss1", "TSK"), ("/vss2", "VSHADOW"), ("/vss2", "TSK"), NTFS),
                 {"snapshots ingested": 1}),
         "--vss all: both snapshots ingested as volumes", args=("--vss", "all"), fast=True),
    Case("plaso-syslog_image.dd", PLASO + "syslog_image.dd", Ingests(11, 2, (("/", "EXT"),)), "ext2: 10 fls lines (6 deleted)"),
    Case("plaso-image.vhd", PLASO + "image.vhd", EXT2_PLASO, "VHD (plaso copy)"),
    Case("tsk-image.E01", TSK + "image.E01", EXT2_100K, "EWF of the TSK ext2 test image"),
    Case("tsk-imageformat_mmls_1.E01", TSK + "imageformat_mmls_1.E01", Ingests(66, 34, (NTFS, NTFS), {"found": 3}),
         "MBR with two NTFS partitions at sectors 128 and 55424: 2 x (34 - 6 + 4 + 1)"),
    Case("tsk-image.qcow", TSK + "image.qcow", EXT2_100K, "QCOW version 1"),
    Case("tsk-image.vhd", TSK + "image.vhd", EXT2_100K, "VHD (TSK copy)"),
    Case("tsk-image.iso", TSK + "image.iso", Ingests(7, 3, (("/", "TSK"),)), "ISO9660 without a RAW-looking name"),
    Case("tsk-image.dd", TSK + "image.dd", EXT2_100K, "raw ext2"),
    Case("tsk-fat_dst_test.dd", TSK + "fat_dst_test.dd", Ingests(13, 3, (FAT,)), "FAT12: 8 files (5 empty) + 4 virtual + root"),
    Case("msuhanov-ntfs3.raw.gz", MSU + "ntfs3.raw.gz", Ingests(31, 10, (NTFS,)), "NTFS: fls 32 (8 deleted) - 6 + 4 + 1"),
    Case("msuhanov-ntfs_index.raw.gz", MSU + "ntfs_index.raw.gz", Ingests(66, 19, (NTFS,), {"found": 2}),
         "MBR + NTFS at sector 128: fls 67 - 6 + 4 + 1"),
    Case("msuhanov-ntfs3_attrlist.raw.gz", MSU + "ntfs3_attrlist.raw.gz", Ingests(127, 109, (NTFS,)),
         "NTFS with $ATTRIBUTE_LIST: fls 128 - 6 + 4 + 1"),
    Case("msuhanov-exfat_win.raw.gz", MSU + "exfat_win.raw.gz", Ingests(716, 408, (FAT,)), "exFAT: 715 fls lines (6 deleted) + root"),
    # libfsfat refuses this volume ('invalid exFAT volume label name size'), so dfVFS reports no file system;
    # TSK reads it (fls -o 2048: 26 lines + root), and Exhibit falls back to TSK with a warning.
    Case("msuhanov-exfat_lin_part.raw.gz", MSU + "exfat_lin_part.raw.gz",
         Ingests(27, 6, (("/", "TSK"),), {"found": 2}, {"warning:tsk_fallback": 1}), "exFAT partition only TSK opens"),
    Case("msuhanov-win_exfat_7.raw.gz", MSU + "win_exfat_7.raw.gz", Ingests(13, 5, (FAT,)), "exFAT: 12 fls lines (5 deleted) + root"),
    Case("msuhanov-fat12.raw.gz", MSU + "fat12.raw.gz", Ingests(1030, 4, (FAT,)), "FAT12: 1029 fls lines + root (512 empty files)"),
    Case("msuhanov-fat16.raw.gz", MSU + "fat16.raw.gz", Ingests(1030, 4, (FAT,)), "FAT16: as fat12"),
    # Known gap: fsck.vfat sees /test, /test/1.TXT and /test/2.TXT (2048-byte sectors, 254 clusters); TSK
    # refuses the volume and libfsfat opens it but lists an empty root, so only the root row exists.
    Case("msuhanov-fat32_small.raw.gz", MSU + "fat32_small.raw.gz", Ingests(1, 0, (FAT,), {}, {"warning:tsk_refused": 1}),
         "undersized FAT32 that neither TSK nor libfsfat lists"),
    Case("msuhanov-fat_lfn_test.raw.gz", MSU + "fat_lfn_test.raw.gz", Ingests(22, 4, (FAT,)), "FAT32 long names: 21 fls lines + root"),
    Case("msuhanov-gpt-512-3p.raw.gz", MSU + "gpt-512-3p.raw.gz",
         Ingests(0, 0, (), {"found": 1, "no_file_system": 3}, {"warning:no_file_system": 3, "error:no_file_system": 1}),
         "GPT with 3 unformatted partitions (fsstat fails on each): nothing to catalogue is an error"),
    Case("msuhanov-mbr-win-512.raw.tgz", MSU + "mbr-win-512.raw.tgz",
         Ingests(0, 0, (), {"found": 1, "no_file_system": 7}, {"warning:no_file_system": 7, "error:no_file_system": 1}),
         "256 MiB sparse disk, 7 FAT16-typed partitions never formatted (fsstat fails on each)", fast=True),
    Case("msuhanov-vss_2003.tgz", MSU + "vss_2003.tgz",
         Ingests(97, 48, (NTFS,), {"found": 2, "snapshots skipped (vss=none)": 1, "skipped (vss=none)": 6}),
         "128 GiB sparse: MBR + NTFS with 6 snapshots", fast=True),
    Case("msuhanov-vss_1_vol.tar.gz", MSU + "vss_1_vol.tar.gz",
         Ingests(39, 20, (NTFS,), {"found": 2, "no_file_system": 1, "snapshots skipped (vss=none)": 1, "skipped (vss=none)": 2},
                 {"warning:no_file_system": 1}),
         "5 GiB sparse: GPT (MS reserved + NTFS with 2 snapshots)", fast=True),
    Case("msuhanov-vss_2_stor.tar.gz", MSU + "vss_2_stor.tar.gz",
         Ingests(41, 23, (NTFS,), {"found": 2, "no_file_system": 1, "snapshots skipped (vss=none)": 1, "skipped (vss=none)": 1},
                 {"warning:no_file_system": 1}),
         "5 GiB sparse: GPT (MS reserved + NTFS with 1 snapshot)", fast=True),
    # LUKS1 aes-cbc-essiv:sha256 with a 128-bit key. 'compatkey' is right (an independent PBKDF2 +
    # AF-merge check opens key slot 0), but libluksde cannot unlock it: it keys the ESSIV cipher with the
    # data key's size (AES-128) instead of the SHA-256 digest's (AES-256), so the key material decrypts
    # wrongly. The payload is zero-filled anyway (the file is 66 KiB compressed for 10 MB).
    Case("cryptsetup-compatimage-compatkey", CRYPT + "compatimage.img.xz",
         Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "LUKS1 unlock fails: libluksde ESSIV key size bug (see comment)", args=("--password", "compatkey")),
    # All 12 volumes in the archive have key slot 0's key material zeroed ('keyslot blocks were wiped'):
    # no credential can open any of them; three ciphers are checked.
    Case("cryptsetup-luks1-aes-xts", LUKS1, Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "LUKS1 with wiped key slot", member="luks1_aes-xts-plain64-sha256.img"),
    Case("cryptsetup-luks1-serpent-xts", LUKS1, Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "LUKS1 serpent, wiped key slot", member="luks1_serpent-xts-plain64-sha256.img"),
    Case("cryptsetup-luks1-twofish-xts", LUKS1, Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "LUKS1 twofish, wiped key slot", member="luks1_twofish-xts-plain64-sha256.img"),
    # libluksde reads LUKS1 headers only; it rejects this LUKS2 header ('invalid master key size').
    Case("cryptsetup-luks2_valid_hdr", CRYPT + "luks2_valid_hdr.img.xz", Ingests(0, 0, (), {"unreadable": 1}, {"error:unreadable_volume": 1}),
         "LUKS2 recognised, recorded as an unreadable volume"),
    # dfVFS sees the LVM2 PV label (not the LUKS2 header); the PV holds no logical volume.
    Case("cryptsetup-blkid-luks2-pv", CRYPT + "blkid-luks2-pv.img.xz",
         Ingests(0, 0, (), {"no_volumes": 1}, {"warning:no_volumes": 1, "error:no_file_system": 1}), "LVM PV with no logical volume"),
    # BitLocker: the password and recovery password unlock (the decrypted stream's SHA-256 equals
    # images.conf SHA256SUM), but cryptsetup's test images are wiped apart from metadata (25591 of
    # 25600 4 KiB blocks zero), so the decrypted NTFS is noise that neither libfsntfs nor TSK opens.
    Case("bitlk-xts-128-password", BITLK, Ingests(0, 0, (), {"no_file_system": 1}, {"warning:no_file_system": 1, "error:no_file_system": 1}),
         "BitLocker unlocked by password", member="bitlk-aes-xts-128.img", args=("--password", "anaconda"), fast=True),
    Case("bitlk-xts-128-no-credentials", BITLK, Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "locked volume recorded (and not unlocked by the previous case's credentials)", member="bitlk-aes-xts-128.img", fast=True),
    Case("bitlk-xts-128-recovery-password", BITLK,
         Ingests(0, 0, (), {"no_file_system": 1}, {"warning:no_file_system": 1, "error:no_file_system": 1}),
         "BitLocker unlocked by recovery password", member="bitlk-aes-xts-128.img", args=("--recovery-password", BITLK_XTS_RECOVERY),
         fast=True),
    Case("bitlk-xts-128-wrong-password", BITLK, Ingests(0, 0, (), {"locked": 1}, {"error:locked_volume": 1}),
         "wrong password: locked volume error", member="bitlk-aes-xts-128.img", args=("--password", "wrong"), fast=True),
    # BitLocker To Go: the unencrypted discovery FAT (3 fls lines + root) and, once unlocked, the
    # decrypted FAT16, which libfsfat refuses (wiped root directory) and TSK opens (4 fls lines + root).
    Case("bitlk-togo-xts-128-password", BITLK,
         Ingests(9, 5, (("/", "TSK"), FAT), {"unlocked": 1}, {"warning:tsk_fallback": 1}),
         "BitLocker To Go unlocked", member="bitlk-togo-aes-xts-128.img", args=("--password", "anaconda"), fast=True),
    Case("bitlk-xts-128-startup-key", BITLK,
         Ingests(0, 0, (), {"no_file_system": 1}, {"warning:no_file_system": 1, "error:no_file_system": 1}),
         "BitLocker unlocked by startup key (.BEK)", member="bitlk-aes-xts-128-startup-key.img",
         args=("--key-file", "{dir}/4381F759-C4F8-4DE0-BB61-FC33A831BDA5.BEK"), fast=True),
    # FileVault 2 cannot be tested: the CoreStorage metadata copy at 0x401000 is zero-filled in this
    # test image, and libfvde refuses to open the volume group ('unsupported block size: 0'), so
    # there is no logical volume to unlock with 'heslo123'.
    Case("cryptsetup-fvault2-heslo123", CRYPT + "fvault2-images.tar.xz",
         Ingests(0, 0, (), {"unreadable": 1}, {"error:unreadable_volume": 1}),
         "CoreStorage volume group unreadable (stripped test image)", args=("--password", "heslo123"), fast=True),
    # TrueCrypt/VeraCrypt have no signature and no dfVFS back end: a container is noise to the scanner.
    Case("tcrypt-tc_1", TCRYPT, Fails(UNSUPPORTED), "TrueCrypt unsupported", member="tc_1-sha1-cbc-aes",
         args=("--password", "aaaaaaaaaaaa")),
    Case("tcrypt-vc_1", TCRYPT, Fails(UNSUPPORTED), "VeraCrypt unsupported", member="vc_1-sha512-xts-aes",
         args=("--password", "aaaaaaaaaaaa")),
    Case("tcrypt-tc_2-hidden", TCRYPT, Fails(UNSUPPORTED), "hidden TrueCrypt volume unsupported",
         member="tc_2-ripemd160-cbc-aes-hidden", args=("--password", "bbbbbbbbbbbb")),
    # System-encrypted disks keep a readable partition table; the partitions are ciphertext.
    Case("tcrypt-sys_vc_1_mbr_full", TCRYPT,
         Ingests(0, 0, (), {"found": 1, "no_file_system": 1}, {"warning:no_file_system": 1, "error:no_file_system": 1}),
         "VeraCrypt system disk (MBR)", member="sys_vc_1_mbr_full-sha256-xts-aes", args=("--password", "aaaaaaaaaaaa")),
    Case("tcrypt-sys_vc_1_gpt_part", TCRYPT,
         Ingests(0, 0, (), {"found": 1, "no_file_system": 4}, {"warning:no_file_system": 4, "error:no_file_system": 1}),
         "VeraCrypt system partition (GPT)", member="sys_vc_1_gpt_part-sha512-xts-aes", args=("--password", "aaaaaaaaaaaa")),
    # XFS: TSK has no XFS reader here; xfs_db ls / lists luks.img and luks_header.img (and nothing in the third).
    Case("cryptsetup-img_fs_xfs", CRYPT + "img_fs_xfs.img.xz", Ingests(3, 2, (("/", "XFS"),)), "XFS v4, walked with dfVFS"),
    Case("cryptsetup-img_fs_xfs5", CRYPT + "img_fs_xfs5.img.xz", Ingests(3, 2, (("/", "XFS"),)), "XFS v5"),
    Case("cryptsetup-xfs_512_block_size", CRYPT + "xfs_512_block_size.img.xz", Ingests(1, 0, (("/", "XFS"),)), "empty XFS v5"),
    Case("cryptsetup-img_fs_ext4", CRYPT + "img_fs_ext4.img.xz", Ingests(5, 2, (("/", "EXT"),)), "ext4: 4 fls lines + root"),
    # 4096-byte sectors: TSK lists $MBR but cannot read it ('Invalid file offset'; icat prints nothing).
    Case("cryptsetup-img_fs_vfat", CRYPT + "img_fs_vfat.img.xz", Ingests(7, 4, (FAT,), {}, {"error:io_error": 1}),
         "FAT12 with 4 KiB sectors"),
    Case("velociraptor-test.vhdx", VELO + "test.vhdx.zip", Ingests(36, 15, (NTFS,), {"found": 2}), "VHDX > GPT > NTFS: fls 37 - 6 + 4 + 1"),
    Case("velociraptor-test.ntfs.dd.E01", VELO + "test.ntfs.dd.E01", Ingests(43, 22, (NTFS,)), "EWF NTFS: fls 44 - 6 + 4 + 1"),
    Case("velociraptor-partition_image.E01", VELO + "partition_image.E01", Ingests(43, 20, (NTFS,)), "EWF NTFS at offset 0"),
    Case("velociraptor-ext4_tests.zip", VELO + "ext4_tests.zip", Ingests(23, 11, (("/", "EXT"),)),
         "64-bit ext4: 22 fls lines (5 reallocated names: not hashed) + root"),
    Case("velociraptor-fat_very_small.dd", VELO + "fat_very_small.dd", Ingests(8, 4, (FAT,)), "50 KiB FAT12"),
    Case("velociraptor-MBR", VELO + "MBR", Fails(UNSUPPORTED), "a lone 512-byte boot sector: a partition table with no disk"),
    Case("kaitai-extended-headers.img", SPARSE + "extended-headers.img",
         Ingests(0, 0, (), {"no_file_system": 1}, {"error:no_file_system": 1}), "Android sparse expands to 6 KiB with no file system"),
    Case("kaitai-fill-4k-zeros.img", SPARSE + "fill-4k-zeros.img",
         Ingests(0, 0, (), {"no_file_system": 1}, {"error:no_file_system": 1}), "Android sparse FILL chunk: 4 KiB of zeros"),
    Case("bulk-email_test.E01", BULK + "email_test.E01",
         Ingests(0, 0, (), {"no_file_system": 1}, {"error:no_file_system": 1, "error:hash_mismatch": 1}),
         "4-segment EWF of raw email data; its stored MD5 does not match (ewfverify agrees)",
         also_reads=(BULK + "email_test.E02", BULK + "email_test.E03", BULK + "email_test.E04")),
    Case("bulk-nps-2010-emails.E01", BULK + "nps-2010-emails.E01", Ingests(39, 33, (FAT,), {"found": 2}),
         "MBR + FAT at sector 1: 38 fls lines + root"),
    Case("bulk-CFReDS001.E01", BULK + "CFReDS001.E01", Ingests(9, 6, (FAT,), {"found": 2}), "EnCase 4 EWF, FAT16 at 16128"),
)


# --- fixtures and helpers ---------------------------------------------------------------------


@pytest.fixture(scope="session")
def corpus_tmp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder per session for unpacked corpus entries (each unpacked at most once)."""
    return tmp_path_factory.mktemp("corpus-unpacked")


@pytest.fixture(scope="session")
def fast_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Settings for images with a large virtual size: the media hash of 1-128 GiB would dominate the run."""
    path = tmp_path_factory.mktemp("config") / "fast.toml"
    path.write_text("[ingest]\nhash_media = false\nverify_source_files = false\n", encoding="utf-8")
    return path


def source_path(case: Case, corpus_tmp: Path) -> Path:
    """The file to ingest: the corpus file itself, or the unpacked copy (member of an archive)."""
    path = unpacked(case.source, corpus_tmp)
    if case.member is not None:
        path = path / case.member
    return path


def table_rows(folder: Path, name: str, columns: list[str]) -> list[dict]:
    """Selected columns only: timestamps at nanosecond precision do not convert to datetime."""
    return pq.read_table(folder / f"{name}.parquet", columns=columns).to_pylist()


def error_counts(errors: list[dict]) -> dict[str, int]:
    return dict(Counter(f"{row['severity']}:{row['error_kind']}" for row in errors))


# --- tests ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_corpus_disk(case: Case, corpus_tmp: Path, fast_config: Path, tmp_path: Path) -> None:
    """Ingest one corpus image and compare the outcome with its row of the table."""
    require_corpus()
    source = source_path(case, corpus_tmp)
    args = [arg.replace("{dir}", str(source.parent)) for arg in case.args]
    if case.fast:
        args += ["--config", str(fast_config)]
    result = run_ingest(source, tmp_path / "out", *args)

    if isinstance(case.expect, Fails):
        assert result.exit_code == 2, result.output
        assert case.expect.fragment in result.output
        assert str(source) in result.output
        assert "formats tried:" in result.output
        assert not result.folder.exists()
    else:
        expect = case.expect
        rows = table_rows(result.folder, "artefacts", ["content_status"])
        volumes = table_rows(result.folder, "sources", ["volumes"])[0]["volumes"]
        errors = table_rows(result.folder, "errors", ["error_kind", "severity"])
        outcome = {
            "exit_code": result.exit_code,
            "rows": len(rows),
            "hashed": sum(1 for row in rows if row["content_status"] == "hashed"),
            "volumes": tuple((v["location"], v["type"]) for v in volumes if v["status"] == "ingested"),
            "others": dict(Counter(v["status"] for v in volumes if v["status"] != "ingested")),
            "errors": error_counts(errors),
        }
        expected_exit = 1 if any(key.startswith("error:") for key in expect.errors) else 0
        assert outcome == {"exit_code": expected_exit, "rows": expect.rows, "hashed": expect.hashed, "volumes": expect.volumes,
                           "others": expect.others, "errors": expect.errors}, result.output
        assert sum(v["entries"] for v in volumes) == expect.rows

    for local_path in (case.source, *case.also_reads):
        assert check_untouched(local_path), f"{local_path} changed"


def test_table_covers_every_disk_entry() -> None:
    """A [disk] entry added to SOURCES.tsv must get a row here (segments count through their set)."""
    require_corpus()
    listed = {row["local_path"] for row in sources_rows("[disk]")}
    covered = {case.source for case in CASES} | {path for case in CASES for path in case.also_reads}
    assert listed - covered == set()
    assert covered - listed == set()


def test_multi_segment_sets_list_every_segment(corpus_tmp: Path, tmp_path: Path) -> None:
    """A set read from its first segment must record all its segments as evidence files, hashed before and after."""
    require_corpus()
    for case in CASES:
        if not case.also_reads or case.fast:
            continue
        result = run_ingest(source_path(case, corpus_tmp), tmp_path / case.id)
        (source,) = table_rows(result.folder, "sources", ["container_files", "is_source_unchanged"])
        names = [Path(entry["path"]).name for entry in source["container_files"]]
        assert names == [Path(path).name for path in (case.source, *case.also_reads)], case.id
        assert source["is_source_unchanged"] is True


def test_luks2_partition_does_not_hide_the_other_partitions(corpus_tmp: Path, tmp_path: Path) -> None:
    """One unreadable volume must cost only itself: dfVFS's scan gives up on the whole disk when libluksde
    raises on a LUKS2 partition, which used to turn a disk with readable partitions into exit 2.

    The disk is built from corpus bytes: the TSK ext2 image in partitions 1 and 3, LUKS2 in partition 2.
    """
    require_corpus()
    ext2 = (corpus_root() / TSK / "image.dd").read_bytes()
    luks2 = unpacked(CRYPT + "luks2_valid_hdr.img.xz", corpus_tmp).read_bytes()
    starts = (2048, 4096, 4096 + len(luks2) // 512)
    parts = (ext2, luks2, ext2)
    disk = bytearray(starts[2] * 512 + len(ext2))
    for slot, (start, data) in enumerate(zip(starts, parts, strict=True)):
        disk[446 + 16 * slot: 462 + 16 * slot] = struct.pack("<B3sB3sII", 0, bytes(3), 0x83, bytes(3), start, len(data) // 512)
        disk[start * 512: start * 512 + len(data)] = data
    disk[510:512] = b"\x55\xaa"
    image = tmp_path / "ext2-luks2-ext2.raw"
    image.write_bytes(bytes(disk))

    result = run_ingest(image, tmp_path / "out")
    volumes = table_rows(result.folder, "sources", ["volumes"])[0]["volumes"]
    summary = [(v["location"], v["type"], v["status"], v["entries"]) for v in volumes]
    assert result.exit_code == 1, result.output
    assert summary == [
        ("/", "TSK_PARTITION", "found", 0),
        ("/p1", "TSK_PARTITION", "found", 0),
        ("/", "EXT", "ingested", 10),
        ("/p2", "TSK_PARTITION", "found", 0),
        (None, "LUKSDE", "unreadable", 0),
        ("/p3", "TSK_PARTITION", "found", 0),
        ("/", "EXT", "ingested", 10),
    ]
    errors = table_rows(result.folder, "errors", ["error_kind", "severity", "volume_index", "message"])
    assert [(e["error_kind"], e["severity"], e["volume_index"]) for e in errors] == [("unreadable_volume", "error", 4)]
    assert "libluksde" in errors[0]["message"]


def test_dmg_media_hash_is_the_decoded_disk(tmp_path: Path) -> None:
    """The media of a UDIF .dmg is the decoded disk, not the compressed file.

    Expected values from 'qemu-img convert -O raw hfsplus_zlib.dmg' (1954304 bytes), an independent
    UDIF decoder; the .dmg file itself is 20056 bytes with another hash.
    """
    require_corpus()
    result = run_ingest(corpus_root() / DFVFS / "hfsplus_zlib.dmg", tmp_path / "out")
    (source,) = table_rows(result.folder, "sources", ["format_chain", "stream_size", "stream_sha256"])
    assert source == {"format_chain": "MODI", "stream_size": 1954304,
                      "stream_sha256": "c86d3616818e175caca2f6022f49e190e5b1cfe39b2e8f9373119e22aa7eaf58"}

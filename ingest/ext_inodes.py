"""ext2/3/4 deletion times (inode dtime), which TSK knows (istat prints them) but pytsk3 does not expose.

The inode is found the way the kernel finds it (ext4 on-disk layout, kernel documentation
"ext4 Data Structures and Algorithms"): the superblock at byte 1024 gives the block size
(1024 << s_log_block_size, at 0x18), the inodes per group (0x28), the inode size (0x58, 128 before
revision 1), the first data block (0x14) and, with the 64bit feature (incompat 0x80), the group
descriptor size (0xFE). The group descriptor table starts in the block after the first data block;
a descriptor's inode-table block is bg_inode_table_lo (0x08) plus, in 64-byte descriptors,
bg_inode_table_hi (0x28) << 32. The inode's i_dtime is the 32-bit UTC seconds at 0x14.

Only unallocated inodes are asked for: in a live inode ext4 reuses i_dtime as the orphan-list link.
File systems with the meta_bg feature (descriptors spread over the groups) are not read; the walk
records that once and leaves deleted_time empty.
"""

from __future__ import annotations

import struct
from typing import Callable

Read = Callable[[int, int], bytes]

SUPERBLOCK = 1024
EXT_MAGIC = 0xEF53
INCOMPAT_META_BG = 0x10
INCOMPAT_64BIT = 0x80
_NS = 1_000_000_000


class ExtLayoutError(ValueError):
    """The superblock or a group descriptor does not describe a file system this reader can follow."""


class ExtInodeTable:
    """Reads single inodes' i_dtime from an ext file system through `read(offset, size)`."""

    def __init__(self, read: Read) -> None:
        self._read = read
        block = read(SUPERBLOCK, 1024)
        if len(block) < 0x100 or struct.unpack_from("<H", block, 0x38)[0] != EXT_MAGIC:
            raise ExtLayoutError("no ext superblock at byte 1024")
        self.inodes_count = struct.unpack_from("<I", block, 0x00)[0]
        first_data_block = struct.unpack_from("<I", block, 0x14)[0]
        log_block_size = struct.unpack_from("<I", block, 0x18)[0]
        self.inodes_per_group = struct.unpack_from("<I", block, 0x28)[0]
        revision = struct.unpack_from("<I", block, 0x4C)[0]
        self.inode_size = struct.unpack_from("<H", block, 0x58)[0] if revision >= 1 else 128
        incompat = struct.unpack_from("<I", block, 0x60)[0]
        if log_block_size > 6 or not self.inodes_per_group or self.inode_size < 128:
            raise ExtLayoutError(f"implausible superblock (log block size {log_block_size}, "
                                 f"{self.inodes_per_group} inodes per group, inode size {self.inode_size})")
        if incompat & INCOMPAT_META_BG:
            raise ExtLayoutError("meta_bg file systems are not read (group descriptors spread over the groups)")
        self.block_size = 1024 << log_block_size
        self.descriptor_size = struct.unpack_from("<H", block, 0xFE)[0] if incompat & INCOMPAT_64BIT else 32
        if self.descriptor_size < 32:
            raise ExtLayoutError(f"group descriptor size {self.descriptor_size}")
        self._descriptors_at = (first_data_block + 1) * self.block_size
        self._tables: dict[int, int] = {}

    def _inode_table(self, group: int) -> int:
        if group not in self._tables:
            descriptor = self._read(self._descriptors_at + group * self.descriptor_size, self.descriptor_size)
            if len(descriptor) < self.descriptor_size:
                raise ExtLayoutError(f"group descriptor {group} cannot be read")
            table = struct.unpack_from("<I", descriptor, 0x08)[0]
            if self.descriptor_size >= 64:
                table |= struct.unpack_from("<I", descriptor, 0x28)[0] << 32
            self._tables[group] = table
        return self._tables[group]

    def deletion_time(self, inode: int) -> int | None:
        """i_dtime as UTC nanoseconds (whole seconds, the field's precision), None when 0."""
        if not 1 <= inode <= self.inodes_count:
            raise ExtLayoutError(f"inode {inode} is outside 1..{self.inodes_count}")
        group, index = divmod(inode - 1, self.inodes_per_group)
        offset = self._inode_table(group) * self.block_size + index * self.inode_size
        field = self._read(offset + 0x14, 4)
        if len(field) < 4:
            raise ExtLayoutError(f"inode {inode} cannot be read at byte {offset}")
        seconds = struct.unpack("<I", field)[0]
        return seconds * _NS if seconds else None

// shell/: strace-syntax language. Knows the engine's types, nothing of drawing.
// Formatting of values the way strace prints them, and of engine events.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/events.h"
#include "engine/kernel.h"

namespace vmplay::shell {

std::string hex(uint64_t v);                // 0x7ffff7ffd000 ("0" for zero, as strace)
std::string format_pointer(uint64_t v);     // NULL or 0x...
std::string format_prot(uint64_t prot);     // PROT_READ|PROT_WRITE, PROT_NONE
std::string format_map_flags(uint64_t f);   // MAP_PRIVATE|MAP_ANONYMOUS
std::string format_int(int64_t v);
std::string format_madvise(uint64_t advice);  // MADV_DONTNEED
std::string format_clone_flags(uint64_t flags);  // CLONE_CHILD_CLEARTID|CLONE_CHILD_SETTID|SIGCHLD
// " = 0x7ffff7ffd000" / " = -1 ENOMEM (Cannot allocate memory)"
std::string format_result(const engine::SysResult& r, bool as_pointer);

// A buffer the way strace prints it: "text\n\177ELF"..., at most `limit` bytes
// (strace's -s 32), then "..." when there was more.
std::string format_string(const std::string& bytes, size_t limit);
std::string format_open_flags(uint64_t flags);   // O_RDWR|O_CREAT|O_TRUNC
std::string format_mode(uint64_t mode);          // 0644
std::string format_dirfd(int64_t fd);            // AT_FDCWD or the number
std::string format_whence(uint64_t whence);      // SEEK_SET
std::string format_stat(uint32_t mode, uint64_t size);  // {st_mode=S_IFREG|0644, st_size=62, ...}
std::string format_msync_flags(uint64_t flags);  // MS_SYNC|MS_INVALIDATE
std::string format_mfd_flags(uint64_t flags);    // MFD_CLOEXEC
std::string format_mremap_flags(uint64_t flags); // MREMAP_MAYMOVE|MREMAP_FIXED
std::string format_mlock2_flags(uint64_t flags);  // MLOCK_ONFAULT
std::string format_mlockall_flags(uint64_t flags); // MCL_CURRENT|MCL_FUTURE

// One line of `hexdump -C`: the address, up to 16 bytes in two groups of 8, the text.
std::string format_hexdump_line(uint64_t addr, const uint8_t* bytes, size_t n);
// One decoded /proc/PID/pagemap entry: "addr  raw  present exclusive pfn=0x53".
// `mapped` tells "not present" (in a VMA) from "not mapped" for an absent page.
std::string format_pagemap_entry(uint64_t addr, uint64_t entry, bool mapped);

// What a frame is, in a few lines: its number and physical address, who owns it and
// why, refcount/mapcount/flags, and (with `mappers`) every pid and address mapping it.
// Where a frame stands for reclaim: its LRU list and place from the tail, its swap slot.
std::vector<std::string> describe_frame_reclaim(const engine::Kernel& k, engine::Pfn pfn);
std::vector<std::string> describe_frame(const engine::Kernel& k, engine::Pfn pfn,
                                        const std::vector<engine::Kernel::Mapper>* mappers);
// A page as `hexdump -C` prints it, addresses from `base`: identical lines after the
// first squeezed to "*", the address past the end last. Empty contents are all zeros.
std::vector<std::string> hexdump_page(const engine::PageData& data, uint64_t base);

// A string's contents for a JSON string literal (quotes, backslashes, control bytes).
std::string json_escape(std::string_view s);

// Looks up a constant: PROT_*, MAP_*, NULL.
std::optional<uint64_t> constant_value(std::string_view name);
// A swap size: "16M", "512K", a number of bytes, or "off"/"0"; in pages, at most
// 256 MiB, a whole number of pages. nullopt when it is none of those.
std::optional<uint64_t> parse_swap_size(const std::string& s);
std::vector<std::string> constant_names();
// A candidate that word is probably a typo of ("MAP_PRIVTE" -> "MAP_PRIVATE").
std::optional<std::string> closest(std::string_view word, const std::vector<std::string>& candidates);

// One line describing an event for the console, or nullopt for events the console
// does not print (frame and PTE bookkeeping, shown by the panels instead).
std::optional<std::string> format_event(const engine::Event& e, const engine::Kernel& k);
// The events format_event leaves out (frames, PTEs, VMAs, page tables, page cache).
std::optional<std::string> format_event_detail(const engine::Event& e, const engine::Kernel& k);

}  // namespace vmplay::shell

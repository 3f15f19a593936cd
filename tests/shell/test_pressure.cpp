// The shell's side of memory pressure: config swap / overcommit (live sysctls), the
// /proc files, free, the note that explains an overcommit ENOMEM, and the summary
// of a line that faults in hundreds of pages.
#include <doctest/doctest.h>

#include "shell/session.h"

using namespace vmplay::shell;

namespace {
Output run(Session& s, std::string_view line) {
  Output o = s.exec(line);
  INFO(line);
  REQUIRE(o.ok);
  REQUIRE(s.kernel().check_invariants().empty());
  return o;
}
std::string text(Session& s, std::string_view line) { return run(s, line).text(); }
}  // namespace

TEST_CASE("pressure: config swap restarts the machine with a swap file that /proc/swaps and free show") {
  Session s;
  CHECK(text(s, "cat /proc/swaps") == "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
  CHECK(text(s, "config swap 2M") == "machine reset with swap 2M\n");
  CHECK(s.kernel().swap().total() == 511);  // 512 pages, the first is the header
  CHECK(text(s, "cat /proc/swaps") ==
        "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
        "/swapfile                               file\t\t2044\t\t0\t\t-2\n");
  std::string free = text(s, "free");
  CHECK(free.find("\nSwap:           2044           0        2044\n") != std::string::npos);
  std::string config = text(s, "config");
  CHECK(config.find("swap 2048K (511 slots after the header page)\n") != std::string::npos);
  // KEY=VALUE works too; off removes it.
  run(s, "config swap=off");
  CHECK(s.kernel().swap().total() == 0);
  CHECK(text(s, "config").find("swap off\n") != std::string::npos);
}

TEST_CASE("pressure: config overcommit changes the running machine, is a step of the timeline, and undo restores it") {
  Session s;
  run(s, "x = 7");
  CHECK(text(s, "cat /proc/sys/vm/overcommit_memory") == "0\n");
  std::string note = text(s, "config overcommit 2");
  CHECK(note.rfind("vm.overcommit_memory = 2 (CommitLimit ", 0) == 0);
  CHECK(s.variables().at("x") == 7);  // not a reset
  CHECK(text(s, "cat /proc/sys/vm/overcommit_memory") == "2\n");
  CHECK(s.kernel().config().overcommit_memory == 2);
  run(s, "config overcommit_ratio=80");
  CHECK(text(s, "cat /proc/sys/vm/overcommit_ratio") == "80\n");
  CHECK(s.kernel().commit_limit() == s.kernel().phys().managed() * 80 / 100);
  run(s, "undo");
  run(s, "undo");
  CHECK(s.kernel().config().overcommit_memory == 0);
  CHECK(text(s, "cat /proc/sys/vm/overcommit_memory") == "0\n");
  // script() keeps the settings a reset keeps.
  run(s, "config overcommit 1");
  run(s, "reset");
  CHECK(s.kernel().config().overcommit_memory == 1);
  CHECK(s.script() == "config overcommit 1\n");
}

TEST_CASE("pressure: an ENOMEM from the overcommit policy says why") {
  Session s;
  Output o = run(s, "a = mmap(NULL, 64M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[0].text.find("= -1 ENOMEM (Cannot allocate memory)") != std::string::npos);
  CHECK(o.lines[1].text ==
        "note: overcommit mode 0 refuses a charge of 65536 kB, more than RAM + swap (4056 kB); MAP_NORESERVE, config "
        "overcommit 1 or more ram/swap would allow it");
  // An ENOMEM for another reason (no room in the address space) has no such note.
  o = run(s, "mmap(NULL, 0x800000000000, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  CHECK(o.lines.size() == 1);
  run(s, "config overcommit 2");
  o = run(s, "mmap(NULL, 4M, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0)");
  REQUIRE(o.lines.size() == 2);
  CHECK(o.lines[1].text.rfind("note: overcommit mode 2: Committed_AS ", 0) == 0);
}

TEST_CASE("pressure: /proc/vmstat, /proc/meminfo and oom_score agree with the kernel") {
  Session s;
  run(s, "config swap 1M");
  run(s, "p = mmap(NULL, 3840K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  Output o = run(s, "touch(p, 3840K, \"w\")");
  // The first 8 faults, then one line for the rest, by kind.
  size_t faults = 0;
  bool summary = false, kswapd = false;
  for (const auto& l : o.lines) {
    faults += l.text.rfind("--- page fault:", 0) == 0;
    summary |= l.text == "--- and 952 more page faults (952 do_anonymous_page); config verbosity all lists each ---";
    kswapd |= l.text.rfind("--- kswapd: ", 0) == 0;
  }
  CHECK(faults == 8);
  CHECK(summary);
  CHECK(kswapd);
  // The timeline's step for that line carries the reclaim and swap traffic.
  const TimelineEntry& step = s.timeline().back();
  // touch "w" leaves the bytes as they were: zeros, which swap notes without writing
  // (swpout_zero); the program's own written pages are really written (pswpout).
  const vmplay::engine::VmEvents& vm = s.kernel().vm_events();
  CHECK(step.swap_outs == vm.swpout_zero + vm.pswpout);
  CHECK(vm.swpout_zero > 100);
  CHECK(step.reclaimed >= step.swap_outs);
  CHECK(step.swap_used == s.kernel().swap().used());
  CHECK(step.oom_kills == 0);
  run(s, "p[0]");
  CHECK(s.timeline().back().swap_ins == 1);
  CHECK(s.timeline().back().faults_major == s.timeline()[s.timeline().size() - 2].faults_major + 1);
  std::string vmstat = text(s, "cat /proc/vmstat");
  CHECK(vmstat.rfind("nr_free_pages " + std::to_string(s.kernel().phys().free_count()) + "\n", 0) == 0);
  CHECK(vmstat.find("\nswpout_zero " + std::to_string(s.kernel().vm_events().swpout_zero) + "\n") != std::string::npos);
  std::string meminfo = text(s, "cat /proc/meminfo");
  char want[64];
  std::snprintf(want, sizeof want, "\nSwapFree:       %8llu kB\n",
                static_cast<unsigned long long>(s.kernel().swap().free() * 4));
  CHECK(meminfo.find(want) != std::string::npos);
  CHECK(text(s, "cat /proc/self/oom_score") == std::to_string(*s.kernel().oom_score(1)) + "\n");
  CHECK(*s.kernel().oom_score(1) > 500);  // most of RAM and swap
  // With verbosity all, every fault is listed.
  run(s, "config verbosity all");
  run(s, "q = mmap(NULL, 128K, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  o = run(s, "touch(q, 128K, \"r\")");
  faults = 0;
  for (const auto& l : o.lines) faults += l.text.rfind("--- page fault:", 0) == 0;
  CHECK(faults == 32);
}

TEST_CASE("pressure: walk and frames explain a swapped-out page and a page in the swap cache") {
  Session s;
  run(s, "config swap 1M");
  run(s, "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
  run(s, "memset(p, 0x41, 8192)");
  run(s, "madvise(p, 8192, MADV_PAGEOUT)");
  std::string walk = text(s, "walk p");
  // The PTE line: the raw entry, then what it means (slot 1; written, still cached).
  size_t at = walk.find("  PTE[");
  REQUIRE(at != std::string::npos);
  std::string pte = walk.substr(at, walk.find('\n', at) - at);
  CHECK(pte.find("swap entry: type 0, offset 1 (exclusive), in the swap cache as frame 0x") != std::string::npos);
  CHECK(pte.find("-> frame") == std::string::npos);
  const uint64_t cached = s.kernel().swap().slot(1).cache;
  REQUIRE(cached != vmplay::engine::kNoFrame);
  char cmd[32];
  std::snprintf(cmd, sizeof cmd, "frames 0x%llx", static_cast<unsigned long long>(cached));
  std::string frame = text(s, cmd);
  CHECK(frame.find("swapcache") != std::string::npos);
  CHECK(frame.find("\nin the swap cache for swap slot 1\n") != std::string::npos);
  CHECK(frame.find("\nmapped by no page table\n") != std::string::npos);
}

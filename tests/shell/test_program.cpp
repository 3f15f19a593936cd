// The default session: pid 1 runs /home/user/a.out, started as on this machine.
// Addresses and maps below were measured on Linux 6.18 (setarch -R) with a small
// gcc -O2 program that calls printf (probes p4 and p12).
#include <doctest/doctest.h>

#include "shell/session.h"

using namespace vmplay::shell;

namespace {
std::string run(Session& s, std::string_view line) {
  Output o = s.exec(line);
  REQUIRE(o.ok);
  REQUIRE(s.kernel().check_invariants().empty());
  return o.text();
}
}  // namespace

TEST_CASE("program: the address space at main(), line for line as measured") {
  Session s;
  CHECK(s.lines_run() == 0);
  CHECK(s.variables().empty());
  CHECK(run(s, "cat /proc/self/maps") ==
        "555555554000-555555555000 r--p 00000000 fe:00 10952816                   /home/user/a.out\n"
        "555555555000-555555556000 r-xp 00001000 fe:00 10952816                   /home/user/a.out\n"
        "555555556000-555555557000 r--p 00002000 fe:00 10952816                   /home/user/a.out\n"
        "555555557000-555555558000 r--p 00002000 fe:00 10952816                   /home/user/a.out\n"
        "555555558000-555555559000 rw-p 00003000 fe:00 10952816                   /home/user/a.out\n"
        "555555559000-55555557a000 rw-p 00000000 00:00 0                          [heap]\n"
        "7ffff7dcf000-7ffff7dd2000 rw-p 00000000 00:00 0 \n"
        "7ffff7dd2000-7ffff7df8000 r--p 00000000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffff7df8000-7ffff7f4e000 r-xp 00026000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffff7f4e000-7ffff7fa1000 r--p 0017c000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffff7fa1000-7ffff7fa5000 r--p 001cf000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffff7fa5000-7ffff7fa7000 rw-p 001d3000 fe:00 332835                     /usr/lib/x86_64-linux-gnu/libc.so.6\n"
        "7ffff7fa7000-7ffff7fb4000 rw-p 00000000 00:00 0 \n"
        "7ffff7fc0000-7ffff7fc2000 rw-p 00000000 00:00 0 \n"
        "7ffff7fc2000-7ffff7fc6000 r--p 00000000 00:00 0                          [vvar]\n"
        "7ffff7fc6000-7ffff7fc8000 r--p 00000000 00:00 0                          [vvar_vclock]\n"
        "7ffff7fc8000-7ffff7fca000 r-xp 00000000 00:00 0                          [vdso]\n"
        "7ffff7fca000-7ffff7fcb000 r--p 00000000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7fcb000-7ffff7ff1000 r-xp 00001000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7ff1000-7ffff7ffb000 r--p 00027000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7ffb000-7ffff7ffd000 r--p 00031000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffff7ffd000-7ffff7fff000 rw-p 00033000 fe:00 332383                     /usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2\n"
        "7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n"
        "ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0                  [vsyscall]\n");
  // RELRO regions that relocation wrote keep VM_ACCOUNT after mprotect (measured: "ac").
  std::string smaps = run(s, "cat /proc/self/smaps");
  CHECK(smaps.find("7ffff7fa1000-7ffff7fa5000 r--p 001cf000") != std::string::npos);
  size_t relro = smaps.find("7ffff7fa1000-7ffff7fa5000");
  CHECK(smaps.find("VmFlags: rd mr mw me ac \n", relro) < smaps.find("7ffff7fa5000-", relro));
}

TEST_CASE("program: where anonymous mmaps land, THP alignment included (measured, probe p4)") {
  // 256 MiB of RAM: on the default 4 MiB machine overcommit mode 0 refuses the 4 MiB
  // mapping (more than RAM + swap), as Linux would.
  SessionConfig cfg;
  cfg.kernel.phys.frames = 65536;
  Session s(cfg);
  const char* sizes[] = {"0x200000", "0x400000", "0x201000", "0x100000", "0x2000", "0x1ff000", "0x300000"};
  const char* want[] = {"0x7ffff7a00000", "0x7ffff7600000", "0x7ffff73ff000", "0x7ffff7ccf000",
                        "0x7ffff7fbe000", "0x7ffff7200000", "0x7ffff6f00000"};
  for (size_t i = 0; i < std::size(sizes); ++i) {
    std::string out = run(s, std::string("mmap(NULL, ") + sizes[i] +
                                 ", PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)");
    INFO(sizes[i]);
    CHECK(out.substr(out.rfind(" = ") + 3) == std::string(want[i]) + "\n");
  }
  std::string maps = run(s, "cat /proc/self/maps");
  CHECK(maps.find("7ffff6f00000-7ffff7c00000 rw-p 00000000 00:00 0 \n") != std::string::npos);
  CHECK(maps.find("7ffff7ccf000-7ffff7dd2000 rw-p 00000000 00:00 0 \n") != std::string::npos);
  CHECK(maps.find("7ffff7fbe000-7ffff7fc2000 rw-p 00000000 00:00 0 \n") != std::string::npos);
}

TEST_CASE("program: reset brings the same image back; brk and execve in strace form") {
  Session s;
  CHECK(run(s, "brk(NULL)") == "brk(NULL) = 0x55555557a000\n");
  CHECK(run(s, "brk(0x55555557b000)") == "brk(0x55555557b000) = 0x55555557b000\n");
  Session fresh;
  run(fresh, "reset");
  run(s, "reset");
  CHECK(s.state_json() == fresh.state_json());
  Output o = s.exec("execve(\"/etc/hosts\", [\"/etc/hosts\"], 0x7fffffffe7c8 /* 37 vars */)");
  CHECK(o.lines[0].text == "execve(\"/etc/hosts\", [\"/etc/hosts\"], NULL) = -1 EACCES (Permission denied)");
}

TEST_CASE("program: mremap moves a blocked mapping to the highest gap (measured, probe p8)") {
  Session s;
  run(s, "p = mmap(0x800000000, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)");
  run(s, "p[0] = 'A'");
  run(s, "mmap(0x800004000, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0)");
  CHECK(run(s, "mremap(p, 16384, 32768, 0)") ==
        "mremap(0x800000000, 16384, 32768, 0) = -1 ENOMEM (Cannot allocate memory)\n");
  CHECK(run(s, "q = mremap(p, 16384, 32768, MREMAP_MAYMOVE)") ==
        "mremap(0x800000000, 16384, 32768, MREMAP_MAYMOVE) = 0x7ffff7fb8000\n");
  CHECK(run(s, "q[0]") == "q[0] = 65 'A'\n");
  // Not merged with the loader's pages above it: a written VMA keeps its pgoff.
  std::string maps = run(s, "cat /proc/self/maps");
  CHECK(maps.find("7ffff7fb8000-7ffff7fc0000 rw-p 00000000 00:00 0 \n7ffff7fc0000-7ffff7fc2000 rw-p") != std::string::npos);
}

TEST_CASE("program: with ASLR the loader's replay follows the random layout") {
  SessionConfig cfg;
  cfg.kernel.aslr_seed = 7;
  Session s(cfg);
  std::string maps = run(s, "cat /proc/self/maps");
  CHECK(maps.find("[heap]") != std::string::npos);
  CHECK(maps.find("/usr/lib/x86_64-linux-gnu/libc.so.6") != std::string::npos);
  CHECK(maps.find("555555554000-") == std::string::npos);
  Session again(cfg);
  CHECK(run(again, "cat /proc/self/maps") == maps);
  CHECK(again.state_json() == s.state_json());
}

#include "engine/events.h"

namespace vmplay::engine {

const char* fault_kind_name(FaultKind k) {
  switch (k) {
    case FaultKind::None: return "none";
    case FaultKind::AnonZeroPage: return "do_anonymous_page";
    case FaultKind::AnonNewPage: return "do_anonymous_page";
    case FaultKind::WpCopy: return "wp_page_copy";
    case FaultKind::WpReuse: return "wp_page_reuse";
    case FaultKind::BadArea: return "bad_area";
    case FaultKind::AccessError: return "bad_area_access_error";
    case FaultKind::Oom: return "VM_FAULT_OOM";
    case FaultKind::FileReadMajor: return "do_read_fault";
    case FaultKind::FileReadMinor: return "do_read_fault";
    case FaultKind::FileCow: return "do_cow_fault";
    case FaultKind::FileShared: return "do_shared_fault";
    case FaultKind::WpShared: return "wp_page_shared";
    case FaultKind::SigBus: return "VM_FAULT_SIGBUS";
    case FaultKind::Special: return "special_mapping_fault";
    case FaultKind::SwapIn: return "do_swap_page";
  }
  return "?";
}

const char* signal_name(int signo) {
  switch (signo) {
    case kSigBus: return "SIGBUS";
    case kSigKill: return "SIGKILL";
    case kSigTerm: return "SIGTERM";
    case kSigSegv: return "SIGSEGV";
  }
  return "SIG?";
}

const char* si_code_name(int signo, int code) {
  if (signo == kSigSegv) {
    if (code == kSegvMapErr) return "SEGV_MAPERR";
    if (code == kSegvAccErr) return "SEGV_ACCERR";
  }
  if (signo == kSigBus && code == kBusAdrErr) return "BUS_ADRERR";
  if (code == 0) return "SI_USER";
  if (code == 0x80) return "SI_KERNEL";
  return "?";
}

}  // namespace vmplay::engine

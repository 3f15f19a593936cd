#include "engine/errno.h"

namespace vmplay::engine {

const char* errno_name(Errno e) {
  switch (e) {
    case Errno::None: return "0";
    case Errno::Perm: return "EPERM";
    case Errno::NoEnt: return "ENOENT";
    case Errno::Srch: return "ESRCH";
    case Errno::Intr: return "EINTR";
    case Errno::Io: return "EIO";
    case Errno::NoExec: return "ENOEXEC";
    case Errno::BadF: return "EBADF";
    case Errno::Child: return "ECHILD";
    case Errno::Again: return "EAGAIN";
    case Errno::NoMem: return "ENOMEM";
    case Errno::Acces: return "EACCES";
    case Errno::Fault: return "EFAULT";
    case Errno::Busy: return "EBUSY";
    case Errno::Exist: return "EEXIST";
    case Errno::NoDev: return "ENODEV";
    case Errno::Inval: return "EINVAL";
    case Errno::NFile: return "ENFILE";
    case Errno::MFile: return "EMFILE";
    case Errno::FBig: return "EFBIG";
    case Errno::NoSpc: return "ENOSPC";
    case Errno::SPipe: return "ESPIPE";
    case Errno::NoSys: return "ENOSYS";
    case Errno::Overflow: return "EOVERFLOW";
    case Errno::OpNotSupp: return "EOPNOTSUPP";
  }
  return "E?";
}

const char* errno_message(Errno e) {
  switch (e) {
    case Errno::None: return "Success";
    case Errno::Perm: return "Operation not permitted";
    case Errno::NoEnt: return "No such file or directory";
    case Errno::Srch: return "No such process";
    case Errno::Intr: return "Interrupted system call";
    case Errno::Io: return "Input/output error";
    case Errno::NoExec: return "Exec format error";
    case Errno::BadF: return "Bad file descriptor";
    case Errno::Child: return "No child processes";
    case Errno::Again: return "Resource temporarily unavailable";
    case Errno::NoMem: return "Cannot allocate memory";
    case Errno::Acces: return "Permission denied";
    case Errno::Fault: return "Bad address";
    case Errno::Busy: return "Device or resource busy";
    case Errno::Exist: return "File exists";
    case Errno::NoDev: return "No such device";
    case Errno::Inval: return "Invalid argument";
    case Errno::NFile: return "Too many open files in system";
    case Errno::MFile: return "Too many open files";
    case Errno::FBig: return "File too large";
    case Errno::NoSpc: return "No space left on device";
    case Errno::SPipe: return "Illegal seek";
    case Errno::NoSys: return "Function not implemented";
    case Errno::Overflow: return "Value too large for defined data type";
    case Errno::OpNotSupp: return "Operation not supported";
  }
  return "Unknown error";
}

}  // namespace vmplay::engine

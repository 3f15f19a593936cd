#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <string.h>
#include <fcntl.h>
int main(void) {
  char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  p[0] = 'A';
  mprotect(p + 4096, 4096, PROT_READ);
  int fd = open("/etc/hosts", O_RDONLY);
  char *f = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
  (void)f[0];
  close(fd);
  pid_t c = fork();
  if (c == 0) { p[0] = 'B'; munmap(p, 8192); _exit(0); }
  waitpid(c, NULL, 0);
  munmap(f, 4096);
  munmap(p, 8192);
  return 0;
}

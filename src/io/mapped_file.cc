#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "encore/error.h"

namespace encore::io {

namespace {

struct Mapping {
  void* addr = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (addr && size) munmap(addr, size);
  }
};

}  // namespace

Bytes map_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, ": cannot open: ", std::strerror(errno));
  struct stat st{};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    fail(path, ": not a regular file");
  }
  auto m = std::make_shared<Mapping>();
  m->size = static_cast<size_t>(st.st_size);
  if (m->size > 0) {
    m->addr = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->addr == MAP_FAILED) {
      m->addr = nullptr;
      const int err = errno;
      ::close(fd);
      fail(path, ": mmap failed: ", std::strerror(err));
    }
  }
  ::close(fd);
  Bytes b;
  b.data = static_cast<const unsigned char*>(m->addr);
  b.size = m->size;
  b.owner = std::shared_ptr<const void>(m, m->addr);
  return b;
}

Bytes borrow(const void* data, size_t size) {
  Bytes b;
  b.data = static_cast<const unsigned char*>(data);
  b.size = size;
  return b;
}

}  // namespace encore::io

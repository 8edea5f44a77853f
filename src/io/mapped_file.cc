#include "io/mapped_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
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
  if (fd < 0) fail_path(errno != ENOENT, path, ": cannot open: ", std::strerror(errno));
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
  b.mapped = true;
  return b;
}

namespace {

// The whole pages of [p, p + n) when that range lies inside the mapping `b`.
bool page_range(const Bytes& b, const void* p, size_t n, uintptr_t* begin, uintptr_t* end) {
  const auto* c = static_cast<const unsigned char*>(p);
  if (!b.mapped || n == 0 || c < b.data || c > b.data + b.size || n > static_cast<size_t>(b.data + b.size - c))
    return false;
  static const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  *begin = (reinterpret_cast<uintptr_t>(c) + page - 1) & ~(page - 1);
  *end = (reinterpret_cast<uintptr_t>(c) + n) & ~(page - 1);
  return *end > *begin;
}

}  // namespace

void release_pages(const Bytes& b, const void* p, size_t n) {
  uintptr_t begin, end;
  if (page_range(b, p, n, &begin, &end)) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

void populate_pages(const Bytes& b, const void* p, size_t n) {
#ifdef MADV_POPULATE_READ
  uintptr_t begin, end;
  if (page_range(b, p, n, &begin, &end)) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_POPULATE_READ);
#else
  (void)b, (void)p, (void)n;
#endif
}

Bytes borrow(const void* data, size_t size) {
  Bytes b;
  b.data = static_cast<const unsigned char*>(data);
  b.size = size;
  return b;
}

}  // namespace encore::io

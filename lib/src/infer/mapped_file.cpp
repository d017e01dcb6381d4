#include "infer/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace modelswarm::infer {

Result<std::shared_ptr<MappedFile>> MappedFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error::io(path.string() + ": cannot open: " + std::strerror(errno));
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return Error::io(path.string() + ": cannot stat: " + std::strerror(e));
  }
  if (st.st_size <= 0) {
    ::close(fd);
    return Error::format(path.string() + ": file is empty");
  }
  void* p = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_SHARED, fd, 0);
  int e = errno;
  ::close(fd);  // the mapping keeps the file referenced
  if (p == MAP_FAILED) return Error::io(path.string() + ": cannot map: " + std::strerror(e));
  return std::shared_ptr<MappedFile>(new MappedFile(static_cast<const uint8_t*>(p),
                                                    static_cast<uint64_t>(st.st_size)));
}

MappedFile::~MappedFile() { munmap(const_cast<uint8_t*>(data_), size_); }

}  // namespace modelswarm::infer

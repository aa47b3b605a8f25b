#include "interpcert/atomic_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace interpcert {

void write_file_atomically(const std::string& path, std::string_view content) {
  std::string tmpl = path + ".tmp.XXXXXX";
  std::vector<char> name(tmpl.begin(), tmpl.end());
  name.push_back('\0');
  int fd = mkstemp(name.data());
  if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + std::strerror(errno));
  auto fail = [&](const char* what) {
    int e = errno;
    close(fd);
    unlink(name.data());
    throw std::runtime_error(path + ": " + what + ": " + std::strerror(e));
  };
  std::size_t off = 0;
  while (off < content.size()) {
    ssize_t w = write(fd, content.data() + off, content.size() - off);
    if (w < 0) {
      if (errno == EINTR) continue;
      fail("write failed");
    }
    off += static_cast<std::size_t>(w);
  }
  if (fchmod(fd, 0644) != 0) fail("chmod failed");
  if (fsync(fd) != 0) fail("fsync failed");
  if (close(fd) != 0) {
    unlink(name.data());
    throw std::runtime_error(path + ": close failed");
  }
  if (std::rename(name.data(), path.c_str()) != 0) {
    int e = errno;
    unlink(name.data());
    throw std::runtime_error(path + ": rename failed: " + std::strerror(e));
  }
}

}  // namespace interpcert

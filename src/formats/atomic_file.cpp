#include "interpcert/atomic_file.hpp"

#include "interpcert/errors.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <algorithm>

namespace interpcert {
namespace {

// The temporaries in flight, for the signal handler. Fixed storage and lock-free atomics only:
// the handler may run at any moment on any thread, so it can neither allocate nor lock.
constexpr int kSlots = 64;
constexpr std::size_t kMaxPath = 4096;
struct Slot {
  std::atomic<int> state{0};  // 0 free, 1 being filled, 2 holds a temporary's path
  char path[kMaxPath];
};
Slot g_slots[kSlots];
static_assert(std::atomic<int>::is_always_lock_free);

const int kSignals[] = {SIGINT, SIGTERM, SIGHUP};

extern "C" void remove_temporaries(int sig) {
  for (auto& s : g_slots)
    if (s.state.load() == 2) unlink(s.path);  // async-signal-safe
  // SA_RESETHAND restored the default action; the signal is blocked until we return, then
  // delivered again and ends the process as it would have without us.
  raise(sig);
}

// Installs the handler for each signal whose action is the default (ending the process): a
// program that ignores a signal (nohup) or handles it itself keeps its choice. Checked at every
// stage(), so a child process that restores the defaults gets the handler again.
void install_handler() {
  for (int sig : kSignals) {
    struct sigaction old {};
    if (sigaction(sig, nullptr, &old) != 0 || (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL) continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    sigaction(sig, &sa, nullptr);
  }
}

// Registers a temporary for removal on a signal; -1 if the registry is full or the path too
// long (then a signal may leave it behind, as before).
int register_temporary(const char* path) {
  std::size_t n = std::strlen(path);
  if (n >= kMaxPath) return -1;
  for (int i = 0; i < kSlots; ++i) {
    int expected = 0;
    if (!g_slots[i].state.compare_exchange_strong(expected, 1)) continue;
    std::memcpy(g_slots[i].path, path, n + 1);
    g_slots[i].state.store(2);
    return i;
  }
  return -1;
}

void unregister_temporary(int slot) {
  if (slot >= 0) g_slots[slot].state.store(0);
}

// Blocks the signals above while a temporary is created and registered (or renamed and
// unregistered), so that no signal falls between the two.
class SignalsBlocked {
 public:
  SignalsBlocked() {
    sigset_t set;
    sigemptyset(&set);
    for (int sig : kSignals) sigaddset(&set, sig);
    pthread_sigmask(SIG_BLOCK, &set, &old_);
  }
  ~SignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_, nullptr); }

 private:
  sigset_t old_;
};

}  // namespace

StagedOutputs::~StagedOutputs() {
  for (auto& s : staged_) {
    SignalsBlocked blocked;
    unlink(s.temp.c_str());
    unregister_temporary(s.slot);
  }
}

namespace {

// The staged temporary as a TextOutput: writes go through a buffer to the file descriptor.
class FileOutput final : public TextOutput {
 public:
  FileOutput(int fd, const std::string& path) : fd_(fd), path_(path) { buffer_.reserve(kBuffer); }
  void write(std::string_view text) override {
    if (buffer_.size() + text.size() > kBuffer) {
      flush();
      if (text.size() >= kBuffer) {  // large pieces go straight to the file
        write_all(text);
        written_ += text.size();
        return;
      }
    }
    buffer_ += text;
  }
  std::uint64_t size() const override { return written_ + buffer_.size(); }
  void overwrite(std::uint64_t offset, std::string_view text) override {
    if (offset + text.size() > size()) throw std::logic_error("TextOutput::overwrite past the end");
    for (std::size_t i = 0; i < text.size(); ++i) {  // bytes still in the buffer: there
      std::uint64_t at = offset + i;
      if (at >= written_) buffer_[static_cast<std::size_t>(at - written_)] = text[i];
    }
    if (offset >= written_) return;
    std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(text.size(), written_ - offset));
    for (std::size_t off = 0; off < n;) {  // bytes already in the file: pwrite
      ssize_t w = pwrite(fd_, text.data() + off, n - off, static_cast<off_t>(offset + off));
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("write failed");
      }
      off += static_cast<std::size_t>(w);
    }
  }
  void flush() {
    write_all(buffer_);
    written_ += buffer_.size();
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kBuffer = 1 << 20;
  void write_all(std::string_view text) {
    for (std::size_t off = 0; off < text.size();) {
      ssize_t w = ::write(fd_, text.data() + off, text.size() - off);
      if (w < 0) {
        if (errno == EINTR) continue;
        fail("write failed");
      }
      off += static_cast<std::size_t>(w);
    }
  }
  [[noreturn]] void fail(const char* what) const { throw std::runtime_error(path_ + ": " + what + ": " + std::strerror(errno)); }
  int fd_;
  const std::string& path_;
  std::string buffer_;
  std::uint64_t written_ = 0;
};

}  // namespace

void StagedOutputs::stage(const std::string& path, std::string_view content) {
  stage(path, [&](TextOutput& out) { out.write(content); });
}

void StagedOutputs::stage(const std::string& path, const std::function<void(TextOutput&)>& produce) {
  // rename() would replace a special file (run as root, "--out /dev/null" replaced the device).
  if (struct stat st {}; stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
    throw std::runtime_error(path + ": exists and is not a regular file (a device or a pipe): refusing to replace it");
  install_handler();
  std::string tmpl = path + ".tmp.XXXXXX";
  int fd;
  {
    SignalsBlocked blocked;
    fd = mkstemp(tmpl.data());
    if (fd < 0) throw std::runtime_error(path + ": cannot create a temporary file: " + std::strerror(errno));
    staged_.push_back({path, tmpl, register_temporary(tmpl.c_str())});
  }
  // On failure (here or in `produce`) the descriptor is closed and the destructor removes the
  // temporary.
  struct Closer {
    int fd;
    ~Closer() {
      if (fd >= 0) close(fd);
    }
  } closer{fd};
  auto fail = [&](const char* what) { throw std::runtime_error(path + ": " + what + ": " + std::strerror(errno)); };
  FileOutput out(fd, path);
  produce(out);
  out.flush();
  if (fchmod(fd, 0644) != 0) fail("chmod failed");
  if (fsync(fd) != 0) fail("fsync failed");
  closer.fd = -1;
  if (close(fd) != 0) fail("close failed");
}

void StagedOutputs::commit() {
  while (!staged_.empty()) {
    Staged& s = staged_.front();
    SignalsBlocked blocked;
    if (std::rename(s.temp.c_str(), s.target.c_str()) != 0)
      throw std::runtime_error(s.target + ": rename failed: " + std::strerror(errno));
    unregister_temporary(s.slot);
    staged_.erase(staged_.begin());
  }
}

void write_file_atomically(const std::string& path, std::string_view content) {
  StagedOutputs out;
  out.stage(path, content);
  out.commit();
}

void write_file_atomically(const std::string& path, const std::function<void(TextOutput&)>& produce) {
  StagedOutputs out;
  out.stage(path, produce);
  out.commit();
}

void check_output_paths(const std::vector<std::pair<std::string, std::string>>& outputs,
                        const std::vector<std::string>& inputs) {
  namespace fs = std::filesystem;
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    const auto& [option, path] = outputs[i];
    if (path.empty()) continue;
    const std::string shown = clip_for_message(path, 200);
    struct stat out {};
    if (stat(path.c_str(), &out) == 0) {
      if (S_ISDIR(out.st_mode)) throw InputError(option, "", shown + " is a folder, not a file");
      if (!S_ISREG(out.st_mode))
        throw InputError(option, "", shown + " exists and is not a regular file (a device or a pipe): outputs are "
                                             "written to a temporary file renamed onto the target, which would replace it");
      for (const auto& in : inputs) {
        struct stat st {};
        if (stat(in.c_str(), &st) == 0 && st.st_dev == out.st_dev && st.st_ino == out.st_ino)
          throw InputError(option, "", shown + " is the input file " + clip_for_message(in, 200) +
                                           " (same device and inode): refusing to overwrite an input");
      }
    }
    fs::path folder = fs::path(path).parent_path();
    struct stat dir {};
    if (!folder.empty() && (stat(folder.c_str(), &dir) != 0 || !S_ISDIR(dir.st_mode)))
      throw InputError(option, "", shown + ": " + clip_for_message(folder.string(), 200) + " is not an existing folder");
    std::error_code ec;
    fs::path mine = fs::weakly_canonical(path, ec);
    for (std::size_t k = 0; k < i && !ec; ++k) {
      if (outputs[k].second.empty()) continue;
      std::error_code ec2;
      if (fs::weakly_canonical(outputs[k].second, ec2) == mine && !ec2)
        throw InputError(option, "", shown + " is also the output of " + outputs[k].first + ": give each its own file");
    }
  }
}

}  // namespace interpcert

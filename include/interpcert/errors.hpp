// Errors that carry where they happened, and the exit statuses every command shares.
#pragma once

#include <stdexcept>
#include <string>

namespace interpcert {

/// Exit statuses: 0 success / claim holds, 1 claim refuted or impossible, 2 invalid input,
/// 3 outside the theorem's hypotheses (nothing proved either way).
enum ExitStatus : int { kExitOk = 0, kExitRefuted = 1, kExitInvalidInput = 2, kExitOutsideTheorem = 3 };

/// Invalid input: names the file and the JSON path (RFC 6901 pointer, "" for the root).
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string json_path, const std::string& message);
  const std::string& file() const { return file_; }
  const std::string& json_path() const { return json_path_; }

 private:
  std::string file_, json_path_;
};

}  // namespace interpcert

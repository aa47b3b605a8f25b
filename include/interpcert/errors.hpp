// Errors that carry where they happened, and the exit statuses every command shares.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace interpcert {

/// Exit statuses: 0 success / claim holds, 1 claim refuted or impossible, 2 invalid input,
/// 3 outside the theorem's hypotheses (nothing proved either way).
enum ExitStatus : int { kExitOk = 0, kExitRefuted = 1, kExitInvalidInput = 2, kExitOutsideTheorem = 3 };

/// Input text echoed in a message (a token, a key, a JSON path), cut to about `max` bytes: the
/// start and the end, with the number of bytes left out between them. Every echo of input goes
/// through this, so a hostile file cannot flood the terminal (an unterminated 200 MB string, a
/// 10^5-deep path). Never splits a UTF-8 character.
std::string clip_for_message(std::string_view text, std::size_t max = 80);

/// Invalid input: names the file and the JSON path (RFC 6901 pointer, "" for the root). The
/// message shows both clipped (clip_for_message); file() and json_path() keep them whole.
class InputError : public std::runtime_error {
 public:
  InputError(std::string file, std::string json_path, const std::string& message);
  const std::string& file() const { return file_; }
  const std::string& json_path() const { return json_path_; }

 private:
  std::string file_, json_path_;
};

}  // namespace interpcert

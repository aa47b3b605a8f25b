#include "interpcert/errors.hpp"

namespace interpcert {
namespace {
bool utf8_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::string compose(const std::string& file, const std::string& path, const std::string& message) {
  std::string s = file.empty() ? std::string("<input>") : clip_for_message(file, 200);
  s += ": ";
  if (!path.empty()) s += "at " + clip_for_message(path) + ": ";
  return s + message;
}
}  // namespace

std::string clip_for_message(std::string_view text, std::size_t max) {
  if (max < 8) max = 8;
  if (text.size() <= max) return std::string(text);
  std::size_t head = max / 2, tail = text.size() - (max - head);
  while (head > 0 && utf8_continuation(text[head])) --head;
  while (tail < text.size() && utf8_continuation(text[tail])) ++tail;
  return std::string(text.substr(0, head)) + "[... " + std::to_string(tail - head) + " bytes ...]" +
         std::string(text.substr(tail));
}

InputError::InputError(std::string file, std::string json_path, const std::string& message)
    : std::runtime_error(compose(file, json_path, message)),
      file_(std::move(file)),
      json_path_(std::move(json_path)) {}

}  // namespace interpcert

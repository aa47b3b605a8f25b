#include "interpcert/errors.hpp"

namespace interpcert {
namespace {
std::string compose(const std::string& file, const std::string& path, const std::string& message) {
  std::string s = file.empty() ? std::string("<input>") : file;
  s += ": ";
  if (!path.empty()) s += "at " + path + ": ";
  return s + message;
}
}  // namespace

InputError::InputError(std::string file, std::string json_path, const std::string& message)
    : std::runtime_error(compose(file, json_path, message)),
      file_(std::move(file)),
      json_path_(std::move(json_path)) {}

}  // namespace interpcert

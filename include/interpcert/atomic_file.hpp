// Writing outputs all-or-nothing: a temporary file in the same folder, then rename.
#pragma once

#include <string>
#include <string_view>

namespace interpcert {

/// Writes `content` to `path` atomically (temporary file + fsync + rename). On failure no
/// partial file is left at `path`, and a std::runtime_error names the path.
void write_file_atomically(const std::string& path, std::string_view content);

}  // namespace interpcert

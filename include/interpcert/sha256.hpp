// SHA-256 digests (OpenSSL), the names certificates give datasets and models.
#pragma once

#include <string>
#include <string_view>

namespace interpcert {

/// SHA-256 of the bytes of `text`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view text);

}  // namespace interpcert

// SHA-256 digests (OpenSSL), the names certificates give datasets and models.
#pragma once

#include <string>
#include <string_view>

namespace interpcert {

/// SHA-256 of the bytes of `text`, as 64 lowercase hex digits.
std::string sha256_hex(std::string_view text);

/// Incremental SHA-256: the text is fed as it is produced and never held whole.
/// hex() of the concatenation of all update()s equals sha256_hex of it.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void update(std::string_view piece);
  /// Finishes: the digest as 64 lowercase hex digits (no update() after this).
  std::string hex();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace interpcert

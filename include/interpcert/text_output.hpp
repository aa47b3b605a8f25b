// Where a writer puts text it produces piece by piece (issue 13): a file being staged
// (atomic_file.hpp: written as produced, never held whole) or a string (tests, small outputs).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace interpcert {

class TextOutput {
 public:
  virtual ~TextOutput() = default;
  /// Appends `text`. May throw std::runtime_error (a file that cannot be written).
  virtual void write(std::string_view text) = 0;
  /// Bytes written so far.
  virtual std::uint64_t size() const = 0;
  /// Replaces the bytes [offset, offset + text.size()) written earlier (all before size()): a
  /// writer reserves a fixed-width field (a digest) and fills it in once it is known.
  virtual void overwrite(std::uint64_t offset, std::string_view text) = 0;
};

/// A TextOutput that keeps the text in a string.
class StringOutput final : public TextOutput {
 public:
  void write(std::string_view text) override { text_ += text; }
  std::uint64_t size() const override { return text_.size(); }
  void overwrite(std::uint64_t offset, std::string_view text) override {
    text_.replace(static_cast<std::size_t>(offset), text.size(), text);
  }
  std::string& text() { return text_; }

 private:
  std::string text_;
};

}  // namespace interpcert

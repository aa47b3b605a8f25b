// Runs the safetensors harness (fuzz_safetensors.cpp) without libFuzzer: every file given (or in a
// directory given, in name order), then
// seeded random corruptions of each (byte flips, deletions, insertions of JSON punctuation), so CI
// exercises the hostile paths in seconds. Prints the seed; exit 0 iff no input crashed or aborted.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

int main(int argc, char** argv) {
  const std::uint64_t seed = 20261128;
  const int mutations = 3000;
  std::mt19937_64 rng(seed);
  std::cout << "seed " << seed << ", " << mutations << " corruptions per file\n";
  std::vector<std::string> files;
  for (int a = 1; a < argc; ++a) {
    if (std::filesystem::is_directory(argv[a])) {
      std::vector<std::string> in_dir;
      for (const auto& e : std::filesystem::directory_iterator(argv[a])) in_dir.push_back(e.path().string());
      std::sort(in_dir.begin(), in_dir.end());
      files.insert(files.end(), in_dir.begin(), in_dir.end());
    } else {
      files.push_back(argv[a]);
    }
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      std::cerr << "cannot read " << file << "\n";
      return 2;
    }
    std::ostringstream s;
    s << in.rdbuf();
    const std::string good = s.str();
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(good.data()), good.size());
    for (int i = 0; i < mutations; ++i) {
      std::string b = good;
      const int edits = 1 + static_cast<int>(rng() % 3);
      for (int e = 0; e < edits && !b.empty(); ++e) {
        const std::size_t at = rng() % b.size();
        switch (rng() % 4) {
          case 0: b[at] = static_cast<char>(rng()); break;
          case 1: b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8))); break;
          case 2: b.erase(at, 1 + rng() % 4); break;
          default: b.insert(at, 1, "0123456789[]{},:\" -"[rng() % 19]); break;
        }
      }
      LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(b.data()), b.size());
    }
    std::cout << file << ": ok\n";
  }
  return 0;
}

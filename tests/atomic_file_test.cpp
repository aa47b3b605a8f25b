#include "interpcert/atomic_file.hpp"
#include "interpcert/errors.hpp"

#include <doctest/doctest.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <string>

using namespace interpcert;
namespace fs = std::filesystem;

namespace {

// A fresh folder under the system's temporary folder, removed at the end of the test.
struct TempDir {
  fs::path path;
  TempDir() {
    std::string t = (fs::temp_directory_path() / "atomic_file_test.XXXXXX").string();
    REQUIRE(mkdtemp(t.data()) != nullptr);
    path = t;
  }
  ~TempDir() { fs::remove_all(path); }
  std::string operator/(const std::string& name) const { return (path / name).string(); }
  // Names in the folder, sorted, separated by spaces.
  std::string listing() const {
    std::set<std::string> names;
    for (const auto& e : fs::directory_iterator(path)) names.insert(e.path().filename().string());
    std::string s;
    for (const auto& n : names) s += (s.empty() ? "" : " ") + n;
    return s;
  }
};

std::string read(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

TEST_CASE("atomic_file::StagedOutputs writes all outputs or none") {
  TempDir dir;
  SUBCASE("commit writes every output") {
    StagedOutputs out;
    out.stage(dir / "a", "A");
    out.stage(dir / "b", "B");
    CHECK(!fs::exists(dir / "a"));  // nothing at a target before commit
    out.commit();
    CHECK(read(dir / "a") == "A");
    CHECK(read(dir / "b") == "B");
    CHECK(dir.listing() == "a b");
  }
  SUBCASE("an output that cannot be staged leaves the earlier ones unwritten, and no temporaries") {
    std::ofstream(dir / "a") << "old";
    {
      StagedOutputs out;
      out.stage(dir / "a", "new");
      CHECK_THROWS_AS(out.stage(dir / "missing/b", "B"), std::runtime_error);
    }
    CHECK(read(dir / "a") == "old");
    CHECK(dir.listing() == "a");
  }
  SUBCASE("destroyed without commit: no temporaries, targets unchanged") {
    { StagedOutputs out; out.stage(dir / "a", "A"); }
    CHECK(dir.listing() == "");
  }
}

TEST_CASE("atomic_file::a produced output is the text its producer wrote, overwrites included, or nothing") {
  TempDir dir;
  const std::uint64_t seed = 1322;
  INFO("seed " << seed);
  std::mt19937_64 rng(seed);
  SUBCASE("pieces of every size around the 1 MiB buffer, overwrites in the file and in the buffer") {
    std::string expected;  // the reference: the same writes on a plain string
    write_file_atomically(dir / "p", [&](TextOutput& out) {
      const std::size_t sizes[] = {0, 1, 7, 4096, (1u << 20) - 1, 1u << 20, (1u << 20) + 1, 3u << 20};
      for (int k = 0; k < 40; ++k) {
        std::size_t n = rng() % 3 ? rng() % 70000 : sizes[rng() % std::size(sizes)];
        std::string piece(n, '\0');
        for (char& c : piece) c = static_cast<char>('a' + rng() % 26);
        out.write(piece);
        expected += piece;
        REQUIRE(out.size() == expected.size());
        if (!expected.empty() && rng() % 2) {  // anywhere: in the file, in the buffer, across both
          std::size_t at = rng() % expected.size();
          std::string patch(std::min<std::size_t>(rng() % 100, expected.size() - at), '#');
          out.overwrite(at, patch);
          expected.replace(at, patch.size(), patch);
        }
      }
      CHECK_THROWS_AS(out.overwrite(out.size(), "x"), std::logic_error);  // past the end
    });
    CHECK(expected.size() > (4u << 20));
    CHECK(read(dir / "p") == expected);
    CHECK(dir.listing() == "p");
  }
  SUBCASE("a producer that throws after megabytes leaves the target unchanged and no temporary") {
    std::ofstream(dir / "p") << "old";
    CHECK_THROWS_AS(write_file_atomically(dir / "p",
                                          [&](TextOutput& out) {
                                            out.write(std::string(3u << 20, 'x'));
                                            throw std::runtime_error("producer failed");
                                          }),
                    std::runtime_error);
    CHECK(read(dir / "p") == "old");
    CHECK(dir.listing() == "p");
  }
  SUBCASE("a string output keeps the same text") {
    StringOutput s;
    s.write("abcdef");
    s.overwrite(2, "XY");
    CHECK(s.text() == "abXYef");
    CHECK(s.size() == 6);
  }
}

TEST_CASE("atomic_file::StagedOutputs removes its temporaries on SIGTERM and SIGINT") {
  for (int sig : {SIGTERM, SIGINT}) {
    TempDir dir;
    pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      // The test runner handles these signals itself; a program's default is to end.
      for (int s : {SIGINT, SIGTERM, SIGHUP}) signal(s, SIG_DFL);
      StagedOutputs out;
      out.stage(dir / "a", "A");
      out.stage(dir / "b", std::string(1 << 20, 'b'));
      kill(getpid(), sig);  // as if the user pressed ^C or `kill` arrived mid-write
      _exit(0);             // not reached: the handler re-raises the signal
    }
    int status = 0;
    REQUIRE(waitpid(child, &status, 0) == child);
    CHECK(WIFSIGNALED(status));
    CHECK(WTERMSIG(status) == sig);
    CHECK(dir.listing() == "");
  }
}

TEST_CASE("atomic_file::check_output_paths refuses to overwrite inputs") {
  TempDir dir;
  std::ofstream(dir / "in.json") << "{}";
  CHECK_NOTHROW(check_output_paths({{"-o", dir / "out.json"}}, {dir / "in.json"}));  // not there yet
  CHECK_NOTHROW(check_output_paths({{"-o", ""}}, {dir / "in.json"}));                 // not given
  CHECK_THROWS_WITH_AS(check_output_paths({{"-o", dir / "in.json"}}, {dir / "in.json"}),
                       doctest::Contains("same device and inode"), InputError);
  // Another name for the same file: a hard link, or a path through "..".
  fs::create_hard_link(dir / "in.json", dir / "link.json");
  CHECK_THROWS_AS(check_output_paths({{"-o", dir / "link.json"}}, {dir / "in.json"}), InputError);
  fs::create_directory(dir / "sub");
  CHECK_THROWS_AS(check_output_paths({{"-o", dir / "sub/../in.json"}}, {dir / "in.json"}), InputError);
  // Two outputs to one file, an output that is a folder, an output in a missing folder.
  CHECK_THROWS_WITH_AS(check_output_paths({{"-o", dir / "x"}, {"--model-out", dir / "sub/../x"}}, {}),
                       doctest::Contains("also the output of -o"), InputError);
  CHECK_THROWS_WITH_AS(check_output_paths({{"-o", dir / "sub"}}, {}), doctest::Contains("is a folder"), InputError);
  CHECK_THROWS_WITH_AS(check_output_paths({{"-o", dir / "nope/x"}}, {}), doctest::Contains("not an existing folder"),
                       InputError);
}

TEST_CASE("atomic_file::an existing target that is not a regular file is refused, never replaced") {
  // `--verdict-out /dev/null` run as root renamed a regular file over the device /dev/null (found
  // during this session: /dev/null became a regular file). A FIFO stands for any special file.
  TempDir dir;
  const std::string fifo = dir / "pipe";
  REQUIRE(mkfifo(fifo.c_str(), 0644) == 0);
  CHECK_THROWS_WITH_AS(check_output_paths({{"--verdict-out", fifo}}, {}), doctest::Contains("not a regular file"),
                       InputError);
  CHECK_THROWS_WITH_AS(write_file_atomically(fifo, "{}"), doctest::Contains("not a regular file"), std::runtime_error);
  struct stat st {};
  REQUIRE(stat(fifo.c_str(), &st) == 0);
  CHECK(S_ISFIFO(st.st_mode));    // still the pipe
  CHECK(dir.listing() == "pipe");  // no temporary left behind
}

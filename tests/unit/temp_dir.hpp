// A test's scratch directory under the system's temporary directory
// (TMPDIR), removed with everything in it when the object goes.
#pragma once

#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace rampart::test {

class TempDir {
  public:
    // `stem` names the test in the directory's name.
    explicit TempDir(const std::string& stem)
    {
        static std::atomic<int> counter{0};
        d_root = std::filesystem::temp_directory_path() /
                 ("rampart-" + stem + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::filesystem::remove_all(d_root);
        std::filesystem::create_directories(d_root);
    }
    ~TempDir()
    {
        std::error_code ec;
        std::filesystem::remove_all(d_root, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    const std::filesystem::path& root() const { return d_root; }
    std::string path(const std::string& rel) const { return (d_root / rel).string(); }
    // Writes `content` to `rel` (its directories made); returns its path.
    std::string write(const std::string& rel, const std::string& content) const
    {
        const std::filesystem::path p = d_root / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
        return p.string();
    }

  private:
    std::filesystem::path d_root;
};

} // namespace rampart::test

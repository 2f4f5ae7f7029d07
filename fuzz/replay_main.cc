// Runs a fuzz target over files and directories of inputs without libFuzzer, so the seed
// corpora (and every crash ever found, once added to them) are replayed by `make test`
// with any compiler.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void run_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}
}  // namespace

int main(int argc, char** argv) {
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& entry : std::filesystem::recursive_directory_iterator(p)) {
        if (!entry.is_regular_file()) continue;
        run_file(entry.path());
        ++count;
      }
    } else if (std::filesystem::exists(p)) {
      run_file(p);
      ++count;
    } else {
      fprintf(stderr, "replay: %s does not exist\n", argv[i]);
      return 2;
    }
  }
  printf("replayed %zu input(s)\n", count);
  return count > 0 ? 0 : 1;
}

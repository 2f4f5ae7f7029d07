#include "cache/disk_tier.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ballast::cache {

namespace {

constexpr std::string_view kMagic = "BALLAST-CACHE 1\n";  // 16 bytes
constexpr size_t kPrefix = 16 + 8;                        // magic, then the head's length

void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void put_str(std::string& out, std::string_view s) {
  put_u64(out, s.size());
  out.append(s);
}

// Reads what put_u64 and put_str wrote; any overrun makes it not ok.
struct Reader {
  std::string_view in;
  bool ok = true;
  uint64_t u64() {
    if (in.size() < 8) {
      ok = false;
      return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v |= uint64_t{static_cast<unsigned char>(in[i])} << (8 * i);
    in.remove_prefix(8);
    return v;
  }
  std::string str() {
    uint64_t n = u64();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    std::string s(in.substr(0, n));
    in.remove_prefix(n);
    return s;
  }
  std::vector<std::string> strs() {
    uint64_t n = u64();
    std::vector<std::string> out;
    for (uint64_t i = 0; ok && i < n && i < 4096; ++i) out.push_back(str());
    if (n >= 4096) ok = false;
    return out;
  }
};

// What a file's head says, and where its body starts.
struct Head {
  Object::Parts parts;
  int64_t age_value = 0, request_time = 0, response_time = 0;
  uint64_t body_length = 0;
};

std::string encode_head(const Object& o) {
  std::string h;
  put_str(h, o.key());
  put_str(h, o.url());
  put_str(h, o.variant());
  put_str(h, o.head().reason);
  put_str(h, o.fields());
  put_u64(h, static_cast<uint64_t>(o.head().status));
  put_u64(h, o.vary().size());
  for (const auto& v : o.vary()) put_str(h, v);
  put_u64(h, o.tags().size());
  for (const auto& t : o.tags()) put_str(h, t);
  put_u64(h, static_cast<uint64_t>(o.freshness().age_value));
  put_u64(h, static_cast<uint64_t>(o.freshness().request_time));
  put_u64(h, static_cast<uint64_t>(o.freshness().response_time));
  put_u64(h, o.body().size());
  return h;
}

bool decode_head(std::string_view text, Head* out) {
  Reader r{text};
  out->parts.key = r.str();
  out->parts.url = r.str();
  out->parts.variant = r.str();
  out->parts.reason = r.str();
  out->parts.fields = r.str();
  out->parts.status = static_cast<int>(r.u64());
  out->parts.vary = r.strs();
  out->parts.tags = r.strs();
  out->age_value = static_cast<int64_t>(r.u64());
  out->request_time = static_cast<int64_t>(r.u64());
  out->response_time = static_cast<int64_t>(r.u64());
  out->body_length = r.u64();
  return r.ok && r.in.empty() && out->parts.status >= 100 && out->parts.status < 600;
}

bool read_exactly(int fd, char* p, size_t n) {
  while (n > 0) {
    ssize_t got = ::read(fd, p, n);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    p += got;
    n -= static_cast<size_t>(got);
  }
  return true;
}

// Reads a file's head (and, with `body`, its body); false when it is not a whole cache file.
bool read_file(const std::string& path, Head* head, std::string* body, uint64_t* file_size) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  struct stat st {};
  char prefix[kPrefix];
  bool ok = ::fstat(fd, &st) == 0 && read_exactly(fd, prefix, kPrefix) &&
            std::string_view(prefix, 16) == kMagic;
  std::string text;
  if (ok) {
    Reader r{std::string_view(prefix + 16, 8)};
    uint64_t head_length = r.u64();
    ok = head_length <= static_cast<uint64_t>(st.st_size) && head_length < (uint64_t{1} << 24);
    if (ok) {
      text.resize(head_length);
      ok = read_exactly(fd, text.data(), text.size()) && decode_head(text, head) &&
           kPrefix + head_length + head->body_length == static_cast<uint64_t>(st.st_size);
    }
  }
  if (ok && body != nullptr) {
    body->resize(head->body_length);
    ok = read_exactly(fd, body->data(), body->size());
  }
  ::close(fd);
  *file_size = static_cast<uint64_t>(st.st_size);
  return ok;
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::unique_ptr<DiskTier> DiskTier::open(const std::string& dir, uint64_t capacity_bytes,
                                         std::string* error) {
  for (const std::string& d : {dir, dir + "/tmp"}) {
    if (::mkdir(d.c_str(), 0700) != 0 && errno != EEXIST) {
      *error = "cannot create the cache folder " + d + ": " + strerror(errno);
      return nullptr;
    }
  }
  if (::access(dir.c_str(), R_OK | W_OK | X_OK) != 0) {
    *error = "cannot use the cache folder " + dir + ": " + strerror(errno);
    return nullptr;
  }
  std::unique_ptr<DiskTier> tier(new DiskTier(dir, capacity_bytes));
  tier->scan();
  tier->writer_ = std::thread([t = tier.get()] { t->run_writer(); });
  return tier;
}

DiskTier::DiskTier(std::string dir, uint64_t capacity)
    : dir_(std::move(dir)), capacity_(capacity) {}

DiskTier::~DiskTier() {
  {
    core::MutexLock lock(queue_mu_);
    stopping_ = true;
  }
  queue_cv_.notify_all();
  if (writer_.joinable()) writer_.join();
}

void DiskTier::scan() {
  // Files left in tmp/ were being written when the process stopped.
  std::string tmp = dir_ + "/tmp";
  if (DIR* d = ::opendir(tmp.c_str())) {
    while (dirent* e = ::readdir(d)) {
      if (e->d_name[0] != '.') ::unlink((tmp + "/" + e->d_name).c_str());
    }
    ::closedir(d);
  }
  struct Found {
    int64_t mtime;
    Entry entry;
  };
  std::vector<Found> found;
  if (DIR* d = ::opendir(dir_.c_str())) {
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name[0] == '.' || name == "tmp") continue;
      std::string path = dir_ + "/" + name;
      Head head;
      uint64_t size = 0;
      struct stat st {};
      if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      if (!read_file(path, &head, nullptr, &size)) {
        ::unlink(path.c_str());  // not a whole cache file: a crash mid-write, or not ours
        continue;
      }
      found.push_back({static_cast<int64_t>(st.st_mtime),
                       Entry{name, head.parts.key, head.parts.url, head.parts.tags, size}});
    }
    ::closedir(d);
  }
  // Oldest first, so that the newest end at the front of the LRU list.
  std::sort(found.begin(), found.end(),
            [](const Found& a, const Found& b) { return a.mtime < b.mtime; });
  core::MutexLock lock(mu_);
  for (auto& f : found) index_entry(std::move(f.entry));
}

std::string DiskTier::file_name(const Object& object) const {
  char name[40];
  snprintf(name, sizeof(name), "%016llx-%016llx", static_cast<unsigned long long>(object.hash()),
           static_cast<unsigned long long>(std::hash<std::string>{}(object.variant())));
  return name;
}

void DiskTier::index_entry(Entry entry) {
  if (auto it = by_file_.find(entry.file); it != by_file_.end()) {
    // Rewritten under the same name: the old entry goes, not its (new) file.
    Lru::iterator old = it->second;
    bytes_ -= old->bytes;
    auto& positions = by_key_[Object::hash_key(old->key)];
    positions.erase(std::remove(positions.begin(), positions.end(), old), positions.end());
    by_file_.erase(it);
    lru_.erase(old);
  }
  lru_.push_front(std::move(entry));
  Lru::iterator it = lru_.begin();
  by_file_[it->file] = it;
  by_key_[Object::hash_key(it->key)].push_back(it);
  bytes_ += it->bytes;
  while (bytes_ > capacity_ && lru_.size() > 1) {
    unlink_entry(std::prev(lru_.end()));
    ++evictions_;
  }
}

void DiskTier::unlink_entry(Lru::iterator it) {
  ::unlink((dir_ + "/" + it->file).c_str());
  bytes_ -= it->bytes;
  uint64_t hash = Object::hash_key(it->key);
  auto& positions = by_key_[hash];
  positions.erase(std::remove(positions.begin(), positions.end(), it), positions.end());
  if (positions.empty()) by_key_.erase(hash);
  by_file_.erase(it->file);
  lru_.erase(it);
}

void DiskTier::put(ObjectPtr object) {
  {
    core::MutexLock lock(queue_mu_);
    if (queue_.size() >= kMaxQueued) {
      core::MutexLock index(mu_);
      ++write_drops_;
      return;
    }
    queue_.push_back(std::move(object));
  }
  queue_cv_.notify_one();
}

void DiskTier::run_writer() {
  for (;;) {
    ObjectPtr next;
    {
      core::MutexLock lock(queue_mu_);
      while (queue_.empty() && !stopping_) queue_cv_.wait(queue_mu_);
      if (queue_.empty()) return;  // stopping, and every queued write is done
      next = std::move(queue_.front());
      queue_.pop_front();
      ++in_flight_;  // drop() waits for it: it never misses an object between queue and file
    }
    write(*next);
    {
      core::MutexLock lock(queue_mu_);
      --in_flight_;
    }
    queue_cv_.notify_all();
  }
}

void DiskTier::write(const Object& object) {
  std::string name = file_name(object);
  std::string head = encode_head(object);
  std::string prefix(kMagic);
  put_u64(prefix, head.size());
  std::string tmp = dir_ + "/tmp/" + name;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return;
  bool ok = write_all(fd, prefix) && write_all(fd, head) && write_all(fd, object.body());
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), (dir_ + "/" + name).c_str()) != 0) {
    ::unlink(tmp.c_str());
    return;
  }
  core::MutexLock lock(mu_);
  ++writes_;
  index_entry(Entry{name, object.key(), object.url(), object.tags(),
                    kPrefix + head.size() + object.body().size()});
}

ObjectPtr DiskTier::get(std::string_view key, const std::function<bool(const Object&)>& accepts) {
  std::vector<std::string> files;
  {
    core::MutexLock lock(mu_);
    auto it = by_key_.find(Object::hash_key(key));
    if (it == by_key_.end()) return nullptr;
    for (const auto& entry : it->second) {
      if (entry->key == key) files.push_back(entry->file);
    }
  }
  for (const std::string& file : files) {
    Head head;
    std::string body;
    uint64_t size = 0;
    if (!read_file(dir_ + "/" + file, &head, &body, &size) || head.parts.key != key) continue;
    head.parts.body = std::move(body);
    ObjectPtr object = Object::make_updated(std::move(head.parts), head.request_time,
                                            head.response_time, head.age_value);
    if (!accepts(*object)) continue;
    core::MutexLock lock(mu_);
    if (auto it = by_file_.find(file); it != by_file_.end())
      lru_.splice(lru_.begin(), lru_, it->second);
    ++reads_;
    return object;
  }
  return nullptr;
}

size_t DiskTier::drop(const std::function<bool(std::string_view key, std::string_view url,
                                               const std::vector<std::string>& tags)>& matches) {
  // Queued writes that match are cancelled, and the write in progress (if any) is waited for;
  // holding the queue then keeps the writer from starting another until the index is done.
  // Lock order: queue_mu_, then mu_ (as put() takes them).
  core::MutexLock queue(queue_mu_);
  queue_.erase(
      std::remove_if(queue_.begin(), queue_.end(),
                     [&](const ObjectPtr& o) { return matches(o->key(), o->url(), o->tags()); }),
      queue_.end());
  while (in_flight_ > 0) queue_cv_.wait(queue_mu_);
  core::MutexLock lock(mu_);
  size_t dropped = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (matches(it->key, it->url, it->tags)) {
      unlink_entry(it);
      ++dropped;
    }
    it = next;
  }
  return dropped;
}

DiskTier::Totals DiskTier::totals() const {
  core::MutexLock lock(mu_);
  return Totals{lru_.size(), bytes_, reads_, writes_, write_drops_, evictions_};
}

void DiskTier::flush() {
  core::MutexLock lock(queue_mu_);
  while (!queue_.empty() || in_flight_ > 0) queue_cv_.wait(queue_mu_);
}

}  // namespace ballast::cache

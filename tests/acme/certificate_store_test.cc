#include "acme/certificate_store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "acme/jose.h"
#include "support/test_env.h"

namespace ballast::acme {
namespace {

TEST(CertificateStoreTest, KeepsEachCaApartAndEachListenerByItsFirstName) {
  Settings s;
  s.storage = "/var/lib/ballast/acme";
  s.directory = "https://acme-staging-v02.api.letsencrypt.org/directory";
  s.names = {"www.example.com", "example.com"};
  StorePaths p = store_paths(s);
  EXPECT_EQ(p.account_key,
            "/var/lib/ballast/acme/acme-staging-v02.api.letsencrypt.org_directory/account.key");
  EXPECT_EQ(p.certificate,
            "/var/lib/ballast/acme/acme-staging-v02.api.letsencrypt.org_directory/"
            "www.example.com.pem");
  s.directory = "https://localhost:14000/dir/";
  EXPECT_EQ(store_paths(s).account_key, "/var/lib/ballast/acme/localhost_14000_dir/account.key");
}

TEST(CertificateStoreTest, TheAccountKeyIsMadeOnceAndReadableByItsOwnerOnly) {
  std::string dir = test::make_temp_dir();
  std::string path = dir + "/ca/account.key";
  tls::PkeyPtr made = load_or_create_account_key(path);
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  tls::PkeyPtr read = load_or_create_account_key(path);
  EXPECT_EQ(jwk_thumbprint(read.get()), jwk_thumbprint(made.get()));
  // A file that holds no key is an error, never silently replaced (the account would be lost).
  test::write_file(path, "garbage");
  EXPECT_THROW(load_or_create_account_key(path), tls::Error);
}

TEST(CertificateStoreTest, ReplacesFilesWhole) {
  std::string dir = test::make_temp_dir();
  std::string path = dir + "/a/b/cert.pem";
  write_file_atomically(path, "first", 0600);
  write_file_atomically(path, "second", 0600);
  EXPECT_EQ(test::read_file(path), "second");
  EXPECT_FALSE(std::filesystem::exists(path + ".new"));
  EXPECT_THROW(write_file_atomically("/proc/no/such/dir/file", "x", 0600), tls::Error);
}

}  // namespace
}  // namespace ballast::acme

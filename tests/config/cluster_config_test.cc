#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "config/config_loader.h"
#include "errors_text.h"

namespace ballast::config {
namespace {

const char* kNode = R"(admin: { bind: 127.0.0.1:9901 }
cluster:
  node: lb-1
  zone: a
  address: 127.0.0.11
  etcd: { endpoints: [http://127.0.0.1:2379, http://127.0.0.2:2379], prefix: /web, timeout: 1s }
)";

const char* kShared = R"(listeners:
  - name: web
    bind: 0.0.0.0:8080
    rules: [ { forward: { target_group: app } } ]
target_groups:
  - name: app
    targets: [ { address: 127.0.0.1:9001 } ]
)";

TEST(ClusterConfigTest, ANodeFileAloneNamesItsClusterAndServesNothingYet) {
  LoadResult r = load_config_string(kNode, "node.yaml");
  ASSERT_TRUE(r.config) << errors_of(r);
  const ClusterConfig& c = r.config->cluster;
  EXPECT_TRUE(c.enabled);
  EXPECT_EQ(c.node, "lb-1");
  EXPECT_EQ(c.zone, "a");
  EXPECT_EQ(c.etcd.endpoints.size(), 2u);
  EXPECT_EQ(c.prefix, "/web");
  EXPECT_EQ(c.etcd_timeout_ms, 1000);
  EXPECT_EQ(c.state_dir, "/var/lib/ballast/lb-1");  // a folder per node name
  EXPECT_TRUE(r.config->listeners.empty());
}

TEST(ClusterConfigTest, TheNodeFileAndTheSharedOneMakeOneConfiguration) {
  LoadResult r = load_node_config(kNode, "node.yaml", kShared, "etcd:/web/config@7");
  ASSERT_TRUE(r.config) << errors_of(r);
  ASSERT_EQ(r.config->listeners.size(), 1u);
  // The open host becomes the node's address.
  EXPECT_EQ(r.config->listeners[0].bind.to_string(), "127.0.0.11:8080");
  EXPECT_EQ(r.config->admin.bind.to_string(), "127.0.0.1:9901");
}

TEST(ClusterConfigTest, ErrorsPointAtTheDocumentTheyAreIn) {
  std::string shared = std::string(kShared) + "    algorithm: fastest\n";
  LoadResult r = load_node_config(std::string(kNode) + "workers: none\n", "node.yaml", shared,
                                  "etcd:/web/config@7");
  ASSERT_FALSE(r.config);
  std::string text = errors_of(r);
  EXPECT_NE(text.find("etcd:/web/config@7:8:16: target_groups[0].algorithm"), std::string::npos)
      << text;
  EXPECT_NE(text.find("node.yaml:7:"), std::string::npos) << text;
}

TEST(ClusterConfigTest, EachSectionBelongsToOneOfTheTwoFiles) {
  LoadResult node = load_config_string(std::string(kNode) + kShared, "node.yaml");
  ASSERT_FALSE(node.config);
  EXPECT_NE(errors_of(node).find(
                "node.yaml:7:1: listeners: a node of a cluster takes listeners from etcd"),
            std::string::npos)
      << errors_of(node);
  LoadResult shared = check_shared_config(std::string("workers: 2\n") + kShared, "shared.yaml");
  ASSERT_FALSE(shared.config);
  EXPECT_NE(errors_of(shared).find("shared.yaml:1:1: workers: workers belongs to each "),
            std::string::npos)
      << errors_of(shared);
  EXPECT_TRUE(check_shared_config(kShared, "shared.yaml").config);
}

TEST(ClusterConfigTest, BadClusterSettingsAreErrorsAtTheirLines) {
  LoadResult r = load_config_string(R"(cluster:
  node: LB 1
  address: nowhere
  state_dir: relative/dir
  etcd: { endpoints: [https://127.0.0.1:2379, "http://127.0.0.1:2379/v3"], prefix: /trailing/ }
)",
                                    "node.yaml");
  ASSERT_FALSE(r.config);
  std::string text = errors_of(r);
  EXPECT_NE(text.find("node.yaml:2:9: cluster.node: \"LB 1\": a node name is"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cluster.address: \"nowhere\" is not an IP address"), std::string::npos);
  EXPECT_NE(text.find("cluster.state_dir: must be an absolute path"), std::string::npos);
  EXPECT_NE(text.find("cluster.etcd.endpoints[1]: an etcd endpoint is http[s]://HOST:PORT"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cluster.etcd.prefix: \"/trailing/\""), std::string::npos);
  LoadResult no_etcd = load_config_string("cluster: { node: a }\n", "node.yaml");
  ASSERT_FALSE(no_etcd.config);
  EXPECT_NE(errors_of(no_etcd).find("a cluster needs its etcd"), std::string::npos);
}

}  // namespace
TEST(ClusterConfigTest, ASecuredEtcdTakesTlsAndAUserAndSaysWhatIsWrong) {
  std::string dir = ::testing::TempDir();
  std::string password = dir + "/etcd-password";
  {
    std::ofstream(password) << "s3cret\n";
    std::ofstream(dir + "/empty-password") << "";
  }
  LoadResult ok = load_config_string(
      "cluster:\n  node: a\n  etcd:\n    endpoints: [https://127.0.0.1:2379]\n"
      "    username: ballast\n    password_file: " +
          password + "\n",
      "node.yaml");
  ASSERT_TRUE(ok.config) << errors_of(ok);
  EXPECT_TRUE(ok.config->cluster.etcd.https());
  EXPECT_EQ(ok.config->cluster.etcd.username, "ballast");
  EXPECT_EQ(ok.config->cluster.etcd.password, "s3cret") << "the first line, without its newline";

  LoadResult bad = load_config_string(
      "cluster:\n  node: a\n  etcd:\n"
      "    endpoints: [https://127.0.0.1:2379, http://127.0.0.2:2379]\n"
      "    tls: { ca: /nonexistent/ca.pem, cert: /nonexistent/client.pem }\n"
      "    username: ballast\n    password_file: " +
          dir + "/empty-password\n",
      "node.yaml");
  ASSERT_FALSE(bad.config);
  std::string text = errors_of(bad);
  EXPECT_NE(text.find("node.yaml:4:41: cluster.etcd.endpoints[1]: mixes http:// and https://"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cluster.etcd.tls: a client certificate needs both cert and key"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cluster.etcd.password_file: \"" + dir + "/empty-password\" is empty"),
            std::string::npos)
      << text;

  LoadResult plain = load_config_string(
      "cluster:\n  node: a\n  etcd:\n    endpoints: [http://127.0.0.1:2379]\n"
      "    tls: { ca: /nonexistent/ca.pem }\n    username: ballast\n",
      "node.yaml");
  ASSERT_FALSE(plain.config);
  text = errors_of(plain);
  EXPECT_NE(text.find("cluster.etcd.tls: tls is for https:// endpoints"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cluster.etcd.password_file: etcd's authentication needs both"),
            std::string::npos)
      << text;

  LoadResult missing_ca = load_config_string(
      "cluster:\n  node: a\n  etcd:\n    endpoints: [https://127.0.0.1:2379]\n"
      "    tls: { ca: /nonexistent/ca.pem }\n",
      "node.yaml");
  ASSERT_FALSE(missing_ca.config);
  EXPECT_NE(errors_of(missing_ca).find("/nonexistent/ca.pem"), std::string::npos)
      << errors_of(missing_ca);
}

}  // namespace ballast::config

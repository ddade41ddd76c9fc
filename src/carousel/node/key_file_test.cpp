// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "key_file.hpp"

#include <fstream>

#include <gtest/gtest.h>

#include <carousel/core/hex.hpp>
#include <carousel/testing/temp_dir.hpp>

#include <sys/stat.h>

namespace carousel::node {
namespace {

TEST(KeyFile, CreatesOnceThenLoadsTheSameKey) {
    const store::TempDir dir{"carousel-key-"};
    const auto path = dir.path() / "node.key";
    const auto made = load_or_create_key(path);
    ASSERT_TRUE(made) << made.error();
    const auto again = load_or_create_key(path);
    ASSERT_TRUE(again) << again.error();
    EXPECT_EQ(again->node_id, made->node_id);
    EXPECT_EQ(load_key(path)->public_key, made->public_key);
    struct stat st {};
    ASSERT_EQ(::stat(path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u);  // a secret: the owner's only
    // Two new keys differ (random, not derived from anything).
    const auto other = load_or_create_key(dir.path() / "other.key");
    ASSERT_TRUE(other);
    EXPECT_NE(other->node_id, made->node_id);
}

TEST(KeyFile, ReadsGethsNodekeyFormAndNamesBadFiles) {
    const store::TempDir dir{"carousel-key-"};
    const auto path = dir.path() / "nodekey";
    // EIP-778's example key, as geth writes a nodekey (hex, no prefix, no newline) and with both.
    const std::string secret = "b71c71a67e1177ad4e901695e1b4b9ee17ae16c6668d313eac2f96dbcda3f291";
    for (const std::string& text : {secret, "0x" + secret + "\n"}) {
        std::ofstream{path, std::ios::trunc} << text;
        const auto key = load_key(path);
        ASSERT_TRUE(key) << key.error();
        EXPECT_EQ(to_hex(view(key->node_id)), "a448f24c6d18e575453db13171562b71999873db5b286df957af199ec94617f7");
    }
    for (const std::string& bad :
         {std::string{}, secret.substr(2), "zz" + secret.substr(2), std::string(64, '0'), std::string(300, 'a')}) {
        std::ofstream{path, std::ios::trunc} << bad;
        const auto key = load_key(path);
        ASSERT_FALSE(key) << bad;
        EXPECT_NE(key.error().find(path.string()), std::string::npos) << key.error();
    }
    EXPECT_FALSE(load_key(dir.path() / "absent"));
    EXPECT_FALSE(load_or_create_key(dir.path() / "no-such-dir" / "node.key"));
}

}  // namespace
}  // namespace carousel::node

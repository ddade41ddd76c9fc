// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors
#include "status.hpp"

#include <set>
#include <string>
#include <utility>

#include <gtest/gtest.h>

namespace carousel {
namespace {

TEST(Status, DefaultIsOk) {
    const Status s;
    EXPECT_TRUE(s.ok());
    EXPECT_FALSE(s.is_not_found());
    EXPECT_EQ(s.code(), Status::Code::kOk);
    EXPECT_EQ(s.message(), "");
    EXPECT_EQ(s.to_string(), "OK");
}

TEST(Status, FactoriesSetTheirCode) {
    EXPECT_TRUE(Status::not_found().is_not_found());
    EXPECT_TRUE(Status::corruption("x").is_corruption());
    EXPECT_TRUE(Status::not_supported("x").is_not_supported());
    EXPECT_TRUE(Status::invalid_argument("x").is_invalid_argument());
    EXPECT_TRUE(Status::io_error("x").is_io_error());
    EXPECT_FALSE(Status::corruption("x").ok());
    EXPECT_EQ(Status::corruption("/db: bad block").to_string(), "Corruption: /db: bad block");
    EXPECT_EQ(Status::corruption("/db: bad block").message(), "/db: bad block");
    EXPECT_EQ(Status::not_found().to_string(), "NotFound");
    EXPECT_EQ(Status::io_error("x"), Status::io_error("x"));
    EXPECT_NE(Status::io_error("x"), Status::corruption("x"));
}

// Each factory sets exactly one predicate, and the codes' names are the documented ones.
TEST(Status, EachCodeHasOnePredicateAndItsName) {
    struct Case {
        Status status;
        Status::Code code;
        std::string_view name;
    };
    const Case cases[] = {
        {Status{}, Status::Code::kOk, "OK"},
        {Status::not_found("k"), Status::Code::kNotFound, "NotFound"},
        {Status::corruption("k"), Status::Code::kCorruption, "Corruption"},
        {Status::not_supported("k"), Status::Code::kNotSupported, "NotSupported"},
        {Status::invalid_argument("k"), Status::Code::kInvalidArgument, "InvalidArgument"},
        {Status::io_error("k"), Status::Code::kIOError, "IOError"},
    };
    std::set<std::string_view> names;
    for (const Case& c : cases) {
        const Status& s = c.status;
        EXPECT_EQ(s.code(), c.code);
        EXPECT_EQ(to_string(c.code), c.name);
        names.insert(to_string(c.code));
        const int predicates = int{s.ok()} + int{s.is_not_found()} + int{s.is_corruption()} +
                               int{s.is_not_supported()} + int{s.is_invalid_argument()} + int{s.is_io_error()};
        EXPECT_EQ(predicates, 1) << c.name;
        if (!s.ok()) {
            EXPECT_EQ(s.to_string(), std::string{c.name} + ": k");
        }
    }
    EXPECT_EQ(names.size(), std::size(cases));
    EXPECT_EQ(to_string(static_cast<Status::Code>(200)), "Unknown");
}

TEST(Status, EqualityComparesCodeAndMessage) {
    EXPECT_EQ(Status{}, Status{});
    EXPECT_NE(Status::not_found(), Status{});
    EXPECT_NE(Status::not_found("a"), Status::not_found());
    EXPECT_NE(Status::corruption("a"), Status::corruption("b"));
    EXPECT_EQ(Status::not_found(), Status::not_found(""));
}

TEST(Status, AnErrorWithoutAMessagePrintsOnlyItsCode) {
    EXPECT_EQ(Status::io_error("").to_string(), "IOError");
    EXPECT_EQ(Status::not_found("key 0x01").to_string(), "NotFound: key 0x01");
}

TEST(Status, CopiesAndMovesKeepCodeAndMessage) {
    const Status original = Status::corruption("column trie_nodes: damaged");
    Status copy = original;
    EXPECT_EQ(copy, original);
    Status moved = std::move(copy);
    EXPECT_EQ(moved, original);
    moved = Status{};
    EXPECT_TRUE(moved.ok());
    EXPECT_EQ(moved.message(), "");
    EXPECT_TRUE(original.is_corruption());
}

}  // namespace
}  // namespace carousel

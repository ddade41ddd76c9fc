// SPDX-License-Identifier: Apache-2.0
// Copyright 2026 The carousel Authors

#include "address.hpp"

#include <gtest/gtest.h>

namespace carousel::proto {
namespace {

TEST(Address, PrintsAndParsesDottedDecimal) {
    const Address a{{127, 0, 0, 1}, 30303};
    EXPECT_EQ(to_string(a), "127.0.0.1:30303");
    EXPECT_EQ(parse_address("127.0.0.1:30303"), a);
    EXPECT_EQ(parse_address("255.255.255.255:65535"), (Address{{255, 255, 255, 255}, 65535}));
    EXPECT_EQ(parse_address("0.0.0.0:1"), (Address{{0, 0, 0, 0}, 1}));
}

TEST(Address, RefusesWhatIsNotAnIpv4AddressAndPort) {
    for (const char* bad : {"", ":", "127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0:30303",
                            "127.0.0.1.5:30303", "256.0.0.1:30303", "01.0.0.1:30303", "1..0.1:30303", "a.b.c.d:30303",
                            "127.0.0.1:+30", "127.0.0.1:3 0", "[::1]:30303", "-1.0.0.1:30303", "1.2.3.4.:30303"}) {
        EXPECT_FALSE(parse_address(bad)) << bad;
    }
}

}  // namespace
}  // namespace carousel::proto
